"""What every page does, one way: text in the session's language, a prose section, the code
behind a result, an error explained, work shared by every visitor.

Pages import what they use by name::

    from app.ui import lang, prose, shared, show_code, tr

    st.title(tr("softmax.title"))                  # always the FULL key: topic.key
    prose("softmax.intro")                          # a section of prose/<lang>/softmax.md
    st.plotly_chart(shared(figures.surprise_curve, 0.2, lang=lang()))   # once per server

Keys are always written out in full (``"topic.key"``), never built from a prefix, so a key can
be found with grep and tests/app/ checks that every key a page uses exists in both languages.
"""
from __future__ import annotations

import functools
import inspect
import logging
from contextlib import contextmanager

import streamlit as st

from app.state import runs, session
from app.state.server import REPLACEMENT_CHARACTER
from app.state.results import already_shared, shared
from lessons import errors
from lessons.display import best_spelt
from lessons.i18n import t

__all__ = ["already_shared", "explain", "free_text", "guarded", "lang", "model_default", "prose",
           "shared", "shown_as_message", "show_code", "tr"]

log = logging.getLogger("llm_explorer")


def lang() -> str:
    """The language this session reads: "en" or "zh"."""
    return session.lang()


def tr(key: str, **values) -> str:
    """The text of the full key "topic.key" in this session's language, placeholders filled."""
    if "." not in key:
        raise KeyError(f"tr() takes a full key 'topic.key', got {key!r}")
    return t(key, lang(), **values)


def model_default(key: str, poems_key: str) -> str:
    """A text box's default in words the active model reads: the prose text ``key`` or, for a
    model that spells the Chinese poems better, ``poems_key`` (a Chinese line of verse)."""
    return best_spelt(session.active_checkpoint().tokenizer, [tr(key), tr(poems_key)])


def prose(key: str, **values) -> None:
    """Show one prose section ("topic.key") as Markdown."""
    st.markdown(tr(key, **values))


def explain(exc: Exception) -> str:
    """An error's message in this session's language (ours are translated; others as-is)."""
    return errors.explain(exc, lang())


def show_code(*functions, label: str) -> None:
    """An expander (titled by the full key ``label``) with the source of the lessons
    functions the page just called: the learner reads the real code, not a copy."""
    with st.expander(tr(label)):
        for fn in functions:
            st.code(inspect.getsource(fn), language="python")


def free_text(widget, label: str, *args, **kwargs) -> str:
    """A box for the learner's own text (``widget`` is st.text_input or st.text_area), cut
    to the server's cap in characters as Python counts them, saying so.

    The box gets no ``max_chars``: browsers count that cap in UTF-16 units, so a 5,000 cap
    kept 2,500 🧠, and they silently ignore a paste that would pass it (issue #22). A
    character the browser could not send (a lone half of a UTF-16 pair) arrives as U+FFFD
    (app/state/server.py) and is pointed out rather than lost with the rest of the text."""
    value = widget(label, *args, **kwargs)
    cap = runs.text_cap()
    if cap is not None and len(value) > cap:
        st.warning(tr("app.text_cut_to_cap", n=f"{len(value):,}", cap=f"{cap:,}"))
        value = value[:cap]
    if REPLACEMENT_CHARACTER in value:
        st.info(tr("app.text_replacement_character"))
    return value


# ---- the one place an unexpected error becomes a message -----------------------------------

@contextmanager
def shown_as_message(where: str):
    """Run a page (or a part that redraws itself) so that no exception reaches the learner as a
    traceback with the server's paths: one of our errors shows its own translated message,
    anything else a translated "something went wrong" naming only the error's kind; the
    traceback goes to the server's log. Streamlit's st.rerun/st.stop are BaseExceptions and
    pass through."""
    try:
        yield
    except Exception as exc:      # noqa: BLE001 -- the point: nothing escapes to the page
        log.error("page %s failed: %s", where, type(exc).__name__, exc_info=exc)
        if isinstance(exc, errors.LessonError):
            st.error(explain(exc))
        else:
            st.error(tr("errors.page_failed", kind=type(exc).__name__))


def guarded(draw):
    """``shown_as_message`` for a function, e.g. a fragment that reruns on its own (its reruns
    do not pass through the page's guard in main.py)."""
    @functools.wraps(draw)
    def guarded_draw(*args, **kwargs):
        with shown_as_message(draw.__qualname__):
            return draw(*args, **kwargs)
    return guarded_draw
