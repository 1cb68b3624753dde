"""What every page shares: the language, the active model and the device.

Pages call these instead of touching ``st.session_state`` keys directly, so the keys live in
one place. Streamlit caching lives only here in app/ (design principle 10).
"""
from __future__ import annotations

import hashlib
import weakref

import streamlit as st
import torch

from lessons import errors
from lessons.engine.checkpoint import Checkpoint, load_shipped_model
from lessons.i18n import DEFAULT_LANGUAGE, t
from lessons.engine.devices import available_devices, pick_device

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


# ---- work shared by every visitor -----------------------------------------------------------
# Most visitors of a hosted demo look at the same pictures: the shipped model, the default
# text. Drawing them (plotly figures, model passes, bertviz pages) cost up to a second of CPU
# a view, and one server's Python runs one page at a time, so a class of 30 waited in line.
# shared() computes each distinct (function, inputs) once for the whole server.
#
# Why this keeps sessions apart: a result is found again only by giving the same inputs, and
# a checkpoint counts by its uid, a random name that only the session holding that model
# knows. So a session can only get what it would have computed itself.

SHARED_ENTRIES = 512               # at most this many results kept (least recently used go):
                                   # ~100 KB each for the shipped model, so ~50 MB
SHARED_TTL_S = 30 * 60


def _key_part(value):
    """A cheap, hashable stand-in for one argument."""
    if isinstance(value, Checkpoint):
        return ("checkpoint", value.uid)
    if isinstance(value, torch.Tensor):
        data = value.detach().cpu().contiguous()
        return ("tensor", tuple(data.shape), str(data.dtype),
                hashlib.sha1(data.numpy().tobytes()).hexdigest())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,) + tuple(_key_part(v) for v in value)
    if isinstance(value, dict):
        return ("dict",) + tuple((k, _key_part(v)) for k, v in sorted(value.items()))
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"shared(): cannot key an argument of type {type(value).__name__}")


@st.cache_resource(show_spinner=False, max_entries=SHARED_ENTRIES, ttl=SHARED_TTL_S)
def _shared(key: tuple, _compute):
    return _compute()


def shared(fn, *args, **kwargs):
    """fn(*args, **kwargs), computed once per distinct inputs for the whole server.

    The result is shared: callers must not change it (plotly figures are only read by
    st.plotly_chart). Exceptions are not remembered, so a failing input fails every time.
    """
    code = getattr(fn, "__code__", None)
    where = (code.co_filename, code.co_firstlineno) if code else (fn.__module__,)
    key = (fn.__qualname__, *where, _key_part(list(args)), _key_part(kwargs))
    return _shared(key, lambda: fn(*args, **kwargs))


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
    from lessons.hosting.runs import RunBook
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
    from lessons.hosting.limits import current_limits
    return current_limits()


@st.cache_resource(show_spinner=False)
def training_slots():
    """One queue for the whole server: at most K trainings run at once across all sessions."""
    from lessons.hosting.limits import TrainingSlots
    return TrainingSlots(limits().max_concurrent_trainings)


@st.cache_resource(show_spinner=False)
def machine_flops_per_second(device_name: str) -> float:
    from lessons.engine.training import measure_flops_per_second
    return measure_flops_per_second(device_name)
