"""Every notebook takes its language from one setting, LLM_EXPLORER_LANG, read once in its first
code cell, and imports lessons by the current module paths. (That each one runs top to bottom
in both languages is tests/test_notebooks.py, run with LLM_EXPLORER_LANG=en and =zh.)"""
import io
import re
import tokenize
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SETTING = 'LANG = os.environ.get("LLM_EXPLORER_LANG", "en")'


def code_cells(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def string_literals(source: str) -> list[str]:
    return [tok.string for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type == tokenize.STRING]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_language_comes_from_one_setting(path):
    cells = code_cells(path)
    first = cells[0]
    assert SETTING in first and "import os" in first
    assert "LLM_EXPLORER_LANG=zh" in first                 # the cell says how to change it
    assignments = [line for cell in cells for line in cell.splitlines()
                   if re.match(r"\s*LANG\s*=", line)]
    assert assignments == [SETTING]
    # no figure or text call hard-codes a language: "en" appears only in the setting itself
    literals = [s for cell in cells for s in string_literals(cell)]
    assert [s for s in literals if s.strip("\"'") in ("en", "zh")] == ['"en"']


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_current_module_paths(path):
    text = path.read_text("utf-8")
    old = r"lessons[./](embeddings|attention|softmax|tokenization|training|model|config|tokenizer|" \
          r"checkpoint|corpus|decoding|worked_examples|bpe_replay|bertviz)\b"
    assert not re.search(old, text), re.search(old, text)
