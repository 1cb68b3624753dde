"""The same worked number reads the same everywhere: the embeddings, attention and softmax pages
and every notebook show, for each row, the one verdict lessons/worked_numbers.py gives it, in the
page's language, and no verdict of their own.

Pages run in AppTest. Of a notebook, its first code cell (imports and LANG) and every cell that
shows a worked number run in this process, and what they print is read back line by line.
"""
import contextlib
import io
import re
from pathlib import Path

import nbformat
import pytest

from lessons import worked_numbers as wn
from lessons.i18n import t
from tests.conftest import open_view

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
LANGS = ["en", "zh"]


def verdicts_in(text: str, lang: str) -> list[str]:
    """Every verdict label in the text, in order: ['✗ wrong', '✓ right', ...]."""
    labels = sorted((v.label(lang) for v in wn.VERDICTS.values()), key=len, reverse=True)
    return re.findall("|".join(map(re.escape, labels)), text)


def alerts(at) -> dict[str, list[str]]:
    return {tone: [element.value for element in getattr(at, tone)]
            for tone in ("success", "error", "warning", "info")}


def labels_of(*row_ids, lang):
    return [wn.worked_number(row_id).label(lang) for row_id in row_ids]


# ---- pages ------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_embeddings_page_shows_the_rows_verdict(lang):
    at = open_view("embeddings", lang)
    assert not at.exception, [e.value for e in at.exception]
    row = wn.worked_number("embedding")
    shown = alerts(at)
    assert [v for texts in shown.values() for text in texts for v in verdicts_in(text, lang)] \
        == labels_of("embedding", lang=lang)
    assert any(row.label(lang) in text for text in shown[row.tone])     # framed by its tone


@pytest.mark.parametrize("lang", LANGS)
def test_attention_page_shows_both_rows_verdicts(lang):
    at = open_view("attention", lang)
    assert not at.exception, [e.value for e in at.exception]
    shown = alerts(at)
    assert [v for texts in shown.values() for text in texts for v in verdicts_in(text, lang)] \
        == labels_of("attention_scores", "attention_weights", lang=lang)
    rows = [wn.worked_number("attention_scores"), wn.worked_number("attention_weights")]
    tone = wn.VERDICTS[wn.worst_verdict(rows)].tone
    assert any(rows[1].label(lang) in text for text in shown[tone])
    body = " ".join(m.value for m in at.markdown)
    assert rows[1].document_text(lang) in body                         # the printed [0.33, ...]


@pytest.mark.parametrize("lang", LANGS)
def test_softmax_page_table_shows_every_rows_verdict(lang):
    at = open_view("softmax", lang)
    assert not at.exception, [e.value for e in at.exception]
    everything = labels_of(*wn.ROWS, lang=lang)
    table = at.table[-1].value          # a static table: each row's full why, wrapped
    assert list(table[t("worked_numbers.col_verdict", lang)]) == everything
    assert not [v for texts in alerts(at).values() for text in texts for v in verdicts_in(text, lang)]


# ---- notebooks ----------------------------------------------------------------------------------

def shows_worked_numbers(source: str) -> bool:
    return "wn." in source or "show(" in source


def run_worked_cells(path: Path, lang: str, monkeypatch) -> str:
    """Run the notebook's first code cell and its worked-number cells here; return their output."""
    monkeypatch.setenv("LLM_EXPLORER_LANG", lang)
    code = [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    namespace, printed = {"__name__": "__notebook__"}, io.StringIO()
    with contextlib.redirect_stdout(printed):
        for source in [code[0]] + [s for s in code[1:] if shows_worked_numbers(s)]:
            exec(compile(source, f"{path.name}", "exec"), namespace)
    assert namespace["LANG"] == lang
    return printed.getvalue()


def row_named_on(line: str, lang: str):
    """The row whose source and 'what' the line names (the longest such name), or None."""
    named = [row for row in wn.worked_numbers() if row.source in line and row.what(lang) in line]
    return max(named, key=lambda row: len(row.what(lang)), default=None)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_prints_each_rows_own_verdict(path, lang, monkeypatch):
    lines = run_worked_cells(path, lang, monkeypatch).splitlines()
    seen = set()
    for i, line in enumerate(lines):
        for verdict in verdicts_in(line, lang):
            # a verdict stands on the line that names its row (a table, errors_summary()),
            # or on the line after it (describe())
            row = row_named_on(line, lang) or (row_named_on(lines[i - 1], lang) if i else None)
            assert row is not None, f"a verdict of no row: {line!r}"
            assert verdict == row.label(lang), (row.id, line)
            seen.add(row.id)
    expected = {"00_worked_numbers.ipynb": set(wn.ROWS),
                "02_embeddings.ipynb": {"embedding"},
                "03_attention.ipynb": {"attention_scores", "attention_weights"},
                "06_forward_pass.ipynb": {"next_word_document", "next_word_fixed"},
                "05_softmax_cross_entropy.ipynb": {"output_probs", "mse", "ce_nats", "ce_bits", "ce_log10"},
                "08_evaluation.ipynb": {"accuracy_toy", "recall_toy", "f1_toy", "perplexity_toy",
                                        "bleu_toy"}}
    assert seen == expected.get(path.name, set())


def test_no_page_or_notebook_has_a_verdict_of_its_own():
    """The old words are gone and nothing compares the document's digits by itself."""
    sources = {p.name: p.read_text("utf-8") for p in (ROOT / "app" / "views").glob("*.py")}
    for path in NOTEBOOKS:
        sources[path.name] = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                                       if c.cell_type == "code")
    for name, source in sources.items():
        assert not re.search(r"""["'](slip|matches|right to rounding)["']""", source), name
        assert "document_worked_example" not in source and "document_attention_example" not in source, name
