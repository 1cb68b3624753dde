"""The BERT-and-GPT page in AppTest, en and zh: both models' heatmaps (the causal one's upper
triangle empty), the fill-in reading equal to compute's, a missing blank said, unmasking
rounds, and the learner's own masked model taking the masked side."""
import re

import pytest

from lessons.concepts.masked_vs_causal import compute as M
from lessons.display import markdown_literal
from lessons.engine.checkpoint import load_shipped_model
from lessons.engine.corpus import builtin_text
from lessons.i18n import t
from tests.helpers import assert_page_ok as ok, open_view, page_markdown as text



@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_on_the_shipped_models(lang):
    at = open_view("masked_vs_causal", lang)
    ok(at)
    assert at.title[0].value == t("masked_vs_causal.title", lang)
    masked, causal = load_shipped_model("masked"), load_shipped_model("classroom")
    left, right = M.split_blank(t("masked_vs_causal.blank_default", lang))
    first = M.fill_in_masked(masked, left, right)[0]
    assert f"**{markdown_literal(first.token)}**" in text(at)
    at.text_input(key="mvc_blank").set_value("the ___ of an object").run()   # a space first
    first = M.fill_in_masked(masked, "the ", " of an object")[0]
    assert first.token == " " and "**␣**" in text(at)
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


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_attention_page_on_the_masked_model_starts_on_its_own_mask(lang):
    """A BERT-style model attends both ways: the page's mask box starts off, and then the
    hand-written steps equal the model's own weights (and torch's attention without a mask)."""
    at = open_view("attention", lang, load_shipped_model("masked"))
    ok(at)
    assert at.checkbox(key="attention_causal").value is False
    captions = " ".join(c.value for c in at.caption)
    numbers = [float(x) for x in re.findall(r"\d\.\de[-+]\d\d", captions)]
    assert len(numbers) >= 2 and max(numbers[:2]) < 1e-5, captions    # model and SDPA
    at.checkbox(key="attention_causal").set_value(True).run()          # the mask it never had
    ok(at)
    assert t("attention.steps_check_bidirectional", lang).split("{")[0][:6] in \
        " ".join(c.value for c in at.caption)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_embeddings_page_on_the_masked_model(lang):
    at = open_view("embeddings", lang, load_shipped_model("masked"))
    assert not at.exception, [e.value for e in at.exception]   # its red box is the W·x verdict
    assert at.get("plotly_chart"), "the embedding pictures are drawn"
