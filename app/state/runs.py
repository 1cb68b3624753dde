"""Training runs: this session's RunBook, the one queue of the whole server, the idle sweep,
the clean-up when a session ends, and the limits this server runs under.

Who sees what: a session's RunBook lives in its ``st.session_state`` (never shared between
sessions). Server-wide there are only the queue (``training_slots``) and a set of weak
references used to stop idle runs; no session can read another's runs through either.
"""
from __future__ import annotations

import weakref

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx


from lessons.hosting.limits import Limits, TrainingSlots, current_limits
from lessons.hosting.runs import RunBook

RUN_BOOK_KEY = "run_book"


def limits() -> Limits:
    """This server's limits: generous locally, tight with LLM_EXPLORER_HOSTED=1."""
    return current_limits()


def text_cap() -> int | None:
    """max_chars for every free-text box. None locally: pages cut long text for display
    themselves and the whole paste stays in the box. On a hosted server the cap is real:
    the browser stops at it and Streamlit cuts longer values on the server too."""
    lim = limits()
    return lim.max_text_chars if lim.hosted else None


# ---- server-wide objects --------------------------------------------------------------------
# Module-level, not st.cache_resource: any client can send Streamlit's clear_cache message,
# which empties every cache_resource of the server (issue #22). A queue rebuilt by that would
# forget who holds a slot, so the cap would no longer hold; and a cleared session resource
# runs its release hook, which stops that session's runs. (main.py also refuses the message:
# app/state/server.py.) This module is imported once per server process, so there is exactly
# one of each.

_TRAINING_SLOTS = TrainingSlots(limits().max_concurrent_trainings)
_EVERY_RUN_BOOK: weakref.WeakSet = weakref.WeakSet()   # only weak references: the idle sweep


def training_slots() -> TrainingSlots:
    """One queue for the whole server: at most K trainings run at once across all sessions."""
    return _TRAINING_SLOTS


def _every_run_book() -> weakref.WeakSet:
    return _EVERY_RUN_BOOK


class _SessionRuns:
    """Every RunBook made in one browser session, so they can all be stopped at its end."""

    def __init__(self, session_id: str | None = None):
        self.books: list[RunBook] = []
        self.session_id = session_id

    def end(self) -> None:
        """The tab went away: stop its trainings.

        subtle: it does not free the session's uploaded files. Doing so (issue #22 item 5) made
        a fresh hosted server's first learner lose the file just uploaded and every setting
        with it (found in Chromium: the upload fault test); files no box holds are freed by
        server.forget_unheld_uploads after a grace, the rest when Streamlit forgets the session."""
        for book in self.books:
            book.stop_all()


@st.cache_resource(scope="session", on_release=_SessionRuns.end, show_spinner=False)
def _session_runs() -> _SessionRuns:
    # Streamlit drops session-scoped resources when the tab goes away; on_release then stops
    # every training thread of that session, so no training outlives its learner.
    ctx = get_script_run_ctx()
    return _SessionRuns(ctx.session_id if ctx is not None else None)


# ---- this session ---------------------------------------------------------------------------

def run_book() -> RunBook:
    """This session's training runs, made on first use and registered for the clean-up at
    the session's end and for the idle sweep."""
    if RUN_BOOK_KEY not in st.session_state:
        lim = limits()
        book = RunBook(lim.max_runs_per_session, training_slots(), lim.threads_per_training)
        _session_runs().books.append(book)
        _every_run_book().add(book)
        st.session_state[RUN_BOOK_KEY] = book
    return st.session_state[RUN_BOOK_KEY]


def register_background_work(work) -> None:
    """Let other pages' background work (e.g. the Fine-tuning page's comparison, which has
    ``stop_all``, ``touch`` and ``stop_if_idle`` like a RunBook) be stopped at the session's
    end and by the idle sweep, exactly as the training runs are."""
    _session_runs().books.append(work)
    _every_run_book().add(work)


def note_activity() -> None:
    """Called on every full script run, i.e. a click or a page view, never on the training
    page's once-a-second refresh. Marks this session active and stops the trainings of
    sessions idle for longer than the limit; sweeping here needs no janitor thread."""
    if RUN_BOOK_KEY in st.session_state:
        st.session_state[RUN_BOOK_KEY].touch()
    idle_s = limits().idle_stop_s
    if idle_s != float("inf"):
        for book in list(_every_run_book()):
            book.stop_if_idle(idle_s)
