"""Browser fixtures: the app served on a free localhost port (plain and hosted) and Debian's
headless Chromium driven by Playwright. Without /usr/bin/chromium every test here skips.
Every test in this folder carries the `browser` marker (tests/conftest.py adds it)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from deploy.scaled import free_port, healthy
from tests.browser.helpers import ARTIFACTS, watched_page
from tests.helpers import MAIN_SCRIPT, ROOT, wait_for

CHROMIUM = "/usr/bin/chromium"


def _serve(**extra_env):
    """`streamlit run app/main.py` on a free port; yields its base URL, stops it after."""
    port = free_port()
    env = dict(os.environ, OMP_NUM_THREADS="1", **extra_env)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # a file, not a pipe: nobody reads a pipe while the tests run, and a full one blocks the server
    log_path = ARTIFACTS / f"server-{port}.log"
    log = open(log_path, "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", MAIN_SCRIPT,
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: server.poll() is not None or healthy(url), 60, "the Streamlit server",
                 interval=0.5)
        if server.poll() is not None:
            pytest.fail("the Streamlit server stopped: " + log_path.read_text("utf-8")[-2000:])
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="session", autouse=True)
def chromium_installed():
    """Skip before any server starts (autouse session fixtures are set up first)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (make test installs it when root)")
    pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="session")
def live_app():
    """The app as `make app` serves it."""
    yield from _serve()


@pytest.fixture(scope="session")
def hosted_app():
    """The app in hosted mode (LLM_EXPLORER_HOSTED=1): caps, a queue of 2 trainings, idle stop."""
    yield from _serve(LLM_EXPLORER_HOSTED="1")


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser page (own session) that records console errors in page.errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield watched_page(context)
    context.close()
