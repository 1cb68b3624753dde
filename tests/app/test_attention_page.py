"""The attention page in AppTest: a layer and a head picked, the numbers it prints against
torch's fused attention, odd text without tracebacks."""
import re

import pytest

from lessons.engine.checkpoint import load_checkpoint
from lessons.i18n import t
from tests.helpers import open_view

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def two_layer(two_layer_checkpoint_bytes):
    return load_checkpoint(two_layer_checkpoint_bytes)


def open_page(lang="en", checkpoint=None):
    return open_view("attention", lang, checkpoint)


def test_page_with_a_layer_and_head_picked(two_layer):
    at = open_page("en", two_layer)
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="attention_layer").set_value(1).run()
    at.selectbox(key="attention_head").set_value(1).run()
    assert not at.exception, [e.value for e in at.exception]
    subheaders = [s.value for s in at.subheader]
    assert any("One head up close" in s for s in subheaders)
    captions = " ".join(c.value for c in at.caption)
    diffs = re.search(r"at most (\S+),.*at most (\S+)\.", captions, re.S)
    assert diffs and float(diffs.group(1)) < 1e-5 and float(diffs.group(2)) < 1e-5
    at.checkbox(key="attention_causal").set_value(False).run()
    unmasked = " ".join(c.value for c in at.caption)
    sdpa = re.search(r"at most (\S+?)\.\s", unmasked)
    assert sdpa and float(sdpa.group(1)) < 1e-5 and "nan" not in unmasked
    at.checkbox(key="attention_use_query").set_value(True).run()
    at.select_slider(key="attention_timeline_step").set_value(0).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_input(key="attention_text").value == "The cat sat on the mat."


def test_page_handles_odd_text_without_tracebacks(two_layer):
    at = open_page("zh", two_layer)
    at.session_state["attention_bertviz_on"] = True                # bertviz drawn when asked
    at.session_state["attention_bertviz_view"] = t("attention.bertviz_model_tab", "zh")  # drawn when open
    at.text_input(key="attention_text").set_value(EVIL + "猫" * 80).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.warning, "a long text says it was cut"
    pages = [frame.proto.srcdoc for frame in at.get("iframe")]
    assert len(pages) == 2 and all("window.requirejs" in p for p in pages)   # inlined
    assert not any(re.search(r"https?://", p) for p in pages)
    assert at.text_input(key="attention_text").value.startswith(EVIL)
    at.text_input(key="attention_text").set_value("").run()
    assert not at.exception and at.info
