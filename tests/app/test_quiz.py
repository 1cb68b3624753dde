"""The quiz panel in the app: answer, press Check, see the grade and the numbers; progress is
kept under the agreed key; the training page's question runs its two tiny trainings."""
from __future__ import annotations

import pytest
import torch

from lessons.engine.checkpoint import load_shipped_model
from tests.helpers import assert_page_ok, open_view, page_markdown


def test_softmax_quiz_grades_right_and_wrong_answers_on_the_shipped_model():
    at = open_view("softmax")
    assert_page_ok(at)
    radio = at.radio(key="quiz_softmax_sm_hotter")
    # independent answer: the classroom model's top-token probability at T=1 and T=2
    ckpt = load_shipped_model("classroom")
    ids = ckpt.tokenizer.encode("The expression is evaluated from left to righ")
    with torch.no_grad():
        logits = ckpt.model(torch.tensor([ids]))[0][0, -1].double()
    top = int(logits.argmax())
    before, after = torch.softmax(logits, -1)[top], torch.softmax(logits / 2, -1)[top]
    right = "it goes down" if after < before else "it goes up"
    wrong = next(c for c in radio.options if c != right)

    at = radio.set_value(wrong).run()
    at = at.button(key="quiz_softmax_sm_hotter_check").click().run()
    assert_page_ok(at)
    assert any(right in w.value for w in at.warning)             # "the answer is ..."
    assert at.session_state["quiz_progress"]["softmax"]["sm_hotter"] == {"answer": wrong,
                                                                        "correct": False}
    at = at.radio(key="quiz_softmax_sm_hotter").set_value(right).run()
    at = at.button(key="quiz_softmax_sm_hotter_check").click().run()
    assert any("Right" in s.value for s in at.success)
    assert f"{100 * float(after):.1f}%" in page_markdown(at)      # the explanation's numbers
    assert at.session_state["quiz_progress"]["softmax"]["sm_hotter"]["correct"] is True
    assert any("1 of 1 answered right" in c.value for c in at.caption)


def test_training_quiz_runs_its_experiment_in_chinese():
    at = open_view("training", lang="zh")
    assert_page_ok(at)
    at = at.radio(key="quiz_training_train_half_lr").set_value("更高").run()
    at = at.button(key="quiz_training_train_half_lr_check").click().run()
    assert_page_ok(at)
    entry = at.session_state["quiz_progress"]["training"]["train_half_lr"]
    assert entry["answer"] == "更高"
    assert "验证损失" in page_markdown(at)             # the explanation, with both losses
    assert (at.success if entry["correct"] else at.warning)


def test_projector_mode_enlarges_text_and_every_chart_of_this_session_only():
    import json

    def heights(at) -> list[float]:
        return [json.loads(c.proto.spec)["layout"].get("height", 450)
                for c in at.get("plotly_chart")]

    at = open_view("softmax")
    normal = heights(at)
    at = at.toggle(key="projector_on").set_value(True).run()
    assert_page_ok(at)
    assert at.session_state["projector_on"] is True
    big = heights(at)
    assert len(big) == len(normal) > 3
    assert all(abs(b - 1.4 * n) < 1e-6 for b, n in zip(big, normal)), (normal, big)
    assert any("font-size: 130%" in h.proto.body for h in at.get("html"))
    other = open_view("softmax")                     # another session: still normal size
    assert heights(other) == normal


@pytest.mark.slow
def test_every_lesson_quiz_renders_for_the_masked_model_and_a_fresh_tiny_one(tiny_checkpoint_bytes):
    """No error on any lesson page with either model; a quiz, or the note that its questions
    need a GPT-style model, wherever the page reaches its end."""
    from lessons import registry
    from lessons.engine.checkpoint import load_checkpoint
    for checkpoint in (load_shipped_model("masked"), load_checkpoint(tiny_checkpoint_bytes)):
        for entry in registry.LESSONS:
            at = open_view(entry.slug, checkpoint=checkpoint)
            assert not at.exception, [e.value for e in at.exception]
            # the only red boxes allowed: the errata's verdicts on the source document
            assert all(e.value.startswith("**✗") for e in at.error), [e.value for e in at.error]
            stopped_early = entry.slug == "decoding" and not checkpoint.model.config.causal
            if not stopped_early:
                assert any(h.value == "Check what you understood" for h in at.header), entry.slug
                asked = [r for r in at.radio if r.key and r.key.startswith("quiz_")]
                assert asked or any("GPT-style" in i.value for i in at.info), entry.slug
