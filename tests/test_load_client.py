"""Smoke test of benchmarks/load.py: a hosted server and three websocket sessions speaking
Streamlit's protocol, one of them training the `tiny` preset, for about 20 seconds."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BROWSE_PAGES = {"home", "tokenization", "embeddings", "attention", "softmax"}


@pytest.mark.slow
def test_load_test_runs_sessions_and_a_training_to_the_end():
    command = [sys.executable, str(ROOT / "benchmarks" / "load.py"),
               "--sessions", "3", "--training", "1", "--preset", "tiny", "--minutes", "0.3",
               "--grace-s", "20", "--ramp-s", "0.5", "--think-min", "0.2", "--think-max", "0.6",
               "--widget-prob", "0.2"]
    # Keeps the uncounted warm-up (one visit of each page, ~12 s): with --no-warmup the
    # sessions' concurrent first imports on a cold server can fail (see the load test's notes).
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=150)
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr[-3000:]
    figures = json.loads(lines[-1])
    report = done.stdout[-3000:] + done.stderr[-2000:]
    assert figures["errors"] == 0, report
    assert set(figures["pages"]) == BROWSE_PAGES, report
    assert all(figures["pages"][p]["n"] > 0 for p in BROWSE_PAGES), report
    assert figures["runs_started"] == 1 and figures["all_runs_finished"], report
    assert figures["run_steps"] == [60], report            # the tiny preset's steps
    assert figures["training_fragment"]["n"] > 0, report   # the live view was polled
    assert figures["peak_rss_mb"] > 0
    assert done.returncode == 0, report
