"""The "Inside the model" page in AppTest: every step, a block and a position picked, parts
switched off, the checks it prints, hostile and Chinese text without tracebacks."""
import re

import pytest
import torch

from lessons.concepts.forward_pass import compute as C

from lessons.engine.checkpoint import load_checkpoint
from lessons.i18n import t
from tests.helpers import open_view

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def two_layer(two_layer_checkpoint_bytes):
    return load_checkpoint(two_layer_checkpoint_bytes)


def checks(at):
    """The numbers the page's check captions print: (re-added logits diff, shares, logit)."""
    captions = " ".join(c.value for c in at.caption)
    diff = re.search(r"largest difference of (\S+?)\.(\s|$)", captions)
    shares = re.search(r"add up to (-?\d+\.\d+); the model.s logit is (-?\d+\.\d+)", captions)
    return float(diff.group(1)), float(shares.group(1)), float(shares.group(2))


def test_every_step_and_the_checks(two_layer):
    at = open_view("forward_pass", "en", two_layer)
    assert not at.exception, [e.value for e in at.exception]
    diff, total, logit = checks(at)
    assert diff <= 1e-5 and abs(total - logit) <= 1e-3
    assert "at every position: yes" in " ".join(c.value for c in at.caption)
    at.selectbox(key="forward_layer").set_value(1).run()
    at.selectbox(key="forward_position").set_value(2).run()
    inspection = two_layer.model.inspect(torch.tensor([0, 1]))
    names = [name for name, _, _ in C.step_tensors(two_layer.model, inspection, 0)]
    assert len(at.select_slider(key="forward_step").options) == len(names) == 17
    for step in names:
        at.select_slider(key="forward_step").set_value(step).run()
        assert not at.exception, (step, [e.value for e in at.exception])
        if step == "mlp_post_gelu":      # the neurons that fire, and on which token
            assert any("hidden neuron" in frame.value.columns for frame in at.dataframe)
    at.multiselect(key="forward_ablate").select("block 0, head 1").select("block 1, whole block").run()
    at.radio(key="forward_mode").set_value("mean").run()
    assert not at.exception, [e.value for e in at.exception]
    # the two-layer model kept snapshots: the timeline table shows, not the "none kept" note
    assert not any("kept no weight snapshots" in note.value for note in at.info)
    assert sum("003 §4.3" in m.value for m in at.markdown) == 2       # the document's rows


def test_chinese_and_hostile_text(two_layer):
    at = open_view("forward_pass", "zh", two_layer)
    assert at.title[0].value == "模型内部"
    at.text_input(key="forward_text").set_value(EVIL + "猫坐在垫子上。" * 10).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.warning, "a long text says it was cut"
    assert at.text_input(key="forward_text").value.startswith(EVIL)
    at.text_input(key="forward_text").set_value("").run()
    assert not at.exception and "至少一个字符" in at.info[0].value


def test_shipped_model_in_both_languages():
    for lang in ("en", "zh"):
        at = open_view("forward_pass", lang)
        assert not at.exception, [e.value for e in at.exception]
        # steps, logit lens, ablation, parameters, the document, training; then the quiz
        headers = [h.value for h in at.header]
        assert len(headers) == 7 and headers[-1] == t("quiz.heading", lang)


def _probability_columns(at) -> list[list[float]]:
    """Every numeric column of every table on the page, as plain lists."""
    return [[float(v) for v in frame.value[c]] for frame in at.dataframe
            for c in frame.value.columns if frame.value[c].dtype.kind == "f"]


def _top_probabilities(model, tokenizer, text: str, k: int = 5) -> list[float]:
    ids = torch.tensor([tokenizer.encode(text)[:min(model.config.block_size, 32)]])
    with torch.no_grad():
        logits = model(ids)[0][0, -1]
    return torch.softmax(logits.double(), -1).topk(k).values.tolist()


def test_the_page_shows_the_model_at_a_snapshot(two_layer):
    """Picking a training step swaps the model every view looks at: the next-token table then
    holds the snapshot model's own probabilities (computed here straight from its weights)."""
    text = "The cat sat on the mat."
    first = min(two_layer.snapshots)
    at = open_view("forward_pass", "en", two_layer)
    options = at.select_slider(key="forward_snapshot").options
    assert len(options) == 1 + len(two_layer.snapshots)

    def shown(values, tolerance=1e-3):
        return any(len(col) >= len(values) and
                   all(abs(a - b) <= tolerance for a, b in zip(col, values))
                   for col in _probability_columns(at))

    final = _top_probabilities(two_layer.model, two_layer.tokenizer, text)
    early = _top_probabilities(two_layer.snapshot_model(first), two_layer.tokenizer, text)
    assert shown(final) and not shown(early)
    at.select_slider(key="forward_snapshot").set_value(first).run()
    assert not at.exception, [e.value for e in at.exception]
    assert shown(early) and not shown(final)
