"""Issue #22, item 1: a visitor's clear_cache message must not stop other learners' trainings
nor reset the server's training queue. Two learners train (the hosted cap is 2 at once), a
third tab sends clear_cache, then a fourth learner presses Start: the two keep running and the
newcomer waits in the queue."""
from __future__ import annotations

import asyncio

import pytest

from tests.hostile.live import hosted_server, open_training_tab, press_start, run_status, \
    send_clear_cache, wait_for_status


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


@pytest.mark.slow
def test_clear_cache_from_a_visitor_stops_nobody_and_keeps_the_queue():
    with hosted_server() as base_url:
        seen = asyncio.run(_scenario(base_url))
    assert seen["before"] == ["running", "running"], seen
    assert seen["after"] == ["running", "running"], seen   # nobody's run was stopped
    assert seen["late"] == "queued", seen                  # the cap of 2 still holds
