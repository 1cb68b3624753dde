"""Bad input and faults on the pages (AppTest): every text box of every registry page takes
empty, huge and over-cap text; impossible settings; a GPU that went away; an idle hosted
session. The map of every fault case is in tests/unit/test_faults.py."""
from __future__ import annotations

import pytest
import streamlit as st
import torch

from lessons.i18n import t
from tests.cases import text_box_cases
from tests.helpers import MAIN_SCRIPT, open_view


@pytest.fixture(autouse=True)
def fresh_caches():
    yield
    st.cache_resource.clear()     # no server-wide queue or model leaks into the next test


def _box(at, kind, key):
    return getattr(at, kind)(key=key)


def _messages(at) -> list[str]:
    return [m.value for kind in ("info", "warning", "error") for m in getattr(at, kind)]


# ---- text ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("view, kind, key", text_box_cases())
def test_empty_text_gets_a_message_and_no_traceback(view, kind, key, lang):
    at = open_view(view, lang)
    _box(at, kind, key).set_value("").run()
    assert not at.exception, [e.value for e in at.exception]
    assert _box(at, kind, key).value == ""
    assert _messages(at), "an empty box should say what to do"


@pytest.mark.parametrize("view, kind, key", text_box_cases())
def test_huge_text_is_kept_in_the_box_and_the_page_still_works(view, kind, key):
    huge = "All the world's a stage. 世界是一个舞台。" * 30_000    # ~1 M characters
    at = open_view(view)
    _box(at, kind, key).set_value(huge).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _box(at, kind, key).value == huge     # locally nothing the learner typed is cut


@pytest.mark.parametrize("view, kind, key", text_box_cases())
def test_hosted_text_boxes_are_capped_by_the_server(monkeypatch, view, kind, key):
    monkeypatch.setenv("LLM_EXPLORER_HOSTED", "1")
    at = open_view(view)
    box = _box(at, kind, key)
    # no cap in the browser: it would count UTF-16 units and drop an over-cap paste unsaid
    assert not box.max_chars
    box.set_value("🧠" * 12_000).run()
    assert not at.exception
    assert t("app.text_cut_to_cap", "en", n="12,000", cap="5,000") in [w.value for w in at.warning]


# ---- settings, devices, sessions ------------------------------------------------------------

def test_impossible_settings_on_the_page_in_chinese():
    at = open_view("training", "zh")
    at.session_state["tr_heads"] = 5            # 5 heads do not divide the width 64
    at.run()
    assert not at.exception
    assert any("整数倍" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "tr_start"]     # nothing to start


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("lang, words", [("en", "does not have"), ("zh", "没有")])
def test_gpu_remembered_by_a_session_falls_back_to_the_cpu_with_a_note(lang, words):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(MAIN_SCRIPT, default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["device"] = "cuda"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(words in w.value and "cuda" in w.value for w in at.sidebar.warning)
    assert at.sidebar.selectbox(key="device").value == "auto"
    assert any("cpu" in c.value for c in at.sidebar.caption)


def test_a_hosted_session_left_idle_has_its_training_stopped(monkeypatch):
    """Any learner's click sweeps the server for idle sessions; the idle learner's page then
    says what happened and offers Resume."""
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("LLM_EXPLORER_HOSTED", "1")
    idle = open_view("training")
    idle.selectbox(key="tr_preset").set_value("tiny").run()
    idle.session_state["tr_steps"] = 3_000
    idle.run()
    idle.button(key="tr_start").click().run()
    book = idle.session_state["run_book"]
    run = next(iter(book.runs.values()))
    book.last_active -= 31 * 60                 # half an hour without a click
    other = AppTest.from_file(MAIN_SCRIPT, default_timeout=120)
    other.run()                                 # someone else opens the app
    run.background.join(30)
    assert run.status == "stopped" and run.stopped_while_idle
    idle.run()
    assert not idle.exception
    assert any("nobody had clicked" in i.value for i in idle.info)
    assert idle.button(key=f"resume_{run.id}")
    book.stop_all()
