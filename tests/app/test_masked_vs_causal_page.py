"""The BERT-and-GPT page in AppTest, en and zh: both models' heatmaps (the causal one's upper
triangle empty), the fill-in reading equal to compute's, a missing blank said, unmasking
rounds, and the learner's own masked model taking the masked side."""
import pytest

from lessons.concepts.masked_vs_causal import compute as M
from lessons.engine.checkpoint import load_shipped_model
from lessons.engine.corpus import builtin_text
from lessons.i18n import t
from tests.helpers import open_view


def ok(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def text(at):
    return " ".join(m.value for m in at.markdown)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_on_the_shipped_models(lang):
    at = open_view("masked_vs_causal", lang)
    ok(at)
    assert at.title[0].value == t("masked_vs_causal.title", lang)
    masked, causal = load_shipped_model("masked"), load_shipped_model("classroom")
    left, right = M.split_blank(t("masked_vs_causal.blank_default", lang))
    first = M.fill_in_masked(masked, left, right)[0]
    assert f"**{first.token}**" in text(at)
    rounds = M.unmask_iteratively(masked, t("masked_vs_causal.prompt_default", lang), 24, 0, 2, "surest")
    assert at.slider(key="mvc_round").max == len(rounds) - 1
    at.slider(key="mvc_round").set_value(0).run()
    assert rounds[0] in [c.value for c in at.code]
    assert "[MASK]" in rounds[0]
    scores = M.accuracy_scores(masked, causal, builtin_text("python_reference"), 60)
    assert f"{scores['masked']:.1%}" in text(at)


def test_a_sentence_without_a_blank_is_said():
    at = open_view("masked_vs_causal", "zh")
    at.text_input(key="mvc_blank").set_value("没有空缺").run()
    ok(at)
    assert any(t("masked_vs_causal.blank_missing", "zh") == i.value for i in at.info)


def test_the_learners_masked_model_takes_the_masked_side():
    own = M.masked_toy_checkpoint("the cat sat on the mat. " * 20, block_size=32)
    at = open_view("masked_vs_causal", "en", own)
    ok(at)
    assert "test model" in at.caption[-1].value or any("test model" in c.value for c in at.caption)
