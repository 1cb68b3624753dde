"""The digits in lessons/worked_numbers.py are the document's own: read back from the five posts
in shared/seeds/ (skipped where the seeds are not beside the repository)."""
import re
from pathlib import Path

import pytest

from lessons import worked_numbers as wn

SEEDS = Path(__file__).resolve().parents[3].parent / "shared" / "seeds"
pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason="the source document is not here")


def section(post: str, number: str) -> str:
    """The text of '#### <number> ...' up to the next numbered heading."""
    text = next(SEEDS.glob(f"{post}_*.txt")).read_text("utf-8")
    start = re.search(rf"(?m)^#+ {re.escape(number)}\b.*$", text).end()
    end = re.compile(r"(?m)^#{1,4} \d").search(text, start)   # code comments start with "# " too
    return text[start:end.start() if end else len(text)]


def equations(text: str) -> list[str]:
    return re.findall(r"\$\$(.*?)\$\$", text, flags=re.S)


def matrices(equation: str) -> list[tuple]:
    """Every bmatrix in order: a column vector as a tuple of strings, a matrix as rows."""
    found = []
    for body in re.findall(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", equation, flags=re.S):
        rows = [tuple(e.strip() for e in row.split("&")) for row in body.split(r"\\") if row.strip()]
        found.append(tuple(r[0] for r in rows) if all(len(r) == 1 for r in rows) else tuple(rows))
    return found


def as_ints(matrix) -> tuple:
    return tuple(tuple(int(e) for e in row) for row in matrix)


def test_embedding_section_3_3_1():
    setup, worked = equations(section("004", "3.3.1"))
    assert as_ints(matrices(setup)[0]) == wn.EMBEDDING_MATRIX
    W, x, printed = matrices(worked)
    assert as_ints(W) == wn.EMBEDDING_MATRIX
    assert tuple(int(e) for e in x) == wn.HELLO_ONE_HOT
    assert printed == wn.PRINTED_EMBEDDING


def test_layer_section_3_3_2():
    weights, bias, worked = equations(section("004", "3.3.2"))
    assert as_ints(matrices(weights)[0]) == wn.LAYER_WEIGHTS
    assert tuple(int(e) for e in matrices(bias)[0]) == wn.LAYER_BIAS
    W, embedding, b, pre_activation, output = matrices(worked)
    assert embedding == wn.PRINTED_EMBEDDING          # it carries its own 3.3.1 value on
    assert pre_activation == wn.PRINTED_PRE_ACTIVATION
    assert output == wn.PRINTED_OUTPUT


def test_attention_section_3_3_3():
    w_a, h_t, scores, weights = equations(section("004", "3.3.3"))
    assert as_ints(matrices(w_a)[0]) == wn.ATTENTION_MATRIX
    assert tuple(int(e) for e in matrices(h_t)[0]) == wn.HIDDEN_STATE
    assert matrices(scores)[-1] == wn.PRINTED_SCORES
    assert matrices(weights)[-1] == wn.PRINTED_ATTENTION


def test_loss_section_3_3_4():
    prediction, target, mse, cross_entropy = equations(section("004", "3.3.4"))
    assert tuple(float(e) for e in matrices(prediction)[0]) == wn.PREDICTION
    assert tuple(float(e) for e in matrices(target)[0]) == wn.TARGET
    assert (mse.rsplit("=", 1)[1].strip(),) == wn.PRINTED_MSE
    assert (cross_entropy.rsplit("=", 1)[1].strip(),) == wn.PRINTED_CROSS_ENTROPY


def test_cat_sentence_and_its_six_words_003():
    text = section("003", "4.3")
    assert f'"{wn.CAT_SENTENCE}"' in text and "六个单词" in text and wn.PRINTED_CAT_WORDS == ("6",)


def test_transformer_and_dense_settings():
    transformer = next(SEEDS.glob("000_*.txt")).read_text("utf-8")
    settings = ", ".join(f"{k}={v}" for k, v in wn.TRANSFORMER.items())
    assert f"Transformer({settings}, num_classes=10)" in transformer
    code = section("004", "4.2")
    widths = [int(w) for w in re.findall(r"Dense\((\d+)", code)]
    assert "input_shape=(3,)" in code and tuple([3, *widths]) == wn.MLP_WIDTHS
