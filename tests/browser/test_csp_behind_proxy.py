"""The Content-Security-Policy of the documented deployments does not break the app (issue #22
item 6): every page of the registry, opened in Chromium through nginx (deploy/scaled.py, one
hosted replica), loads with no console error and no CSP violation, in its own frames and in the
bertviz frames of the Attention page (inline scripts, d3 and jQuery served from the packages).
The same policy is the app's own (app/state/server.py), so a lone hosted server is covered too.
Needs nginx (make serve-scaled installs it); skipped without it."""
from __future__ import annotations

import os
import urllib.request

import pytest

from lessons import registry
from tests.browser.helpers import ARTIFACTS, full_screenshot, page_problems, wait_for_app

scaled = pytest.importorskip("deploy.scaled")

# Chromium's own words for a blocked resource, in a console message
CSP_WORDS = ("Content Security Policy", "Refused to")


@pytest.fixture(scope="module")
def proxied_app(tmp_path_factory):
    if not os.path.exists(scaled.NGINX):
        pytest.skip("nginx is not installed (make serve-scaled installs it)")
    with scaled.Cluster(1, store=tmp_path_factory.mktemp("store")) as cluster:
        yield cluster.url


def test_every_page_keeps_working_under_the_policy(proxied_app, browser):
    with urllib.request.urlopen(proxied_app, timeout=10) as response:
        policy = response.headers["Content-Security-Policy"]
    assert policy and "frame-ancestors 'self'" in policy and "connect-src 'self'" in policy
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    from tests.browser.helpers import watched_page
    page = watched_page(context)
    messages = []
    page.on("console", lambda m: messages.append(m.text))
    try:
        found = {}
        for entry in registry.PAGES:
            page.goto(f"{proxied_app}/{entry.url_path}")
            wait_for_app(page)
            if entry.slug == "attention":     # bertviz: srcdoc frames that must draw their SVG
                page.wait_for_timeout(2000)
                frames = [f for f in page.frames if f != page.main_frame]
                assert frames, "no bertviz frame"
                drawn = [f.evaluate("() => document.querySelectorAll('svg *').length")
                         for f in frames]
                assert all(n > 0 for n in drawn), drawn
                full_screenshot(page, ARTIFACTS / "csp-attention.png")
            found[entry.slug] = page_problems(page) + [m for m in messages
                                                       if any(w in m for w in CSP_WORDS)]
            page.errors.clear()
            messages.clear()
        assert not any(found.values()), {k: v for k, v in found.items() if v}
    finally:
        context.close()
