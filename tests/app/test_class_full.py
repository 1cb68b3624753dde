"""A hosted server that already holds its cap of learners (LLM_EXPLORER_MAX_SESSIONS) shows a
newcomer "the class is full, try again in a minute" in their language instead of the page, and
the newcomer gets in once a seat frees (issue #21, limits at the door)."""
from __future__ import annotations

import pytest

from app.state import server
from lessons.hosting.seats import Seats
from lessons.i18n import t
from tests.helpers import assert_page_ok, open_app


@pytest.fixture
def one_seat_taken(monkeypatch):
    seats = Seats(capacity=1, idle_s=600)
    seats.admit("someone else", open_ids={"someone else"})
    monkeypatch.setattr(server, "_SEATS", seats)
    # AppTest has no session manager: the other learner's tab is open until the test says not
    others = {"someone else"}
    monkeypatch.setattr(server, "_open_session_ids", lambda: set(others))
    seats.others = others
    return seats


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_full_class_says_so_and_lets_the_learner_in_when_a_seat_frees(one_seat_taken, lang):
    at = open_app(lang)
    assert_page_ok(at)
    assert [w.value for w in at.warning] == [t("app.class_full", lang)]
    assert not at.sidebar.selectbox      # no page, no sidebar: nothing of the app runs
    one_seat_taken.others.clear()        # the other learner's tab closed
    at.button[0].click().run()
    assert_page_ok(at)
    assert not at.warning and at.sidebar.selectbox   # the app itself now
    assert one_seat_taken.taken == 1
