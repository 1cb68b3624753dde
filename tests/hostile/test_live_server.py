"""Issue #22 against a live hosted server, over Streamlit's own websocket protocol (marked
slow: one server for the module, about 30 s in all).

Item 1: a visitor's clear_cache message must not stop other learners' trainings nor reset the
server's training queue. Two learners train (the hosted cap is 2 at once), a third tab sends
clear_cache, then a fourth learner presses Start: the two keep running and the newcomer waits.
Item 5: the upload endpoint takes no more than the largest file box (33 MB, not 256 MB).
Item 6: the session message tells a visitor nothing about the server (path, versions, OS)."""
from __future__ import annotations

import asyncio
import concurrent.futures

import pytest

from tests.hostile.live import hosted_server, load, open_training_tab, press_start, put_upload, \
    run_status, send_clear_cache, wait_for_status

pytestmark = pytest.mark.slow


def run_apart(coroutine):
    """asyncio.run in a thread of its own: Playwright's sync API (the browser tests, earlier in
    the same pytest process) leaves an event loop running in the main thread."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="module")
def base_url():
    with hosted_server() as url:
        yield url


class RecordingTab(load.Tab):
    """A tab that keeps the new_session messages it gets."""
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.new_sessions = []

    def _on_new_session(self, new_session) -> None:
        self.new_sessions.append(new_session)
        super()._on_new_session(new_session)


async def _new_session_messages(base_url: str):
    tabs = [RecordingTab(base_url, 90) for _ in range(2)]
    try:
        for tab in tabs:            # the first page view of a fresh server installs the filter
            await tab.open()
            await tab.rerun()
        return tabs[1].new_sessions
    finally:
        for tab in tabs:
            await tab.close()


def test_the_session_message_names_no_path_and_no_versions(base_url):
    messages = run_apart(_new_session_messages(base_url))
    assert messages
    for msg in messages:
        assert "/" not in msg.main_script_path, msg.main_script_path
        info = msg.initialize.environment_info
        assert (info.python_version, info.server_os) == ("", "")   # the version: see server.py


async def _scenario(base_url: str) -> dict:
    tabs = []
    try:
        fragments = []
        for _ in range(2):
            tab, page = await open_training_tab(base_url)
            tabs.append(tab)
            fragments.append(await press_start(tab, page))
        before = [await wait_for_status(tab, frag, {"running"}) for tab, frag in zip(tabs, fragments)]
        await send_clear_cache(base_url)
        after = [await run_status(tab, frag) for tab, frag in zip(tabs, fragments)]
        late, page = await open_training_tab(base_url)
        tabs.append(late)
        late_status = await wait_for_status(late, await press_start(late, page),
                                            {"queued", "running"}, timeout_s=30)
        return {"before": before, "after": after, "late": late_status}
    finally:
        for tab in tabs:          # closing the tabs stops their runs (release hooks)
            await tab.close()


def test_clear_cache_from_a_visitor_stops_nobody_and_keeps_the_queue(base_url):
    seen = run_apart(_scenario(base_url))
    assert seen["before"] == ["running", "running"], seen
    assert seen["after"] == ["running", "running"], seen   # nobody's run was stopped
    assert seen["late"] == "queued", seen                  # the cap of 2 still holds


def _put_upload(base_url: str, session_id: str, size: int) -> int:
    token, cookie = load.fetch_xsrf_cookie(base_url)
    return put_upload(base_url, session_id, size, token or "", cookie or "")


async def _session_id(base_url: str) -> tuple[str, RecordingTab]:
    tab = RecordingTab(base_url, 90)
    await tab.open()
    await tab.rerun()
    return tab.new_sessions[-1].initialize.session_id, tab


def test_the_upload_endpoint_takes_no_more_than_the_largest_box(base_url):
    """.streamlit/config.toml allows 256 MB (big local checkpoints); hosted mode, 33 MB."""
    async def scenario():
        session_id, tab = await _session_id(base_url)
        try:
            return (await asyncio.to_thread(_put_upload, base_url, session_id, 1_000_000),
                    await asyncio.to_thread(_put_upload, base_url, session_id, 40 * 2**20))
        finally:
            await tab.close()
    small, big = run_apart(scenario())
    assert small in (200, 204) and big == 413, (small, big)
