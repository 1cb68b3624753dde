"""The Content-Security-Policy of the documented deployments does not break the app (issue #22
item 6): every page of the registry, opened in Chromium through nginx (deploy/scaled.py, one
hosted replica), loads with no console error and no CSP violation, in its own frames and in the
bertviz frames of the Attention page (inline scripts, d3 and jQuery served from the packages).
The same policy is the app's own (app/state/server.py), so a lone hosted server is covered too.
And a learner's run survives an nginx restart: Chromium reconnects to its session, on the same
replica (issue #21 item 5). Needs nginx (make serve-scaled installs it); skipped without it."""
from __future__ import annotations

import os
import urllib.request

import pytest

from lessons import registry
from tests.browser.helpers import ARTIFACTS, full_screenshot, page_problems, wait_for_app, \
    watched_page

scaled = pytest.importorskip("deploy.scaled")

# Chromium's own words for a blocked resource, in a console message
CSP_WORDS = ("Content Security Policy", "Refused to")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if not os.path.exists(scaled.NGINX):
        pytest.skip("nginx is not installed (make serve-scaled installs it)")
    with scaled.Cluster(1, store=tmp_path_factory.mktemp("store")) as running:
        yield running


@pytest.fixture(scope="module")
def proxied_app(cluster):
    return cluster.url


def test_every_page_keeps_working_under_the_policy(proxied_app, browser):
    with urllib.request.urlopen(proxied_app, timeout=10) as response:
        policy = response.headers["Content-Security-Policy"]
    assert policy and "frame-ancestors 'self'" in policy and "connect-src 'self'" in policy
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = watched_page(context)
    messages = []
    page.on("console", lambda m: messages.append(m.text))
    try:
        found = {}
        for entry in registry.PAGES:
            page.goto(f"{proxied_app}/{entry.url_path}")
            wait_for_app(page)
            if entry.slug == "attention":     # bertviz: srcdoc frames that must draw their SVG
                page.get_by_role("switch", name="Draw bertviz's views").check(force=True)
                wait_for_app(page)
                page.wait_for_selector("iframe", timeout=30_000)
                frames = [f for f in page.frames if f != page.main_frame]
                assert frames, "no bertviz frame"
                for frame in frames:     # a busy machine draws late: wait, then it must draw
                    frame.wait_for_function(
                        "() => document.querySelectorAll('svg *').length > 0", timeout=30_000)
                full_screenshot(page, ARTIFACTS / "csp-attention.png")
            found[entry.slug] = page_problems(page) + [m for m in messages
                                                       if any(w in m for w in CSP_WORDS)]
            page.errors.clear()
            messages.clear()
        assert not any(found.values()), {k: v for k, v in found.items() if v}
    finally:
        context.close()


def test_a_learners_run_survives_an_nginx_restart(cluster, page):
    """Runs live in the session (until the store of issue #19 lands); the browser reconnects to
    the same session through the restarted nginx, so the finished run is still on the page
    after the next click. (A new session would say "No run yet".)"""
    page.goto(f"{cluster.url}/training")
    wait_for_app(page)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Preset").click()
    page.get_by_role("option", name="Tiny (seconds; learns little)").click()
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_selector("text=Finished 60 steps.", timeout=120_000)
    log = cluster.work_dir / "access.log"
    sticky = next(c["value"] for c in page.context.cookies() if c["name"] == "llmx_replica")
    seen_before = len(log.read_text().splitlines())
    cluster.stop_nginx()
    page.wait_for_timeout(3000)                   # the page notices the lost connection
    cluster.start_nginx()
    page.wait_for_timeout(5000)                   # the frontend retries with a back-off
    page.get_by_role("link", name="Softmax").first.click()      # a click: a new script run
    wait_for_app(page)
    page.get_by_role("link", name="Training").first.click()
    wait_for_app(page)
    page.wait_for_selector("text=Finished 60 steps.", timeout=30_000)
    full_screenshot(page, ARTIFACTS / "nginx-restart-run-kept.png")
    # the browser did reconnect through the new nginx (its health probe, with its cookie) ...
    after = log.read_text().splitlines()[seen_before:]
    assert any("GET /_stcore/health" in line and f"sticky={sticky}" in line for line in after)
    # ... and a run is the session's own: a new browser does not see it
    other = page.context.browser.new_context()
    try:
        newcomer = other.new_page()
        newcomer.goto(f"{cluster.url}/training")
        wait_for_app(newcomer)
        assert newcomer.get_by_text("Finished 60 steps.").count() == 0
    finally:
        other.close()
