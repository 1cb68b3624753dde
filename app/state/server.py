"""What this server refuses from its clients, and the settings hosted mode changes.

Streamlit lets any connected client send a ``clear_cache`` message (its developer menu's
"Clear cache"), and answers it by emptying every ``st.cache_resource`` of the whole server,
for every session. Here that would run each session's release hook (which stops its trainings)
and throw away the shipped model and the shared pictures, for one anonymous visitor's message
(issue #22). Nothing in this app needs a client to clear caches, so the message is refused,
locally too: the developer menu is hidden (``toolbarMode = "viewer"``) anyway.
"""
from __future__ import annotations

import logging

import streamlit as st
from streamlit.runtime.app_session import AppSession

from lessons.hosting.limits import current_limits

log = logging.getLogger("llm_explorer")


def _refuse_clear_cache(session: AppSession) -> None:
    log.warning("refused a clear_cache message from session %s", session.id)


_refuse_clear_cache.refuses = True   # so a test (and a second call) can tell it is installed


def refuse_cache_clearing() -> None:
    """Make every session ignore the clear_cache message. Safe to call on every rerun."""
    AppSession._handle_clear_cache_request = _refuse_clear_cache


def clear_cache_refused() -> bool:
    return getattr(AppSession._handle_clear_cache_request, "refuses", False)


def harden() -> None:
    """Called by main.py before anything else: refuse cache clearing; in hosted mode, show a
    visitor no exception details (a page shows our own message; see app/ui.py page_guard)."""
    refuse_cache_clearing()
    if current_limits().hosted:
        st.set_option("client.showErrorDetails", "none")
