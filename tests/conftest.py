"""Shared fixtures: a tiny trained checkpoint, the repo paths, thread hygiene."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHAKESPEARE = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"


@pytest.fixture(scope="session")
def tiny_text() -> str:
    """A small, repetitive English+Chinese text a tiny model can learn in seconds."""
    lines = ["the cat sat on the mat.", "the dog sat on the log.", "a cat and a dog.",
             "猫坐在垫子上。", "the end."]
    return "\n".join(lines * 60)


@pytest.fixture(scope="session")
def tiny_checkpoint_bytes(tiny_text):
    from lessons.engine.checkpoint import checkpoint_bytes
    from lessons.engine.config import preset
    from lessons.engine.training import Trainer
    model_cfg, train_cfg = preset("tiny", max_iters=30)
    trainer = Trainer(model_cfg, train_cfg, tiny_text, device="cpu")
    trainer.train()
    return checkpoint_bytes(trainer.model, trainer.tokenizer, train_config=train_cfg,
                            metrics=trainer.metrics, snapshots=trainer.snapshots)


@pytest.fixture(autouse=True)
def no_stray_training_threads():
    """A training thread left running at exit crashes the interpreter; fail the test instead."""
    yield
    stray = [t for t in threading.enumerate() if t.name == "llm-explorer-train" and t.is_alive()]
    for t in stray:
        t.join(timeout=30)
    assert not [t for t in stray if t.is_alive()], "a training thread outlived its test"


# ---- browser tests: a live server on a free localhost port + Debian's Chromium ----------
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(**extra_env):
    """`streamlit run app/main.py` on a free port; yields its base URL, stops it after."""
    port = _free_port()
    env = dict(os.environ, OMP_NUM_THREADS="1", **extra_env)
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "main.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("the Streamlit server did not start: " + server.stdout.read().decode()[-2000:])
    yield url
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()


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
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (make test installs it when root)")
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


def watched_page(context):
    """A new page of a browser context whose errors are collected in page.errors."""
    pg = context.new_page()
    pg.errors = []
    pg.on("console", lambda m: m.type == "error" and pg.errors.append(m.text))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    # net::ERR_ABORTED is a request cut off by our own next navigation, not a fault
    pg.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED"
          and pg.errors.append(f"request failed ({r.failure}): {r.url}"))
    pg.on("response", lambda r: r.status >= 400 and pg.errors.append(f"HTTP {r.status}: {r.url}"))
    return pg


def wait_for_app(pg, timeout_ms: int = 60_000) -> None:
    """Streamlit keeps a websocket open, so never wait for network idle: wait until the
    page has a title and no element is still running."""
    pg.wait_for_selector("h1", timeout=timeout_ms)
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms)
    pg.wait_for_timeout(500)


def page_problems(pg) -> list[str]:
    """Exception boxes Streamlit draws on the page, plus console errors."""
    boxes = pg.locator('[data-testid="stException"]').all_inner_texts()
    return boxes + [e for e in pg.errors if not _benign(e)]


def _benign(message: str) -> bool:
    # Opened at /<page>, Streamlit's frontend first probes /<page>/_stcore/health and
    # host-config, gets 404, then finds the server root. The console line "Failed to load
    # resource" repeats a response already recorded with its URL.
    probe = message.startswith("HTTP 404") and message.endswith(
        ("/_stcore/health", "/_stcore/host-config"))
    return probe or message.startswith("Failed to load resource")


def full_screenshot(pg, path) -> None:
    """Streamlit scrolls inside its own container, so full_page=True shows only one screen:
    grow the viewport to the content's height for the picture, then put it back."""
    size = pg.viewport_size
    height = pg.evaluate("""() => Math.max(800, ...['stMain', 'stAppViewContainer', 'stMainBlockContainer']
        .map(id => document.querySelector(`[data-testid="${id}"]`))
        .filter(Boolean).map(e => e.scrollHeight))""")
    pg.set_viewport_size({"width": size["width"], "height": min(int(height) + 100, 12000)})
    pg.wait_for_timeout(800)
    pg.screenshot(path=str(path))
    pg.set_viewport_size(size)


MAIN_SCRIPT = str(ROOT / "app" / "main.py")


def open_view(view: str, lang: str = "en", checkpoint=None):
    """AppTest of the app opened on app/views/<view>.py, in a language, optionally with a
    given Checkpoint as the session's active model."""
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(MAIN_SCRIPT, default_timeout=120)
    at.session_state["lang"] = lang
    if checkpoint is not None:
        at.session_state["active_model"] = ("test model", checkpoint)
    at.run()
    return at.switch_page(f"views/{view}.py").run()
