"""Issue #22, item 5: one tab must not fill the server's queue. While a learner's run waits for
a slot, Start is off (and refused if clicked anyway); a waiting run has a Stop button; run
names never repeat; the per-session run cap holds under rapid Start/Stop."""
from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app.state import runs as app_runs
from lessons.engine.config import preset
from lessons.hosting.limits import TrainingSlots
from lessons.hosting.runs import RunBook, RunRefused
from lessons.i18n import t
from tests.helpers import MAIN_SCRIPT, open_view, wait_for


@pytest.fixture
def no_free_slot():
    """A queue with no slot at all: every run waits until stopped (deterministic 'queued')."""
    return TrainingSlots(0)


def _start(book, tiny_text, **overrides):
    model, train = preset("tiny", **overrides)
    return book.start(model, train, tiny_text, "tiny", name="Run {n}")


def test_a_second_start_is_refused_while_the_first_run_waits(no_free_slot, tiny_text):
    book = RunBook(6, no_free_slot)
    first = _start(book, tiny_text)
    wait_for(lambda: first.status == "queued", 10, "the run to queue")
    with pytest.raises(RunRefused) as refused:
        _start(book, tiny_text)
    assert refused.value.key == "run_still_waiting" and len(book.runs) == 1
    book.stop_all()


def test_rapid_start_and_stop_keeps_the_cap_and_unique_names(no_free_slot, tiny_text):
    book = RunBook(6, no_free_slot)
    for _ in range(20):
        run = _start(book, tiny_text)
        book.stop(run.id)
    assert len(book.runs) <= 6
    names = [r.name for r in book.runs.values()]
    assert len(set(names)) == len(names) and names[-1] == "Run 20"
    assert not book.any_running()


def test_a_book_full_of_busy_runs_refuses_another(tiny_text):
    book = RunBook(2)                     # no queue: both train at once
    try:
        for _ in range(2):
            _start(book, tiny_text, max_iters=100_000)
        with pytest.raises(RunRefused) as refused:
            _start(book, tiny_text)
        assert refused.value.key == "runs_all_busy" and len(book.runs) == 2
    finally:
        book.stop_all()


def test_on_the_page_start_is_off_and_stop_is_there_while_a_run_waits(monkeypatch, no_free_slot):
    monkeypatch.setattr(app_runs, "_TRAINING_SLOTS", no_free_slot)
    at = open_view("training", "en")
    try:
        at.selectbox(key="tr_preset").set_value("tiny").run()
        at.button(key="tr_start").click().run()
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.button(key="tr_start").disabled
        assert t("errors.run_still_waiting", "en") in [i.value for i in at.info]
        at.button(key="stop_1").click().run()
        at.run()
        assert not at.button(key="tr_start").disabled
    finally:
        st.cache_resource.clear()         # the session's end: its runs stop


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_after_a_restart_the_live_view_says_the_runs_are_gone(lang):
    """A new session (server restarted, or the old one expired) in a tab that had started a
    run: the address still carries had_runs, so the page explains the empty list."""
    at = AppTest.from_file(MAIN_SCRIPT, default_timeout=120)
    at.session_state["lang"] = lang
    at.query_params["had_runs"] = "1"
    at.run()
    at.switch_page("views/training.py").run()
    assert not at.exception
    assert t("training.runs_lost", lang) in [w.value for w in at.warning]


def test_starting_a_run_marks_the_address(monkeypatch, no_free_slot):
    monkeypatch.setattr(app_runs, "_TRAINING_SLOTS", no_free_slot)
    at = open_view("training", "en")
    try:
        assert "had_runs" not in at.query_params
        at.selectbox(key="tr_preset").set_value("tiny").run()
        at.button(key="tr_start").click().run()
        assert at.query_params.get("had_runs") in ("1", ["1"])
    finally:
        st.cache_resource.clear()
