"""Load test of the hosted demo: N sessions, M of them training, for T minutes, on localhost.

What it measures
----------------
It starts its own server (``streamlit run app/main.py`` with ``LLM_EXPLORER_HOSTED=1`` and
``OMP_NUM_THREADS=1``) on a free 127.0.0.1 port, then opens N sessions against it. Each session
is an asyncio websocket client that speaks Streamlit's own protocol, the way the browser's
frontend does (browsers themselves would mostly measure Chromium on a 2-core machine):

* handshake: GET /_stcore/health for the ``_streamlit_xsrf`` cookie, then open
  ``/_stcore/stream`` with the subprotocols ``streamlit, <xsrf token>``, the cookie and an Origin;
* every page load or widget change is a ``rerun_script`` BackMsg (page hash, widget states, the
  hashes of the messages this client has cached); its latency is the time until the server's
  ``script_finished`` for it;
* the server's message cache: messages flagged ``cacheable`` are kept and their hashes sent with
  each rerun; the server then sends ``ref_hash`` stand-ins, which the client resolves;
* ``run_every`` fragments: the server only announces them (``auto_rerun``); the frontend reruns
  them on a timer by sending a ``rerun_script`` with the fragment id, and so does this client.

N - M sessions browse the pages lessons/registry.py marks ``browse``, with a random think time,
and now and then move a slider or pick another option. M sessions open Training, pick a
preset, press "Start training" and then watch the live view (the 1 s fragment) until the run says
"Finished N steps.", and keep watching until the end (as a learner reading the samples would).

Counted as an error: an exception box on a page, a dropped connection, a rerun that takes
longer than --timeout-s, a run that fails or diverges. It prints a progress line every 15 s and
at the end p50/p95/max page latency per page (non-training pages) and for the training page
(full reruns and fragment reruns separately), errors, the server's peak RSS (process plus
children), the runs started/finished and the longest queue seen, then one JSON line with every
figure.

It always stops: after T minutes the browsing sessions end, training sessions get --grace-s to
finish, a hard deadline covers everything else, and the server is killed on the way out (also
on Ctrl-C or SIGTERM).

Before the sessions start, one uncounted session visits every page once, as the first visitor
of a fresh server would (--no-warmup skips it and so also tests a cold start, where several
sessions import the pages' libraries at the same moment). --server-arg passes an extra option to
``streamlit run`` for experiments, e.g. ``--server-arg=--runner.postScriptGC=true`` brings back
Streamlit's full garbage collection after every script run (off in .streamlit/config.toml).

    .venv/bin/python benchmarks/load.py --sessions 30 --training 4 --minutes 5
    .venv/bin/python benchmarks/load.py --sessions 3 --training 1 --preset tiny --minutes 0.3
    .venv/bin/python benchmarks/load.py --replicas 2 --sessions 60 --training 4 --minutes 5

``--replicas N`` starts N hosted servers behind nginx instead (deploy/scaled.py; make
load-test-scaled), warms each replica directly, sends every session through nginx (each keeps
nginx's stickiness cookie, as a browser does), adds memory and CPU up over all processes, and
prints one short JSON line last.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.typing import Origin, Subprotocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ClientState_pb2 import ClientState  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

from lessons import registry  # noqa: E402
from lessons.i18n import t, topic_sections  # noqa: E402

try:                      # psutil comes with the test extras (via ipykernel); /proc otherwise
    import psutil
except ImportError:       # pragma: no cover
    psutil = None

TRAINING_PAGE = "training"       # driven by the training sessions, never browsed


def browse_pages() -> list[str]:
    """The pages visitors browse, by the name the navigation gives them (the home page's url
    path is empty: "home"): every registry entry marked browse."""
    return [entry.slug for entry in registry.PAGES if entry.browse]


PRESETS = ["quick-demo", "tiny", "baby", "classroom", "shakespeare-char"]
SIDEBAR = 1                       # first number of a delta path: 0 main area, 1 sidebar
CHANGEABLE = ("slider", "radio", "selectbox", "checkbox")
PROGRESS_EVERY_S = 15.0


# ---- texts the training page shows, as regular expressions -----------------------------------

def _pattern(template: str) -> re.Pattern:
    """'Finished {steps} steps.' -> a regex with one group per placeholder."""
    parts = re.split(r"\{\w+\}", template)
    return re.compile(r"(.+?)".join(re.escape(p) for p in parts), re.S)


_TRAINING = topic_sections("training", "en")
FINISHED_RE = _pattern(_TRAINING["finished"])
QUEUED_RE = _pattern(_TRAINING["queued"])
PROGRESS_RE = _pattern(_TRAINING["progress"])        # "Step {step} of {total} · about {eta} left"
STATUS_RE = _pattern(_TRAINING["status_line"])
STATUS_WORDS = {_TRAINING[k]: k.removeprefix("status_") for k in _TRAINING
                if k.startswith("status_") and k != "status_line"}


# ---- figures ---------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def spread(values: list[float]) -> dict:
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "max": max(values) if values else None}


@dataclass
class RunRecord:
    session: int
    started: float
    first_step_at: float | None = None
    finished_at: float | None = None
    steps: int | None = None       # as the "Finished N steps." line says
    last_step: int = 0             # the newest "Step N of M" seen
    max_queue_position: int = 0
    outcome: str = "running"       # running, finished, failed, lost, unfinished


@dataclass
class Recorder:
    """Everything measured, shared by all sessions (one event loop, so no locks)."""
    t0: float = field(default_factory=time.monotonic)
    page_s: dict[str, list[float]] = field(default_factory=dict)   # non-training pages
    training_full_s: list[float] = field(default_factory=list)
    training_fragment_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)
    rss_peak_mb: float = 0.0
    rss_last_mb: float = 0.0
    server_cpu_s: float = 0.0          # CPU seconds of the server so far
    server_cpu_at_start: float = 0.0   # ... when the sessions started (after the warm-up)
    reconnects: int = 0
    widget_changes: int = 0
    page_views: int = 0
    _recent: list[float] = field(default_factory=list)

    def page(self, name: str, seconds: float) -> None:
        self.page_s.setdefault(name, []).append(seconds)
        self._recent.append(seconds)

    def error(self, session: int, message: str) -> None:
        text = f"[{self.elapsed():.0f}s] session {session}: {message}"
        self.errors.append(text)
        if len(self.errors) <= 5:
            print("ERROR " + text, flush=True)

    def warning(self, session: int, message: str) -> None:
        self.warnings.append(f"session {session}: {message}")

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def take_recent(self) -> list[float]:
        recent, self._recent = self._recent, []
        return recent


# ---- one browser tab -------------------------------------------------------------------------

class SessionBroken(Exception):
    """The connection is gone or out of step; the session reconnects as a new tab."""


@dataclass
class Widget:
    kind: str
    id: str
    label: str
    proto: object
    in_sidebar: bool


@dataclass
class RunResult:
    """What one rerun drew: its elements, the fragments it announced, the errors it showed."""
    seconds: float = 0.0
    elements: list = field(default_factory=list)        # (delta path, Element)
    fragment_ids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def texts(self) -> list[str]:
        out = []
        for _, el in self.elements:
            kind = el.WhichOneof("type")
            if kind in ("markdown", "alert", "heading"):
                out.append(getattr(el, kind).body)
            elif kind == "progress":
                out.append(el.progress.text)
        return out

    def widgets(self) -> list[Widget]:
        found = []
        for path, el in self.elements:
            kind = el.WhichOneof("type")
            proto = getattr(el, kind) if kind else None
            if proto is not None and hasattr(proto, "id") and hasattr(proto, "label"):
                in_sidebar = bool(path) and path[0] == SIDEBAR
                found.append(Widget(kind, proto.id, proto.label, proto, in_sidebar))
        return found

    def widget(self, kind: str, label: str) -> Widget | None:
        return next((w for w in self.widgets() if w.kind == kind and w.label == label), None)


class Tab:
    """One session, as the browser's frontend would drive it over the websocket."""

    def __init__(self, base_url: str, timeout_s: float):
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.ws = None
        self.pages: dict[str, str] = {}          # page name (url path) -> page_script_hash
        self.page_hash = ""                      # the page shown now ("" = the default page)
        self.values: dict[str, WidgetState] = {}  # widget values set by the user on this page
        self.cache: dict[str, list] = {}         # hash -> [ForwardMsg, run that last used it]
        self.runs_done = 0
        self.max_cache_age = 2
        self.query_string = ""                   # the page address's query, e.g. "learner=..."

    async def open(self) -> None:
        token, cookie = await asyncio.to_thread(fetch_xsrf_cookie, self.base_url)
        # The frontend passes the XSRF token as the second "subprotocol"; the server picks the
        # first, "streamlit". (Without a token the server still connects, but skips auth.)
        protocols = [Subprotocol("streamlit")] + ([Subprotocol(token)] if token else [])
        self.ws = await connect(
            self.base_url.replace("http://", "ws://") + "/_stcore/stream",
            subprotocols=protocols, origin=Origin(self.base_url),
            additional_headers={"Cookie": cookie} if cookie else None,
            max_size=None,            # a page with plotly charts is well over websockets' 1 MiB
            ping_interval=None,       # browsers never ping; the server pings us
            proxy=None, open_timeout=self.timeout_s, close_timeout=2)

    async def close(self) -> None:
        if self.ws is not None:
            try:
                await self.ws.close()
            except (OSError, WebSocketException):
                pass
            self.ws = None

    def set_value(self, widget: Widget, state: WidgetState) -> None:
        state.id = widget.id
        self.values[widget.id] = state

    async def rerun(self, page: str | None = None, fragment_id: str | None = None,
                    trigger: str | None = None) -> RunResult:
        """Send one rerun_script and read until its script_finished."""
        if page is not None:
            if page not in self.pages:
                raise SessionBroken(f"no page {page!r} in the navigation ({', '.join(self.pages)})")
            new_hash = self.pages[page]
            if new_hash != self.page_hash:
                self.values = {}      # the old page's widgets are gone
            self.page_hash = new_hash
        client = ClientState(query_string=self.query_string, page_script_hash=self.page_hash)
        client.widget_states.widgets.extend(self.values.values())
        if trigger:   # a button press: sent once, as the frontend does, then forgotten
            client.widget_states.widgets.append(WidgetState(id=trigger, trigger_value=True))
        if fragment_id:
            client.fragment_id = fragment_id
            client.is_auto_rerun = True
        client.cached_message_hashes.extend(self.cache)
        started = time.perf_counter()
        try:
            await self.ws.send(BackMsg(rerun_script=client).SerializeToString())
            result = await self._read_until_finished(started, bool(fragment_id))
        except asyncio.TimeoutError:   # first: TimeoutError is also an OSError
            what = "fragment" if fragment_id else f"page {self.page_name()}"
            raise SessionBroken(
                f"no script_finished within {self.timeout_s:.0f} s ({what})") from None
        except (ConnectionClosed, OSError) as exc:
            raise SessionBroken(f"connection lost: {exc!r}") from exc
        result.seconds = time.perf_counter() - started
        return result

    def page_name(self) -> str:
        return next((n for n, h in self.pages.items() if h == self.page_hash), "?")

    async def _read_until_finished(self, started: float, fragment: bool) -> RunResult:
        result = RunResult()
        deadline = started + self.timeout_s
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), max(0.001, deadline - time.perf_counter()))
            msg = self._resolve_cached(ForwardMsg.FromString(raw))
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self._on_new_session(msg.new_session)
            elif kind == "navigation":
                # st.navigation's list: every page's hash, and which one this run shows
                self._learn_pages(msg.navigation.app_pages)
                self.page_hash = msg.navigation.page_script_hash or self.page_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._collect(result, msg)
            elif kind == "auto_rerun":
                result.fragment_ids.append(msg.auto_rerun.fragment_id)
            elif kind == "page_not_found":
                result.problems.append(f"page not found: {msg.page_not_found.page_name!r}")
            elif kind == "session_event" and msg.session_event.HasField(
                    "script_compilation_exception"):
                result.problems.append("script compilation error: "
                                       + msg.session_event.script_compilation_exception.message)
            elif kind == "script_finished":
                status = msg.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue          # st.rerun() inside the script: its next run answers us
                if status == ForwardMsg.FINISHED_SUCCESSFULLY and not fragment:
                    self._age_cache()
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    result.problems.append("script finished with a compile error")
                return result

    def _on_new_session(self, new_session) -> None:
        # With st.navigation, new_session names only the main script (app/main.py); the pages
        # and the current page come in the navigation message that follows.
        if new_session.config.max_cached_message_age:
            self.max_cache_age = new_session.config.max_cached_message_age

    def _learn_pages(self, app_pages) -> None:
        for p in app_pages:   # the default page's url path is ""
            self.pages[p.url_pathname or "home"] = p.page_script_hash

    @staticmethod
    def _collect(result: RunResult, msg: ForwardMsg) -> None:
        element = msg.delta.new_element
        result.elements.append((tuple(msg.metadata.delta_path), element))
        if element.WhichOneof("type") == "exception":
            exc = element.exception
            line = f"{exc.type}: {exc.message}".strip()[:300]
            (result.warnings if exc.is_warning else result.problems).append(line)

    def _resolve_cached(self, msg: ForwardMsg) -> ForwardMsg:
        """Swap a ref_hash stand-in for the message it names; remember cacheable messages."""
        if msg.WhichOneof("type") == "ref_hash":
            entry = self.cache.get(msg.ref_hash)
            if entry is None:
                raise SessionBroken(f"server referred to a message we never had: {msg.ref_hash}")
            full = ForwardMsg()
            full.CopyFrom(entry[0])
            full.metadata.CopyFrom(msg.metadata)    # the stand-in says where it goes now
            entry[1] = self.runs_done
            return full
        if msg.metadata.cacheable:
            self.cache[msg.hash] = [msg, self.runs_done]
        return msg

    def _age_cache(self) -> None:
        # Like the frontend: forget messages no run has used for max_cached_message_age runs,
        # so the hash list we send stays short.
        self.runs_done += 1
        stale = [h for h, (_, used) in self.cache.items()
                 if self.runs_done - used > self.max_cache_age]
        for h in stale:
            del self.cache[h]


def fetch_xsrf_cookie(base_url: str) -> tuple[str | None, str | None]:
    """(token, Cookie header) from the server's _streamlit_xsrf cookie, as a browser gets it.
    The Cookie header carries every cookie set, as a browser's would: behind the proxy of
    `--replicas` that includes nginx's stickiness cookie, which keeps the tab on one replica."""
    with urllib.request.urlopen(base_url + "/_stcore/health", timeout=10) as response:
        cookies = {}
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
    token = cookies.get("_streamlit_xsrf")
    header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return token, (header or None)


# ---- what a learner does ---------------------------------------------------------------------

def random_change(widget: Widget, rng: random.Random) -> WidgetState | None:
    """A new value for a slider / radio / selectbox / checkbox, as a user would pick it."""
    w = widget.proto
    if widget.kind == "checkbox":
        return WidgetState(bool_value=not (w.value if w.set_value else w.default))
    if widget.kind in ("radio", "selectbox"):
        options = list(w.options)
        default = options[w.default] if 0 <= w.default < len(options) else None
        current = w.raw_value if w.set_value else default
        others = [o for o in options if o != current]
        return WidgetState(string_value=rng.choice(others)) if others else None
    if widget.kind == "slider":
        if w.options:         # a select_slider: its formatted options
            current = w.raw_value if w.set_value else None
            others = [o for o in w.options if o != current]
            state = WidgetState()
            state.string_array_value.data.append(rng.choice(others))
            return state
        if w.data_type not in (0, 1) or len(w.default) != 1 or w.step <= 0:   # INT, FLOAT only
            return None
        n = int(round((w.max - w.min) / w.step))
        if n < 1:
            return None
        value = w.min + rng.randint(0, n) * w.step
        state = WidgetState()
        is_int = w.data_type == 0
        state.double_array_value.data.append(float(round(value)) if is_int else round(value, 10))
        return state
    return None


def changeable_widgets(result: RunResult) -> list[Widget]:
    # The sidebar holds the language and device pickers: a visitor rarely touches them and
    # they would change what every later page measures.
    return [w for w in result.widgets() if w.kind in CHANGEABLE and not w.in_sidebar
            and not w.proto.disabled and not getattr(w.proto, "form_id", "")]


CLASS_FULL = t("app.class_full", "en")


async def measured(tab: Tab, rec: Recorder, session: int, **rerun) -> RunResult:
    """One rerun; its problems become errors. A server that turned the session away (its cap
    of learners, LLM_EXPLORER_MAX_SESSIONS) counts as an error too: the page was not served."""
    result = await tab.rerun(**rerun)
    if CLASS_FULL in result.texts():
        result.problems.append("the class is full (the server's cap of learners)")
    for problem in result.problems:
        rec.error(session, f"{tab.page_name()}: {problem}")
    for warning in result.warnings:
        rec.warning(session, f"{tab.page_name()}: {warning}")
    return result


def record_page(rec: Recorder, tab: Tab, result: RunResult) -> None:
    name = tab.page_name()
    if name == TRAINING_PAGE:
        rec.training_full_s.append(result.seconds)
    else:
        rec.page(name, result.seconds)


async def sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


async def browse(tab: Tab, rng: random.Random, rec: Recorder, session: int, args,
                 stop_at: float) -> None:
    """Open the app, then visit pages and move widgets until stop_at."""
    result = await measured(tab, rec, session)           # the first load: the default page
    record_page(rec, tab, result)
    tour: list[str] = []
    while True:
        think = rng.uniform(args.think_min, args.think_max)
        if time.monotonic() + think >= stop_at:
            return
        await asyncio.sleep(think)
        options = changeable_widgets(result)
        if options and rng.random() < args.widget_prob:
            widget = rng.choice(options)
            state = random_change(widget, rng)
            if state is not None:
                tab.set_value(widget, state)
                rec.widget_changes += 1
                result = await measured(tab, rec, session)
                record_page(rec, tab, result)
                continue
        # pages in a shuffled order, each once per round, so even a short run sees them all
        if not tour:
            pages = browse_pages()
            tour = rng.sample(pages, len(pages))
        page = tour.pop()
        if page == tab.page_name():
            continue
        rec.page_views += 1
        result = await measured(tab, rec, session, page=page)
        record_page(rec, tab, result)


async def train_and_watch(tab: Tab, rng: random.Random, rec: Recorder, session: int, args,
                          stop_at: float, give_up_at: float) -> None:
    """Open Training, pick the preset, press Start, watch the live view (1 s fragment)."""
    result = await measured(tab, rec, session)
    record_page(rec, tab, result)
    await asyncio.sleep(rng.uniform(args.think_min, args.think_max))
    result = await measured(tab, rec, session, page=TRAINING_PAGE)
    record_page(rec, tab, result)
    if args.preset != PRESETS[0]:
        box = result.widget("selectbox", t("training.preset", "en"))
        if box is None:
            rec.error(session, "training: no preset selectbox")
            return
        label = t(f"training.preset_{args.preset.replace('-', '_')}", "en")
        tab.set_value(box, WidgetState(string_value=label))
        result = await measured(tab, rec, session)
        record_page(rec, tab, result)
    button = result.widget("button", t("training.start", "en"))
    if button is None or button.proto.disabled:
        rec.error(session, "training: the Start button is missing or disabled")
        return
    run = RunRecord(session, started=rec.elapsed())
    rec.runs.append(run)
    try:
        result = await measured(tab, rec, session, trigger=button.id)
        record_page(rec, tab, result)
        if not result.fragment_ids:
            rec.error(session, "training: the page announced no auto-rerun fragment")
            return
        await watch_live_view(tab, rec, session, run, result.fragment_ids[-1], result, stop_at,
                              give_up_at)
    finally:
        if run.outcome == "running":    # the session broke before the run was seen to end
            run.outcome = "lost"


async def watch_live_view(tab: Tab, rec: Recorder, session: int, run: RunRecord, fragment: str,
                          result: RunResult, stop_at: float, give_up_at: float) -> None:
    # The frontend's timer sends the fragment rerun every `interval` seconds; when a run takes
    # longer, the server folds the waiting requests into one, so back-to-back is the same.
    next_at = time.monotonic()
    while True:
        read_run_state(result, run, rec)
        now = time.monotonic()
        if run.outcome in ("finished", "failed") and now >= stop_at:
            return
        if run.outcome == "running" and now >= give_up_at:
            run.outcome = "unfinished"
            return
        next_at = max(next_at + 1.0, now)
        await sleep_until(next_at)
        result = await measured(tab, rec, session, fragment_id=fragment)
        rec.training_fragment_s.append(result.seconds)


def read_run_state(result: RunResult, run: RunRecord, rec: Recorder) -> None:
    """Update the run's record from what the live view shows."""
    if run.outcome != "running":
        return
    for text in result.texts():
        if m := PROGRESS_RE.search(text):
            run.last_step = max(run.last_step, int(m.group(1).replace(",", "")))
        if m := QUEUED_RE.search(text):
            run.max_queue_position = max(run.max_queue_position, int(m.group(1)))
        status = STATUS_WORDS.get(m.group(1)) if (m := STATUS_RE.search(text)) else None
        if status == "running" and run.first_step_at is None:
            run.first_step_at = rec.elapsed()
        elif status in ("diverged", "error"):
            run.outcome = "failed"
            rec.error(run.session, f"training run {status}")
        if m := FINISHED_RE.search(text):
            run.outcome, run.steps, run.finished_at = "finished", int(m.group(1)), rec.elapsed()


async def session_main(index: int, training: bool, base_url: str, rec: Recorder, args,
                       stop_at: float, give_up_at: float) -> None:
    """One visitor: arrives during the ramp-up, and comes back as a new tab after an error."""
    rng = random.Random(f"{args.seed}-{index}")
    await asyncio.sleep(rng.uniform(0, args.ramp_s))
    while time.monotonic() < stop_at:
        tab = Tab(base_url, args.timeout_s)
        try:
            await tab.open()
            if training:
                training = False      # one run per training visitor; after an error it browses
                await train_and_watch(tab, rng, rec, index, args, stop_at, give_up_at)
                return
            await browse(tab, rng, rec, index, args, stop_at)
            return
        except (SessionBroken, OSError, WebSocketException, asyncio.TimeoutError) as exc:
            rec.error(index, str(exc) or repr(exc))
            rec.reconnects += 1
            await asyncio.sleep(1.0)
        finally:
            await tab.close()


# ---- the server ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log, extra_args: list[str] = ()) -> subprocess.Popen:
    env = dict(os.environ, LLM_EXPLORER_HOSTED="1", OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "streamlit", "run", "app/main.py",
               "--server.headless", "true", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
               "--browser.gatherUsageStats", "false", *extra_args]
    # its own process group, so stopping it also stops anything it started
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_for_health(base_url: str, server: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(base_url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server was not healthy within {timeout_s:.0f} s")


def server_usage(server: subprocess.Popen) -> tuple[float, float]:
    """(RSS in MB, CPU seconds so far) of the server and every process under it."""
    if psutil is None:
        return _proc_usage(server.pid)
    rss = cpu = 0.0
    try:
        root = psutil.Process(server.pid)
        for p in [root, *root.children(recursive=True)]:
            try:
                rss += p.memory_info().rss
                times = p.cpu_times()
                cpu += times.user + times.system
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return rss / 2**20, cpu


def _proc_usage(root: int) -> tuple[float, float]:
    """server_usage without psutil, from Linux's /proc."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # the fields after the ")" that ends the command name: state ppid ... utime stime
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            rss_pages = int((entry / "statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]), rss_pages)
    tree, grew = {root}, True
    while grew:
        children = {pid for pid, (ppid, _, _) in stats.items() if ppid in tree} - tree
        tree |= children
        grew = bool(children)
    ticks, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    mine = [stats[p] for p in tree if p in stats]
    return sum(r for _, _, r in mine) * page / 2**20, sum(c for _, c, _ in mine) / ticks


def servers_usage(servers: list[subprocess.Popen]) -> tuple[float, float]:
    """server_usage added up over several servers (the replicas and nginx)."""
    usages = [server_usage(s) for s in servers]
    return sum(u[0] for u in usages), sum(u[1] for u in usages)


async def watch_server(servers: list[subprocess.Popen], rec: Recorder) -> None:
    while True:
        rss, cpu = servers_usage(servers)
        rec.rss_last_mb, rec.server_cpu_s = rss, cpu
        rec.rss_peak_mb = max(rec.rss_peak_mb, rss)
        await asyncio.sleep(1.0)


async def print_progress(rec: Recorder, sessions: list[asyncio.Task]) -> None:
    last_cpu, last_t = rec.server_cpu_s, rec.elapsed()
    while True:
        await asyncio.sleep(PROGRESS_EVERY_S)
        recent = rec.take_recent()
        now = rec.elapsed()
        cpu_pct = 100 * (rec.server_cpu_s - last_cpu) / max(1e-9, now - last_t)
        last_cpu, last_t = rec.server_cpu_s, now
        finished = sum(r.outcome == "finished" for r in rec.runs)
        p95 = percentile(recent, 95)
        print(f"[{now:4.0f}s] sessions {sum(not s.done() for s in sessions):2d} | page reruns "
              f"{sum(map(len, rec.page_s.values()))} (last {PROGRESS_EVERY_S:.0f}s: {len(recent)}, "
              f"p95 {'-' if p95 is None else f'{p95:.2f}s'}) | fragment reruns "
              f"{len(rec.training_fragment_s)} | errors {len(rec.errors)} | runs {finished}/"
              f"{len(rec.runs)} done, queue max "
              f"{max((r.max_queue_position for r in rec.runs), default=0)}"
              f" | server {rec.rss_last_mb:.0f} MB, {cpu_pct:.0f}% CPU", flush=True)


async def warm_up(base_url: str, timeout_s: float) -> dict[str, float]:
    """Visit every page once, as the first visitor of a fresh server would (not counted)."""
    tab = Tab(base_url, timeout_s)
    seconds = {}
    try:
        await tab.open()
        result = await tab.rerun()
        seconds[tab.page_name()] = result.seconds
        for page in [entry.slug for entry in registry.PAGES if not entry.is_home]:
            seconds[page] = (await tab.rerun(page=page)).seconds
    finally:
        await tab.close()
    return seconds


async def run_load(base_url: str, servers: list[subprocess.Popen], rec: Recorder, args,
                   warm_urls: list[str] = ()) -> None:
    """The sessions against base_url; the warm-up visits each of warm_urls (every replica
    directly, behind a proxy) or base_url."""
    if args.warmup:
        for url in warm_urls or [base_url]:
            try:
                cold = await warm_up(url, max(args.timeout_s, 120))
                print("warm-up (first visit of each page, not counted): "
                      + ", ".join(f"{p} {s:.1f}s" for p, s in cold.items()), flush=True)
            except (SessionBroken, OSError, WebSocketException, asyncio.TimeoutError) as exc:
                rec.error(-1, f"warm-up: {exc}")
    rec.t0 = time.monotonic()
    stop_at = rec.t0 + args.minutes * 60
    give_up_at = stop_at + args.grace_s
    rec.server_cpu_at_start = rec.server_cpu_s = servers_usage(servers)[1]
    watcher = asyncio.create_task(watch_server(servers, rec))
    sessions = [asyncio.create_task(session_main(i, i < args.training, base_url, rec, args,
                                                 stop_at, give_up_at))
                for i in range(args.sessions)]
    progress = asyncio.create_task(print_progress(rec, sessions))
    try:
        await asyncio.gather(*sessions)
    finally:
        for task in (*sessions, progress, watcher):
            task.cancel()
        await asyncio.gather(*sessions, progress, watcher, return_exceptions=True)


# ---- the report ------------------------------------------------------------------------------

def summary(rec: Recorder, args, server_log_problems: list[str]) -> dict:
    browse_all = [s for v in rec.page_s.values() for s in v]
    wall = rec.elapsed()
    runs = rec.runs
    return {
        "sessions": args.sessions, "training_sessions": args.training, "minutes": args.minutes,
        "replicas": args.replicas,
        "preset": args.preset, "seed": args.seed, "cpu_count": os.cpu_count(),
        "server_args": args.server_arg,
        "wall_s": round(wall, 1),
        "pages": {name: spread(v) for name, v in sorted(rec.page_s.items())},
        "non_training": spread(browse_all),
        "training_page_full": spread(rec.training_full_s),
        "training_fragment": spread(rec.training_fragment_s),
        "page_views": rec.page_views, "widget_changes": rec.widget_changes,
        "errors": len(rec.errors), "first_errors": rec.errors[:5],
        "errors_by_kind": errors_by_kind(rec.errors),
        "warnings": len(rec.warnings), "first_warnings": rec.warnings[:3],
        "reconnects": rec.reconnects,
        "server_log_tracebacks": len(server_log_problems),
        "first_server_log_problems": server_log_problems[:3],
        "peak_rss_mb": round(rec.rss_peak_mb), "server_cpu_percent": round(
            100 * (rec.server_cpu_s - rec.server_cpu_at_start) / max(wall, 1e-9)),
        "client_cpu_s": round(time.process_time(), 1),
        "runs_started": len(runs),
        "runs_finished": sum(r.outcome == "finished" for r in runs),
        "runs_not_finished": [f"session {r.session}: {r.outcome} at step {r.last_step}"
                              for r in runs if r.outcome != "finished"],
        # every training session started a run and every run finished
        "all_runs_finished": len(runs) == args.training
                             and all(r.outcome == "finished" for r in runs),
        "queue_max_position": max((r.max_queue_position for r in runs), default=0),
        "run_seconds": [round(r.finished_at - r.started, 1) for r in runs if r.finished_at],
        "run_steps": [r.steps for r in runs if r.steps is not None],
    }


def errors_by_kind(errors: list[str]) -> dict[str, int]:
    """'[38s] session 4: no script_finished within 30 s (page attention)' counted without the
    time and session, most frequent first."""
    kinds: dict[str, int] = {}
    for e in errors:
        kind = re.sub(r"^\[\d+s\] session -?\d+: ", "", e)
        kinds[kind] = kinds.get(kind, 0) + 1
    return dict(sorted(kinds.items(), key=lambda kv: -kv[1]))


def print_summary(s: dict) -> None:
    def fmt(v):
        return "-" if v is None else f"{v:.2f}"

    def row(name, d):
        print(f"  {name:<22} {d['n']:>6} {fmt(d['p50']):>7} {fmt(d['p95']):>7} {fmt(d['max']):>7}")

    print(f"\n=== load test: {s['sessions']} sessions ({s['training_sessions']} training, preset "
          f"{s['preset']}), {s['minutes']} min, {s['cpu_count']} CPUs, {s['wall_s']} s wall ===")
    if s["server_args"]:
        print(f"  server started with extra options: {' '.join(s['server_args'])}")
    print(f"  {'latency (s)':<22} {'reruns':>6} {'p50':>7} {'p95':>7} {'max':>7}")
    for name, d in s["pages"].items():
        row(name, d)
    row("ALL non-training", s["non_training"])
    row("training (full page)", s["training_page_full"])
    row("training (live 1 s)", s["training_fragment"])
    print(f"  ({s['page_views']} page changes and {s['widget_changes']} widget changes after the "
          f"first loads)")
    print(f"  errors: {s['errors']}  (reconnects {s['reconnects']}, warnings {s['warnings']}, "
          f"tracebacks in server log {s['server_log_tracebacks']})")
    for kind, n in s["errors_by_kind"].items():
        print(f"    {n:4d} x {kind}")
    for e in s["first_errors"][:3]:
        print(f"    first: {e}")
    for e in s["first_server_log_problems"]:
        print(f"    server log: {e}")
    print(f"  peak server RSS: {s['peak_rss_mb']} MB; server CPU {s['server_cpu_percent']}% of one "
          f"core on average; load client CPU {s['client_cpu_s']} s")
    print(f"  runs: {s['runs_started']} started, {s['runs_finished']} finished, queue position max "
          f"{s['queue_max_position']}, all finished: {s['all_runs_finished']}; seconds from Start "
          f"to finished {s['run_seconds']}")
    for r in s["runs_not_finished"]:
        print(f"    not finished: {r}")
    target = s["non_training"]["p95"]
    print(f"  targets: 0 errors {'OK' if s['errors'] == 0 else 'MISSED'}; p95 <= 2 s "
          f"{'OK' if target is not None and target <= 2 else 'MISSED'}; RSS <= 4 GB "
          f"{'OK' if s['peak_rss_mb'] <= 4096 else 'MISSED'}; all runs finished "
          f"{'OK' if s['all_runs_finished'] else 'MISSED'}")


def server_log_problems(path: Path) -> list[str]:
    """The line after each 'Traceback' (and error lines) in the server's log."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    found = []
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            tail = next((l for l in lines[i + 1:] if l and not l.startswith(" ")), "")
            found.append(tail.strip()[:300])
    return found


def raise_interrupt(*_) -> None:
    raise KeyboardInterrupt


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=30)
    p.add_argument("--training", type=int, default=4, help="how many of the sessions train")
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--preset", choices=PRESETS, default="quick-demo")
    p.add_argument("--think-min", type=float, default=2.0, help="seconds between actions, low end")
    p.add_argument("--think-max", type=float, default=6.0)
    p.add_argument("--widget-prob", type=float, default=0.3,
                   help="chance that an action changes a widget instead of opening another page")
    p.add_argument("--ramp-s", type=float, default=10.0,
                   help="sessions arrive over this many seconds")
    p.add_argument("--grace-s", type=float, default=120.0,
                   help="extra time for unfinished training runs after --minutes")
    p.add_argument("--timeout-s", type=float, default=30.0,
                   help="one rerun slower than this is an error")
    p.add_argument("--port", type=int, default=0, help="0: a free port")
    p.add_argument("--server-arg", action="append", default=[], metavar="--OPTION=VALUE",
                   help="an extra `streamlit run` option for experiments, e.g. "
                        "--server-arg=--runner.postScriptGC=true (repeatable)")
    p.add_argument("--no-warmup", dest="warmup", action="store_false",
                   help="skip the uncounted first visit of every page")
    p.add_argument("--replicas", type=int, default=0,
                   help="N > 0: N hosted servers behind nginx (deploy/scaled.py), the sessions "
                        "through nginx; memory and CPU are added up over all of them. Prints a "
                        "short JSON line last (sessions, training, replicas, p50_s, p95_s, "
                        "errors, peak_rss_mb, runs_finished)")
    args = p.parse_args(argv)
    if not 0 <= args.training <= args.sessions:
        p.error("--training must be between 0 and --sessions")
    return args


class OneServer:
    """The hosted server the load test starts (no proxy)."""

    def __init__(self, args, log):
        self.port = args.port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args, self.log, self.server = args, log, None

    def start(self) -> None:
        self.server = start_server(self.port, self.log, self.args.server_arg)
        wait_for_health(self.url, self.server, 90)

    def processes(self) -> list[subprocess.Popen]:
        return [self.server] if self.server else []

    def warm_urls(self) -> list[str]:
        return [self.url]

    def stop(self) -> None:
        if self.server is not None:
            stop_server(self.server)


class Replicas:
    """N hosted servers behind nginx (deploy/scaled.py). All sessions come from 127.0.0.1,
    as a class behind one school router would: nginx's per-address limits are raised to fit."""

    def __init__(self, args, log):
        from deploy.scaled import Cluster, DoorLimits
        door = DoorLimits(requests_per_s=max(20, 2 * args.sessions),
                          request_burst=max(200, 4 * args.sessions),
                          connections_per_ip=max(30, 2 * args.sessions + 10))
        self.store = tempfile.mkdtemp(prefix="llm-explorer-load-store-")
        self.cluster = Cluster(args.replicas, args.port, Path(self.store), door,
                               extra_args=list(args.server_arg), log_to=log)
        self.url = ""

    def start(self) -> None:
        self.cluster.start(timeout_s=120)
        self.url = self.cluster.url

    def processes(self) -> list[subprocess.Popen]:
        return self.cluster.all_processes()

    def warm_urls(self) -> list[str]:
        # each replica directly: through nginx the warm-up would visit one replica only
        return [self.cluster.replica_url(i) for i in range(self.cluster.replicas)]

    def stop(self) -> None:
        self.cluster.stop()


def short_figures(s: dict) -> dict:
    """The scaled load test's one-line answer (make load-test-scaled)."""
    return {"sessions": s["sessions"], "training": s["training_sessions"],
            "replicas": s["replicas"], "p50_s": s["non_training"]["p50"],
            "p95_s": s["non_training"]["p95"], "errors": s["errors"],
            "peak_rss_mb": s["peak_rss_mb"], "runs_finished": s["runs_finished"]}


def main(argv=None) -> dict:
    args = parse_args(argv)
    # a budget for everything: start-up, warm-up, the test, the grace period, the shutdown
    warmups = max(1, args.replicas)
    hard_deadline_s = 90 + (150 * warmups if args.warmup else 0) + args.minutes * 60 \
        + args.grace_s + 60
    log_path = Path(tempfile.mkstemp(prefix="llm-explorer-load-", suffix=".log")[1])
    rec = Recorder()
    signal.signal(signal.SIGTERM, raise_interrupt)   # `kill` stops it as cleanly as Ctrl-C
    with open(log_path, "wb") as log:
        servers = Replicas(args, log) if args.replicas else OneServer(args, log)
        # last resort if the event loop itself gets stuck: kill the servers and exit
        watchdog = threading.Timer(hard_deadline_s + 30, lambda: (servers.stop(), os._exit(3)))
        watchdog.daemon = True
        watchdog.start()
        try:
            servers.start()
            where = f"{args.replicas} replicas behind nginx" if args.replicas else "hosted mode"
            print(f"server up at {servers.url} ({where}, log {log_path}); "
                  f"{args.sessions} sessions, {args.training} training, {args.minutes} min",
                  flush=True)
            asyncio.run(asyncio.wait_for(
                run_load(servers.url, servers.processes(), rec, args, servers.warm_urls()),
                hard_deadline_s - 90))
        except asyncio.TimeoutError:
            rec.error(-1, f"hard deadline of {hard_deadline_s:.0f} s reached")
        except RuntimeError as exc:       # a server that did not start
            rec.error(-1, str(exc))
        except KeyboardInterrupt:
            rec.error(-1, "interrupted")
        finally:
            servers.stop()
            watchdog.cancel()
    result = summary(rec, args, server_log_problems(log_path))
    print_summary(result)
    print(json.dumps(result), flush=True)
    if args.replicas:
        print(json.dumps(short_figures(result)), flush=True)
    return result


if __name__ == "__main__":
    figures = main()
    sys.exit(0 if figures["errors"] == 0 else 1)
