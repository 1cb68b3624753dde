"""What every page shares: the language, the active model and the device.

Pages call these instead of touching ``st.session_state`` keys directly, so the keys live in
one place. Streamlit caching lives only here in app/ (design principle 10).
"""
from __future__ import annotations

import weakref

import streamlit as st

from lessons import errors
from lessons.checkpoint import Checkpoint, load_shipped_model
from lessons.i18n import DEFAULT_LANGUAGE, t
from lessons.training import available_devices, pick_device

LANG_KEY = "lang"
MODEL_KEY = "active_model"        # (name, Checkpoint) chosen in this session, or absent
DEVICE_KEY = "device"


def lang() -> str:
    return st.session_state.get(LANG_KEY, DEFAULT_LANGUAGE)


def tr(key: str, **values) -> str:
    """t() in the language this session chose."""
    return t(key, lang(), **values)


@st.cache_resource(show_spinner=False)
def shipped_checkpoint() -> Checkpoint:
    # one read-only copy shared by all sessions; pages never train it in place
    return load_shipped_model()


def active_checkpoint() -> Checkpoint:
    chosen = st.session_state.get(MODEL_KEY)
    return chosen[1] if chosen else shipped_checkpoint()


def active_model_name() -> str:
    chosen = st.session_state.get(MODEL_KEY)
    return chosen[0] if chosen else tr("app.shipped_model_name")


def use_model(name: str, checkpoint: Checkpoint) -> None:
    """Make a model the one every page shows, for this session only."""
    st.session_state[MODEL_KEY] = (name, checkpoint)


def use_shipped_model() -> None:
    st.session_state.pop(MODEL_KEY, None)


def device() -> str:
    """The device this session trains on ('auto' resolved)."""
    return pick_device(st.session_state.get(DEVICE_KEY, "auto"))


def device_choices() -> list[str]:
    return ["auto"] + available_devices()


def forget_missing_device() -> str | None:
    """If this session chose a device this machine no longer has (a GPU that went away),
    fall back to auto and return the missing one's name so the sidebar can say so.
    Called before the device box is drawn: a widget's value cannot change after that."""
    chosen = st.session_state.get(DEVICE_KEY, "auto")
    if chosen in device_choices():
        return None
    st.session_state[DEVICE_KEY] = "auto"
    return str(chosen)


def explain(exc: Exception) -> str:
    """An error's message in this session's language (ours are translated; others as-is)."""
    return errors.explain(exc, lang())


def prose(topic: str, key: str) -> None:
    """Show one section of a lesson's prose as Markdown."""
    st.markdown(tr(f"{topic}.{key}"))


class _SessionRuns:
    """Every RunBook made in one browser session, so they can all be stopped at its end."""

    def __init__(self):
        self.books = []

    def stop_all(self) -> None:
        for book in self.books:
            book.stop_all()


@st.cache_resource(scope="session", on_release=_SessionRuns.stop_all, show_spinner=False)
def _session_runs() -> _SessionRuns:
    # Streamlit drops session-scoped resources when the tab goes away; on_release then stops
    # every training thread of that session, so no training outlives its learner.
    return _SessionRuns()


def run_book():
    """This session's training runs. Kept in session_state (which Streamlit never shares
    between sessions) and registered with the session-scoped resource above for clean-up."""
    from lessons.runs import RunBook
    if "run_book" not in st.session_state:
        lim = limits()
        book = RunBook(lim.max_runs_per_session, training_slots(), lim.threads_per_training)
        _session_runs().books.append(book)
        _every_run_book().add(book)
        st.session_state.run_book = book
    return st.session_state.run_book


@st.cache_resource(show_spinner=False)
def _every_run_book() -> weakref.WeakSet:
    # Server-wide, but it only holds weak references and is only used to stop idle runs:
    # no session can read another's runs through it.
    return weakref.WeakSet()


def note_activity() -> None:
    """Called on every full script run, i.e. a click or a page view, never on the training
    page's once-a-second refresh. Marks this session active and stops the trainings of
    sessions idle for longer than the limit; sweeping here needs no janitor thread."""
    if "run_book" in st.session_state:
        st.session_state.run_book.touch()
    idle_s = limits().idle_stop_s
    if idle_s != float("inf"):
        for book in list(_every_run_book()):
            book.stop_if_idle(idle_s)


def text_cap() -> int | None:
    """max_chars for every free-text box. None locally: pages cut long text for display
    themselves and the whole paste stays in the box. On a hosted server the cap is real:
    the browser stops at it and Streamlit cuts longer values on the server too."""
    lim = limits()
    return lim.max_text_chars if lim.hosted else None


def limits():
    from lessons.limits import current_limits
    return current_limits()


@st.cache_resource(show_spinner=False)
def training_slots():
    """One queue for the whole server: at most K trainings run at once across all sessions."""
    from lessons.limits import TrainingSlots
    return TrainingSlots(limits().max_concurrent_trainings)


@st.cache_resource(show_spinner=False)
def machine_flops_per_second(device_name: str) -> float:
    from lessons.training import measure_flops_per_second
    return measure_flops_per_second(device_name)
