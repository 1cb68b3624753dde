"""The softmax page in AppTest: the temperature slider against F.softmax, bad logits, the
next-token controls, the worked-numbers table."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lessons import worked_numbers as wx
from lessons.engine.checkpoint import load_checkpoint
from tests.helpers import open_view


@pytest.fixture(scope="module")
def tiny(tiny_checkpoint_bytes):
    return load_checkpoint(tiny_checkpoint_bytes)


def open_page(lang="en", checkpoint=None):
    return open_view("softmax", lang, checkpoint)


def metric_values(at):
    return [m.value for m in at.metric]


def chart_y(at, index=0):
    spec = json.loads(at.get("plotly_chart")[index].proto.spec)
    return spec["data"][0]["y"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_temperature_slider_changes_the_probabilities(lang, tiny):
    at = open_page(lang, tiny)
    assert not at.exception, [e.value for e in at.exception]
    assert metric_values(at)[0] == f"{F.softmax(torch.tensor([1.0, 2.0, 2.0]), 0)[1]:.4f}"
    at.slider(key="softmax_temperature").set_value(3.0).run()
    assert not at.exception
    expected = F.softmax(torch.tensor([1.0, 2.0, 2.0], dtype=torch.float64) / 3.0, 0)
    assert metric_values(at)[0] == f"{expected[1]:.4f}"
    np.testing.assert_allclose(chart_y(at), expected.numpy(), rtol=1e-9)
    assert len(at.dataframe) == 3 and len(at.table) == 1   # shift, overflow, soft targets; worked numbers


def test_page_survives_bad_logits_and_keeps_the_text(tiny):
    at = open_page("en", tiny)
    at.text_input(key="softmax_logits").set_value("1, two, 3").run()
    assert not at.exception
    assert at.error and "could not be read" in at.error[0].value
    assert at.text_input(key="softmax_logits").value == "1, two, 3"
    at.text_input(key="softmax_logits").set_value("1000 -1000 0 5").run()
    assert not at.exception and not at.error


def test_page_next_token_controls_and_awkward_prompts(tiny):
    at = open_page("en", tiny)
    at.number_input(key="softmax_top_k").set_value(3).run()
    assert not at.exception
    assert "3 of the" in " ".join(m.value for m in at.markdown)
    at.text_area(key="softmax_prompt").set_value("").run()
    assert not at.exception and any("empty" in i.value for i in at.info)
    at.text_area(key="softmax_prompt").set_value("猫🙂" * 50).run()
    assert not at.exception and any("longer than" in i.value for i in at.info)
    at.text_input(key="softmax_actual").set_value(".").run()      # Markdown-escaped
    assert not at.exception and "**\\.**" in " ".join(m.value for m in at.markdown)
    at.text_input(key="softmax_actual").set_value("").run()
    assert not at.exception and at.warning


def test_page_target_class_survives_fewer_logits(tiny):
    at = open_page("en", tiny)
    at.text_input(key="softmax_logits").set_value("1 2 2 3 4").run()
    at.selectbox(key="softmax_target").set_value(4).run()
    at.text_input(key="softmax_logits").set_value("1 2").run()
    assert not at.exception
    chosen = at.selectbox(key="softmax_target").value
    assert metric_values(at)[0] == f"{F.softmax(torch.tensor([1.0, 2.0]), 0)[chosen]:.4f}"


def test_page_worked_numbers_table_has_verdict_icons():
    at = open_page("en")
    table = at.table[-1].value        # a static table: every cell's full text, wrapped
    assert len(table) == len(wx.worked_numbers())     # each row checked in tests/unit/worked_numbers
    verdicts = " ".join(table["verdict"])
    assert "✗ wrong" in verdicts and "≈ right to rounding" in verdicts and "✓ right" in verdicts
    assert "– not stated" in verdicts
