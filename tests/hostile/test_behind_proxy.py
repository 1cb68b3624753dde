"""Two hosted replicas behind nginx (deploy/scaled.py), driven over Streamlit's own websocket
protocol through the proxy (issue #21 items 2, 3, 5 and 6; marked slow: one cluster for the
module, about two minutes in all). Tabs keep their cookies as a browser does, so nginx's
stickiness cookie brings every request of a tab to one replica; nginx's access log says which.

- the door: security headers, metrics hidden (in nginx and in the app), uploads capped by
  nginx at the app's own cap, a flood of requests from one address answered 429 with the
  bilingual "class is full" page;
- seats: a replica holding its cap of learners tells the next one the class is full, and lets
  them in once a seat frees;
- the outside probe's findings hold behind the proxy (clear_cache from a tab beside a training
  learner, an oversized upload, a huge text);
- faults: a replica killed mid-class (its learners reconnect to a working page on the other
  replica and find there the run they trained and stopped on the killed one, kept in the
  store both replicas share; new visitors are routed there, the other replica's learners carry
  on), nginx restarted (tabs reconnect, to the same replica). A full disk under the store:
  tests/unit/hosting/test_store.py and tests/app/test_classroom.py (the store is one folder
  whatever the replica, so a proxy adds nothing there).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
import random
import re
import string
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect
from websockets.typing import Origin, Subprotocol

from deploy import scaled
from lessons.hosting.limits import HOSTED
from lessons.hosting.store import WorkStore, new_learner_id
from lessons.i18n import t
from tests.hostile.live import load, press_start, put_upload, run_status, wait_for_status

pytestmark = pytest.mark.slow

SEATS_PER_REPLICA = 4


def run_apart(coroutine):
    """asyncio.run in a thread of its own (Playwright may hold the main thread's loop)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if not os.path.exists(scaled.NGINX):
        pytest.skip("nginx is not installed (make serve-scaled installs it)")
    door = scaled.DoorLimits(requests_per_s=5, request_burst=40, connections_per_ip=30)
    with scaled.Cluster(2, store=tmp_path_factory.mktemp("store"), limits=door,
                        extra_env={"LLM_EXPLORER_MAX_SESSIONS": str(SEATS_PER_REPLICA)}) as c:
        yield c


# ---- a tab that keeps its cookies ---------------------------------------------------------

def _get(url: str, cookies: dict | None = None, method: str = "GET"):
    """(status, headers, body) of one request; HTTP errors are answers too."""
    request = urllib.request.Request(url, method=method)
    if cookies:
        request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))
    try:
        with urllib.request.urlopen(request, timeout=15) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def _set_cookies(headers) -> dict:
    found = {}
    for header in headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


class ProxiedTab(load.Tab):
    """A browser tab through nginx: its cookies (stickiness, XSRF) go with every request,
    and a reconnect (a new ProxiedTab with the same cookies) sends them again."""

    def __init__(self, base_url: str, cookies: dict | None = None):
        super().__init__(base_url, timeout_s=90)
        self.cookies = dict(cookies or {})

    async def open(self) -> None:
        status, headers, _ = await asyncio.to_thread(_get, self.base_url + "/_stcore/health",
                                                     self.cookies)
        assert status == 200, status
        self.cookies.update(_set_cookies(headers))
        token = self.cookies.get("_streamlit_xsrf")
        self.ws = await connect(
            self.base_url.replace("http://", "ws://") + "/_stcore/stream",
            subprotocols=[Subprotocol("streamlit")] + ([Subprotocol(token)] if token else []),
            origin=Origin(self.base_url), max_size=None, ping_interval=None, proxy=None,
            additional_headers={"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())},
            open_timeout=self.timeout_s, close_timeout=2)

    @property
    def sticky(self) -> str:
        return self.cookies["llmx_replica"]


def replica_of(cluster, sticky: str) -> int:
    """Which replica nginx sent this tab's latest request to (its access log)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [line for line in (cluster.work_dir / "access.log").read_text().splitlines()
                 if f"sticky={sticky}" in line and "up=127.0.0.1:" in line]
        if lines:
            # "up=127.0.0.1:A, 127.0.0.1:B" when A failed and B answered: the last one served
            tried = lines[-1].split("up=", 1)[1].split(" sticky=", 1)[0]
            port = int(re.findall(r"127\.0\.0\.1:(\d+)", tried)[-1])
            return cluster.replica_ports.index(port)
        time.sleep(0.2)
    raise AssertionError(f"no log line for {sticky}")


async def opened(base_url: str, cookies: dict | None = None,
                 learner: str | None = None) -> tuple[ProxiedTab, object]:
    """A tab, its first page drawn; ``learner``: the work store's id in its address."""
    tab = ProxiedTab(base_url, cookies)
    if learner:
        tab.query_string = f"learner={learner}"
    await tab.open()
    return tab, await tab.rerun()


def _works(result) -> bool:
    return not result.problems and bool(result.texts())


# ---- the door -------------------------------------------------------------------------------

def _put_upload(base_url: str, session_id: str, size: int, cookies: dict) -> int:
    return put_upload(base_url, session_id, size, cookies.get("_streamlit_xsrf", ""),
                      "; ".join(f"{k}={v}" for k, v in cookies.items()))


class SessionTab(ProxiedTab):
    def _on_new_session(self, new_session) -> None:
        self.session_id = new_session.initialize.session_id
        super()._on_new_session(new_session)


def test_the_door_headers_hidden_metrics_and_the_upload_cap(cluster):
    status, headers, _ = _get(cluster.url + "/")
    assert status == 200
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "llmx_replica" in _set_cookies(headers)
    assert _get(cluster.url + "/_stcore/metrics")[0] == 404

    async def scenario():
        tab = SessionTab(cluster.url)
        await tab.open()
        try:
            first = await tab.rerun()
            assert _works(first), first.problems
            # the same replica, straight: the app's own headers and hidden metrics (hosted)
            direct = cluster.replica_url(replica_of(cluster, tab.sticky))
            own = await asyncio.to_thread(_get, direct + "/")
            metrics = await asyncio.to_thread(_get, direct + "/_stcore/metrics")
            # an upload needs the tab's replica: the stickiness cookie takes it there
            small = await asyncio.to_thread(_put_upload, cluster.url, tab.session_id, 1_000_000,
                                            tab.cookies)
            big = await asyncio.to_thread(_put_upload, cluster.url, tab.session_id, 40 * 2**20,
                                          tab.cookies)
            return own, metrics[0], small, big
        finally:
            await tab.close()
    own, metrics_direct, small, big = run_apart(scenario())
    assert own[1]["Content-Security-Policy"] == headers["Content-Security-Policy"]
    assert metrics_direct == 404
    assert small in (200, 204) and big == 413, (small, big)


# ---- seats ----------------------------------------------------------------------------------

def test_a_full_replica_says_so_and_admits_when_a_seat_frees(cluster):
    """Straight to one replica: the cap is each replica's own (nginx cannot count sessions)."""
    direct = cluster.replica_url(1)
    full_text = t("app.class_full", "en")

    async def scenario():
        tabs = []
        try:
            for _ in range(SEATS_PER_REPLICA):
                tab, result = await opened(direct)
                tabs.append(tab)
                assert _works(result) and full_text not in result.texts(), result.texts()[:3]
            late, turned_away = await opened(direct)
            tabs.append(late)
            await tabs.pop(0).close()             # one learner leaves
            await asyncio.sleep(1.0)
            retry = turned_away.widget("button", t("app.class_full_retry", "en"))
            again = await late.rerun(trigger=retry.id)
            return turned_away, again
        finally:
            for tab in tabs:
                await tab.close()
    turned_away, again = run_apart(scenario())
    assert full_text in turned_away.texts() and not turned_away.problems
    assert full_text not in again.texts() and _works(again) and len(again.texts()) > 3


# ---- the outside probe's findings, through the proxy ------------------------------------------

async def _probes(base_url: str) -> dict:
    tabs = []
    try:
        learner = ProxiedTab(base_url)
        await learner.open()
        tabs.append(learner)
        await learner.rerun()
        page = await learner.rerun(page=load.TRAINING_PAGE)
        fragment = await press_start(learner, page)
        before = await wait_for_status(learner, fragment, {"running"})
        # another tab of the same browser (so the same replica) sends clear_cache
        other, _ = await opened(base_url, {"llmx_replica": learner.sticky})
        tabs.append(other)
        await other.ws.send(BackMsg(clear_cache=True).SerializeToString())
        await asyncio.sleep(3.0)
        after = await run_status(learner, fragment)
        # a huge text in the tokenisation page's own-text box: cut by the server, answered
        await other.rerun(page="tokenization")
        result = await other.rerun()
        box = next(w for w in result.widgets() if w.kind == "text_area" and w.id.endswith("tok_text"))
        other.set_value(box, WidgetState(string_value="".join(
            random.Random(0).choices(string.ascii_lowercase, k=1_000_000))))
        started = time.monotonic()
        huge = await other.rerun()
        return {"before": before, "after": after, "huge_problems": huge.problems,
                "huge_s": time.monotonic() - started, "huge_texts": len(huge.texts())}
    finally:
        for tab in tabs:
            await tab.close()


def test_the_probes_findings_hold_behind_the_proxy(cluster):
    seen = run_apart(_probes(cluster.url))
    assert (seen["before"], seen["after"]) == ("running", "running"), seen
    assert not seen["huge_problems"] and seen["huge_texts"] > 3, seen
    assert seen["huge_s"] < 30, seen


# ---- faults ---------------------------------------------------------------------------------

async def _one_tab_on_each_replica(cluster) -> dict[int, ProxiedTab]:
    found: dict[int, ProxiedTab] = {}
    for _ in range(16):                        # the cookie's hash picks the replica
        tab, result = await opened(cluster.url, learner=new_learner_id())
        assert _works(result), result.problems
        where = replica_of(cluster, tab.sticky)
        if where in found:
            await tab.close()
        else:
            found[where] = tab
        if len(found) == 2:
            return found
    raise AssertionError("16 new tabs all went to one replica")


async def _faults(cluster) -> dict:
    seen = {}
    tabs = await _one_tab_on_each_replica(cluster)
    doomed, survivor = tabs[0], tabs[1]
    learner = doomed.query_string.removeprefix("learner=")
    try:
        seen["saved_by_replica_0"] = await _train_and_stop(cluster, doomed, learner)
        cluster.kill_replica(0)
        try:
            await doomed.rerun(page="softmax")
            seen["doomed_noticed"] = False
        except load.SessionBroken:
            seen["doomed_noticed"] = True
        # the browser reconnects with its cookies and address: nginx finds replica 0 gone,
        # tries the next, which finds the learner's work in the shared store
        back, result = await opened(cluster.url, doomed.cookies, learner)
        seen["reconnected_works"] = _works(result)
        seen["reconnected_on"] = replica_of(cluster, back.sticky)
        training = await back.rerun(page=load.TRAINING_PAGE)
        picker = training.widget("selectbox", t("training.current_run", "en"))
        restored = t("training.status_line", "en", status=t("training.status_restored", "en"))
        seen["run_back"] = {"runs": list(picker.proto.options) if picker else [],
                            "restored": restored in training.texts()}
        await back.close()
        newcomer, result = await opened(cluster.url)
        seen["newcomer_works"] = _works(result)
        await newcomer.close()
        seen["survivor_works"] = _works(await survivor.rerun(page="softmax"))
        # nginx restarted: the open tab loses its connection and comes back to its replica
        cluster.stop_nginx()
        try:
            await survivor.rerun()
            seen["survivor_noticed_restart"] = False
        except load.SessionBroken:
            seen["survivor_noticed_restart"] = True
        cluster.start_nginx()
        deadline = time.monotonic() + 30
        while not scaled.healthy(cluster.url) and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
        again, result = await opened(cluster.url, survivor.cookies)
        seen["after_restart_works"] = _works(result)
        seen["after_restart_on"] = replica_of(cluster, again.sticky)
        await again.close()
    finally:
        for tab in (doomed, survivor):
            await tab.close()
    return seen


async def _train_and_stop(cluster, tab: ProxiedTab, learner: str) -> str | None:
    """The tab's learner starts a run on the training page and stops it; its replica's
    training thread writes it into the store. Returns the run's name as stored (None: none)."""
    page = await tab.rerun(page=load.TRAINING_PAGE)
    fragment = await press_start(tab, page)
    assert await wait_for_status(tab, fragment, {"running"}) == "running"
    stop = (await tab.rerun()).widget("button", t("training.stop", "en"))
    assert stop is not None, "no Stop button while running"
    await tab.rerun(trigger=stop.id)
    kept = WorkStore(cluster.store, HOSTED)
    deadline = time.monotonic() + 30
    while not kept.run_keys(learner) and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
    runs = kept.load_runs(learner)
    return runs[0].name if len(runs) == 1 else None


def test_a_killed_replica_and_a_restarted_nginx(cluster):
    seen = run_apart(_faults(cluster))
    stored = seen.pop("saved_by_replica_0")
    assert stored, "the run trained on replica 0 is not in the store"
    assert seen.pop("run_back") == {"runs": [stored], "restored": True}, seen
    assert seen == {"doomed_noticed": True, "reconnected_works": True, "reconnected_on": 1,
                    "newcomer_works": True, "survivor_works": True,
                    "survivor_noticed_restart": True, "after_restart_works": True,
                    "after_restart_on": 1}, seen


# ---- last: it empties this address's allowance ------------------------------------------------

def test_a_flood_from_one_address_gets_the_bilingual_page(cluster):
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: _get(cluster.url + "/_stcore/health"), range(120)))
    statuses = [status for status, _, _ in answers]
    assert statuses.count(200) >= 20 and statuses.count(429) >= 20, statuses
    page = next(body for status, _, body in answers if status == 429).decode("utf-8")
    assert "The class is full" in page and "课堂暂时已满" in page
