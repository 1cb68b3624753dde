"""Fixtures every folder shares (a tiny trained checkpoint, thread hygiene) and the markers that
follow from a test's folder.

The folders, by kind (markers: `browser`, `slow`; `make test-fast` leaves both out):
  unit/         pure Python against independent references (torch, NumPy, tokenizers, ...)
  app/          Streamlit's AppTest: the pages run in-process, no browser
  integration/  subprocesses: the command line, the load test's smoke run (slow: every test)
  notebooks/    every notebook executed by nbclient (slow: every test there is marked)
  browser/      headless Chromium against a live server (browser: every test there is marked)
Shared helpers live in tests/helpers.py, the registry-driven case lists in tests/cases.py.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

# Kept importable from here for tests written against the old flat layout; new tests import
# them from tests.helpers and tests.browser.helpers.
from tests.browser.helpers import (ARTIFACTS, full_screenshot, page_problems,  # noqa: F401
                                   wait_for_app, watched_page)
from tests.helpers import MAIN_SCRIPT, ROOT, open_view, wait_for  # noqa: F401

TESTS = Path(__file__).resolve().parent
# integration/ starts a Python (and torch) per test: the whole suite runs it, test-fast not
MARKER_OF_FOLDER = {"browser": "browser", "notebooks": "slow", "integration": "slow"}


def pytest_configure(config):
    """Under pytest-xdist (`make test` runs one worker per core), one torch thread a worker,
    and for the Pythons it starts: two workers each with a thread per core would fight for the
    cores in OpenMP and run slower together than one alone."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ["OMP_NUM_THREADS"] = "1"
        import torch
        torch.set_num_threads(1)


def pytest_collection_modifyitems(items):
    """A test's folder gives its marker, so `-m "not browser and not slow"` cannot miss one."""
    for item in items:
        parts = Path(item.path).resolve().relative_to(TESTS).parts
        marker = MARKER_OF_FOLDER.get(parts[0]) if len(parts) > 1 else None
        if marker:
            item.add_marker(marker)


@pytest.fixture(scope="session", autouse=True)
def work_store_in_a_temporary_folder(tmp_path_factory):
    """Learners' work (app/state/work.py) goes to a folder of this test session, never to the
    home folder: AppTests run in this process, and the browser tests' servers inherit it."""
    from lessons.hosting.store import STORE_ENV
    before = os.environ.get(STORE_ENV)
    os.environ[STORE_ENV] = str(tmp_path_factory.mktemp("work-store"))
    yield os.environ[STORE_ENV]
    if before is None:
        os.environ.pop(STORE_ENV, None)
    else:
        os.environ[STORE_ENV] = before


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


@pytest.fixture(scope="session")
def two_layer_checkpoint_bytes(tiny_text):
    """2 layers x 2 heads, a few steps, with snapshots: enough to pick a layer and a head."""
    from lessons.engine.checkpoint import checkpoint_bytes
    from lessons.engine.config import preset
    from lessons.engine.training import Trainer
    model_cfg, train_cfg = preset("tiny", n_layer=2, max_iters=6, snapshot_count=3,
                                  eval_interval=6, eval_iters=1)
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
