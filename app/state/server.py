"""What this server refuses from its clients, and the settings hosted mode changes.

Streamlit lets any connected client send a ``clear_cache`` message (its developer menu's
"Clear cache"), and answers it by emptying every ``st.cache_resource`` of the whole server,
for every session. Here that would run each session's release hook (which stops its trainings)
and throw away the shipped model and the shared pictures, for one anonymous visitor's message
(issue #22). Nothing in this app needs a client to clear caches, so the message is refused,
locally too: the developer menu is hidden (``toolbarMode = "viewer"``) anyway.

The HTTP headers hosted mode sends are app/state/headers.py's, put in place by app/serve.py.
"""
from __future__ import annotations

import logging
import re
import time
import weakref

import streamlit as st
import torch
from google.protobuf.message import DecodeError
from streamlit import config as streamlit_config
from streamlit import runtime
from streamlit.runtime.app_session import AppSession
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lessons.hosting.limits import Limits, current_limits, upload_widget_mb
from lessons.hosting.seats import Seats

log = logging.getLogger("llm_explorer")


def _refuse_clear_cache(session: AppSession) -> None:
    log.warning("refused a clear_cache message from session %s", session.id)


_refuse_clear_cache.refuses = True   # so a test (and a second call) can tell it is installed


def refuse_cache_clearing() -> None:
    """Make every session ignore the clear_cache message. Safe to call on every rerun."""
    AppSession._handle_clear_cache_request = _refuse_clear_cache


def clear_cache_refused() -> bool:
    return getattr(AppSession._handle_clear_cache_request, "refuses", False)


def _quiet_new_session_message(original, told_before):
    """Streamlit's new_session message, less what a visitor has no use for and an attacker
    would: the script's full path on the server, the Python version, the OS.

    subtle: a session must get the same message on every run. The browser reloads the page
    when the message changes between two runs (found in Chromium: a fresh hosted server's
    first visitor lost the first click and the first upload), and the sessions open while
    this patch is installed were already told the details by the run installing it. Those
    (``told_before``) keep getting them; every later session never gets them. The Streamlit
    version stays for all: the served JavaScript names it anyway."""
    def quiet(self, *args, **kwargs):
        msg = original(self, *args, **kwargs)
        if self in told_before:
            return msg
        new_session = msg.new_session
        new_session.main_script_path = new_session.main_script_path.rsplit("/", 1)[-1]
        info = new_session.initialize.environment_info
        info.python_version = info.server_os = ""
        return msg
    quiet.quiet = True
    return quiet


def _sessions_open_now() -> weakref.WeakSet:
    """The AppSessions of the server right now (empty where Streamlit's internals differ)."""
    try:
        manager = runtime.get_instance()._session_mgr
        return weakref.WeakSet(info.session for info in manager.list_sessions())
    except Exception:   # an internal API: at worst the first visitors' pages reload once
        return weakref.WeakSet()


def hide_server_details() -> None:
    """Install _quiet_new_session_message once (hosted mode)."""
    if not getattr(AppSession._create_new_session_message, "quiet", False):
        AppSession._create_new_session_message = _quiet_new_session_message(
            AppSession._create_new_session_message, _sessions_open_now())


# A lone UTF-16 surrogate (U+D800..U+DFFF) as the browser's protobuf encoder writes it: three
# bytes, ED then A0..BF then a continuation byte. Valid UTF-8 never holds these.
_LONE_SURROGATE = re.compile(rb"\xed[\xa0-\xbf][\x80-\xbf]")
REPLACEMENT_CHARACTER = "\ufffd"   # in UTF-8 three bytes too: no length in the message moves


def with_lone_surrogates_replaced(data: bytes) -> bytes:
    """A browser message with every encoded lone surrogate replaced by U+FFFD, byte for byte
    the same length, so every length prefix in the protobuf stays right.

    >>> with_lone_surrogates_replaced(b"ab\\xed\\xa0\\x80cd").decode()
    'ab\ufffdcd'
    """
    return _LONE_SURROGATE.sub(REPLACEMENT_CHARACTER.encode(), data)


def _forgiving_parse(original):
    """BackMsg.ParseFromString that, where a text field is not valid UTF-8 only because of lone
    surrogates, parses the message with them replaced instead of failing.

    subtle: a learner who pastes half of an emoji (a lone surrogate; some editors leave one
    when cutting text) makes the browser send bytes that are not UTF-8. Streamlit then closes
    the connection and the whole text is silently gone (issue #22). The repair runs only on a
    message that failed to parse, so no message that parses today changes."""
    def parse(self, data):
        try:
            return original(self, data)
        except DecodeError:
            repaired = with_lone_surrogates_replaced(bytes(data))
            if repaired == data:
                raise
            log.info("replaced lone surrogates in a browser message")
            return original(self, repaired)
    parse.original = original     # Streamlit's own, for tests
    return parse


def forgive_lone_surrogates() -> None:
    """Install _forgiving_parse once (every server: local learners paste too)."""
    if not hasattr(BackMsg.ParseFromString, "original"):
        BackMsg.ParseFromString = _forgiving_parse(BackMsg.ParseFromString)


def upload_cap_mb(limits: Limits) -> int:
    """The most any one PUT to Streamlit's upload endpoint may carry: the largest file any of
    our file boxes takes (a checkpoint), in MB as the widgets count it.

    >>> from lessons.hosting.limits import HOSTED
    >>> upload_cap_mb(HOSTED)
    33
    """
    return upload_widget_mb(max(limits.max_checkpoint_bytes, limits.max_upload_bytes))


def harden() -> None:
    """Called by app/serve.py when the server starts, before any client connects, and by
    main.py before anything else on every run (a server started as `streamlit run
    app/main.py` has no start-up hook). Refuse cache clearing; in hosted mode, show a
    visitor no exception details (pages show our own message: app/ui.py shown_as_message)
    and cap every upload at the largest file a box takes, whatever .streamlit/config.toml
    says (256 MB there, for big local checkpoints). The endpoint reads the option on every
    request, so this holds from the first page view on; the Dockerfile sets it from the start."""
    refuse_cache_clearing()
    forgive_lone_surrogates()
    limits = current_limits()
    if limits.hosted:
        st.set_option("client.showErrorDetails", "none")
        hide_server_details()
        # subtle: per thread (OpenMP), and Streamlit runs each script run in a new thread.
        # With torch's default (one thread a core) a page's small forward pass waits in
        # OpenMP for cores other busy processes hold: the Softmax page's 6 ms forward pass
        # took 108 ms median and 850 ms at worst on this 2-core machine while other
        # processes ran at normal priority (1 thread: 6 ms / 20 ms). Our own trainings run at
        # nice 19 and did not cause it; replicas sharing cores would (issue #21).
        torch.set_num_threads(1)
        if streamlit_config.get_option("server.maxUploadSize") > upload_cap_mb(limits):
            streamlit_config.set_option("server.maxUploadSize", upload_cap_mb(limits),
                                        "LLM_EXPLORER_HOSTED")


# ---- uploads nobody holds -----------------------------------------------------------------

def held_upload_ids(state) -> set[str]:
    """The file ids our file boxes hold now (each keeps its UploadedFile in session state)."""
    return {value.file_id for value in state.values() if hasattr(value, "file_id")}


# (session id, file id) -> when a run first found the file held by no box
_unheld_since: dict[tuple[str, str], float] = {}
UNHELD_GRACE_S = 60.0


def forget_unheld_uploads(manager, session_id: str, held: set[str], now: float | None = None,
                          grace_s: float = UNHELD_GRACE_S) -> int:
    """Drop this session's uploaded files that no file box has held for ``grace_s`` seconds;
    returns the bytes freed.

    Streamlit keeps every file PUT to its endpoint in memory until the session is gone, also
    files sent to made-up ids that no widget will ever read (issue #22: 15 x 20 MB stayed
    for minutes). A file a box holds is kept; the box reads it again on every run.

    subtle: the browser PUTs a file first and tells the script about it in the next rerun,
    so a run ending in between sees a new file no box holds yet. Freeing it then lost the
    learner's upload on a busy server; a file is freed only once it has stayed unheld."""
    now = time.monotonic() if now is None else now
    storage = getattr(manager, "file_storage", {}).get(session_id, {})
    freed = 0
    for file_id, record in list(storage.items()):
        key = (session_id, file_id)
        if file_id in held:
            _unheld_since.pop(key, None)
        elif now - _unheld_since.setdefault(key, now) >= grace_s:
            freed += len(record.data)
            manager.remove_file(session_id, file_id)
            _unheld_since.pop(key, None)
    return freed


def _upload_manager():
    return runtime.get_instance().uploaded_file_mgr if runtime.exists() else None


def forget_this_sessions_unheld_uploads() -> None:
    """At the end of each full run of a hosted session (main.py)."""
    ctx, manager = get_script_run_ctx(), _upload_manager()
    if ctx is None or manager is None:
        return
    freed = forget_unheld_uploads(manager, ctx.session_id, held_upload_ids(st.session_state))
    if freed:
        log.info("freed %d bytes of uploads no file box holds (session %s)", freed, ctx.session_id)


# ---- seats: a cap on learners per server process ---------------------------------------------
# Module-level like the training queue (runs.py): a client's clear_cache must not free seats.
_SEATS = Seats(current_limits().max_sessions, current_limits().idle_stop_s)


def _open_session_ids() -> set[str] | None:
    """The sessions whose tabs are connected now; None where Streamlit's internals differ
    (an internal API; also under AppTest, which has no session manager)."""
    try:
        manager = runtime.get_instance()._session_mgr
        return {info.session.id for info in manager.list_active_sessions()}
    except Exception:
        return None


def has_a_seat() -> bool:
    """True unless this server already holds LLM_EXPLORER_MAX_SESSIONS other learners (hosted;
    lessons/hosting/seats.py). main.py calls it on every full run and shows a "class is full"
    message instead of the page when it says no."""
    ctx = get_script_run_ctx()
    open_ids = _open_session_ids() if _SEATS.capacity and ctx is not None else None
    if open_ids is None:    # no cap, or no way to tell who left: no cap rather than a wrong one
        return True
    return _SEATS.admit(ctx.session_id, open_ids | {ctx.session_id})
