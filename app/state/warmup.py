"""A server that has just started shows every page once, in English and in Chinese, before it
says it is healthy: the first learner's first view is then as fast as anyone's (issue #23).

Where a cold page's time went (measured on the 2-core machine, busy, in-process): the first
script run of a fresh process took 12-18 s, nearly all of it imports: torch (with
torch._dynamo, which the first model built for a checkpoint's shape check pulls in) about
8 s, pandas 2 s, plotly, bertviz; loading the shipped model. The Tokenisation page then took
another 6-12 s in its shared() results (jieba's dictionary 3 s, three small tokenizers trained,
the BPE replay); the other pages 0.3-2 s each. Drawing a page again takes 0.1-0.3 s.

How: ``warm()`` opens a session of its own through Streamlit's Runtime, with the same calls its
websocket endpoint makes (``connect_session``, ``handle_backmsg``, ``close_session``), and a
client that keeps nothing. It asks for each page of lessons/registry.py as a browser opening
``/<page>?lang=<lang>`` would, one language a session. So everything a first view needs is
done once, by the pages' own code: imports, the shipped models, every shared() result of each
default view, plotly's and bertviz's first use. A page that fails or takes too long is logged
and skipped: the warm-up never keeps a server unhealthy for good.

Until it is done, ``WarmingGate`` answers ``/_stcore/health`` with 503 "warming up", a
browser's page request with a small page in both languages that reloads itself, and refuses
websockets. Why a gate and not a lifespan hook that warms before the server serves: Streamlit
binds its port before the ASGI lifespan starts, so while such a hook ran, probes and learners
would wait on a silent socket until they timed out. With the gate the server answers at once,
says what it is doing, and reports healthy exactly when warm. Behind nginx a 503 sends the
request to another replica (deploy/nginx/nginx.conf.template: proxy_next_upstream).

Light to import (no torch): app/serve.py imports it before the server answers.
LLM_EXPLORER_WARM_UP=0 skips the warm-up (health then answers as soon as Streamlit is up).
"""
from __future__ import annotations

import asyncio
import html
import logging
import os
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from streamlit import runtime
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from lessons import registry
from lessons.i18n import DEFAULT_LANGUAGE, LANGUAGES, t

log = logging.getLogger("llm_explorer")

WARM_UP_ENV = "LLM_EXPLORER_WARM_UP"
PAGE_TIMEOUT_S = 180.0       # one page view; past it the warm-up moves on
RELOAD_S = 3                 # the waiting page reloads itself this often


def wanted(environ=None) -> bool:
    """Whether this server warms up: yes unless LLM_EXPLORER_WARM_UP is 0/false/no/off.

    >>> wanted({}), wanted({"LLM_EXPLORER_WARM_UP": "0"}), wanted({"LLM_EXPLORER_WARM_UP": "1"})
    (True, False, True)
    """
    value = (os.environ if environ is None else environ).get(WARM_UP_ENV, "1")
    return value.strip().lower() not in ("0", "false", "no", "off")


def views() -> list[tuple[str, str]]:
    """Every (language, page url path) the warm-up shows, English first, the home page first.

    >>> views()[0], len(views()) == len(LANGUAGES) * len(registry.PAGES)
    (('en', ''), True)
    """
    return [(lang, entry.url_path) for lang in LANGUAGES for entry in registry.PAGES]


@dataclass
class Progress:
    """How far this process's warm-up is; the gate and the health answer read it."""
    total: int = 0
    done: int = 0
    finished: bool = False
    started: float = field(default_factory=time.monotonic)
    seconds: dict[str, float] = field(default_factory=dict)    # "zh/attention" -> seconds
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        took = time.monotonic() - self.started
        slowest = sorted(self.seconds.items(), key=lambda kv: -kv[1])[:3]
        slow = ", ".join(f"{view} {s:.1f} s" for view, s in slowest)
        return (f"LLM Explorer warmed {self.done} of {self.total} page views in {took:.1f} s"
                + (f" (slowest: {slow})" if slow else "")
                + (f"; problems: {'; '.join(self.problems)}" if self.problems else ""))


PROGRESS = Progress()       # one warm-up a server process


# ---- the warm-up's own session -------------------------------------------------------------

class _Listener:
    """A SessionClient that keeps nothing but when each script run ends and the tracebacks it
    showed (none should: pages turn errors into messages, and log them, app/ui.py).
    Streamlit calls write_forward_msg on its event loop, where warm() waits."""

    def __init__(self):
        self.finished = asyncio.Event()
        self.errors: list[str] = []

    def write_forward_msg(self, msg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element" \
                and msg.delta.new_element.WhichOneof("type") == "exception":
            self.errors.append(msg.delta.new_element.exception.type or "exception")
        elif kind == "script_finished" and \
                msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:  # st.rerun: wait on
            self.finished.set()

    @property
    def client_context(self):
        return None


async def _show(runtime, session_id: str, listener: _Listener, lang: str, page: str) -> None:
    """One page view, as a browser opening /<page>?lang=<lang> asks for it."""
    listener.finished.clear()
    listener.errors.clear()
    runtime.handle_backmsg(session_id, BackMsg(
        rerun_script=ClientState(query_string=f"lang={lang}", page_name=page)))
    await asyncio.wait_for(listener.finished.wait(), PAGE_TIMEOUT_S)


def _prepare_server() -> None:
    """What the server refuses and hosted mode's settings, before any visitor connects (the
    gate refuses websockets until the warm-up is done). Imports torch: run in a thread."""
    from app.state import server
    server.harden()


async def warm(runtime, progress: Progress = PROGRESS) -> Progress:
    """Show every page of views() once; returns progress, finished whatever happened."""
    all_views = views()
    progress.total = len(all_views)
    try:
        await asyncio.to_thread(_prepare_server)
        for lang in LANGUAGES:
            listener = _Listener()
            session_id = runtime.connect_session(client=listener, user_info={})
            try:
                for page in (p for view_lang, p in all_views if view_lang == lang):
                    await _warm_one(runtime, session_id, listener, lang, page, progress)
            finally:
                runtime.close_session(session_id)
    except asyncio.CancelledError:      # the server stops while warming
        raise
    except Exception as exc:            # noqa: BLE001 -- a server that cannot warm still serves
        progress.problems.append(f"warm-up stopped: {type(exc).__name__}: {exc}")
        log.error("warm-up stopped", exc_info=exc)
    finally:
        progress.finished = True
    print(progress.summary(), flush=True)      # once, in the server's output
    return progress


async def _warm_one(runtime, session_id, listener, lang, page, progress) -> None:
    view = f"{lang}/{page or 'home'}"
    started = time.monotonic()
    try:
        await _show(runtime, session_id, listener, lang, page)
    except asyncio.TimeoutError:
        progress.problems.append(f"{view}: no answer in {PAGE_TIMEOUT_S:.0f} s")
    progress.seconds[view] = time.monotonic() - started
    if listener.errors:
        progress.problems.append(f"{view} showed: {' | '.join(listener.errors)}")
    progress.done += 1


def start(progress: Progress = PROGRESS, environ=None) -> asyncio.Task | None:
    """Begin warming in the background of the running event loop (app/serve.py's lifespan,
    after Streamlit's runtime has started); None, and healthy at once, where it is off."""
    if not wanted(environ):
        progress.finished = True
        return None
    return asyncio.get_running_loop().create_task(warm(runtime.get_instance(), progress))


# ---- the gate ------------------------------------------------------------------------------

def waiting_page(done: int, total: int, first_lang: str = DEFAULT_LANGUAGE) -> str:
    """The page a browser gets while the server warms up: both languages, the asked-for one
    first, and a refresh after RELOAD_S seconds. No script (the CSP allows none from here)."""
    order = sorted(LANGUAGES, key=lambda lang: lang != first_lang)
    sections = "\n".join(
        f'<section lang="{"zh-CN" if lang == "zh" else lang}">'
        f"<h1>{html.escape(t('app.warming_title', lang))}</h1>"
        f"<p>{html.escape(t('app.warming_body', lang, done=done, total=total))}</p></section>"
        for lang in order)
    return ("<!DOCTYPE html>\n"
            f'<html lang="{"zh-CN" if order[0] == "zh" else order[0]}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="refresh" content="{RELOAD_S}"><title>LLM Explorer</title>'
            "<style>body{font-family:sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;"
            "line-height:1.5}h1{font-size:1.5rem}"
            "section+section{margin-top:2rem;border-top:1px solid;padding-top:1rem}</style>"
            f"</head><body><main>{sections}</main></body></html>")


def _wants_a_page(scope) -> bool:
    """A browser asking for a page (not a script, a style sheet or an API call)."""
    accept = dict(scope.get("headers") or []).get(b"accept", b"")
    return scope.get("method") in ("GET", "HEAD") and b"text/html" in accept \
        and "/_stcore/" not in scope.get("path", "")


class WarmingGate:
    """ASGI middleware: until the warm-up is done, 503 for the health check and for page
    requests (a waiting page), websockets refused; everything passes once it is done."""

    def __init__(self, app, progress: Progress = PROGRESS):
        self.app = app
        self.progress = progress

    async def __call__(self, scope, receive, send):
        if self.progress.finished or scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":    # 1013: try again later (the frontend does)
            await receive()                  # websocket.connect
            return await send({"type": "websocket.close", "code": 1013})
        done, total = self.progress.done, self.progress.total or len(views())
        if scope.get("path", "").rstrip("/").endswith("/_stcore/health"):
            return await _answer(send, "text/plain", f"warming up: {done} of {total} page views")
        if _wants_a_page(scope):
            lang = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [""])[0]
            return await _answer(send, "text/html", waiting_page(done, total, lang))
        await self.app(scope, receive, send)


async def _answer(send, content_type: str, body: str) -> None:
    data = body.encode("utf-8")
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", f"{content_type}; charset=utf-8".encode()),
                            (b"retry-after", str(RELOAD_S).encode()),
                            (b"cache-control", b"no-store"),
                            (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
