"""Smoke test of benchmarks/load.py: a hosted server and three websocket sessions speaking
Streamlit's protocol, one of them training the `tiny` preset, for about 20 seconds."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT, load_test_script


@pytest.mark.slow
def test_load_test_runs_sessions_and_a_training_to_the_end():
    browse_pages = set(load_test_script().browse_pages())
    assert browse_pages and "training" not in browse_pages     # training is driven, not browsed
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
    assert set(figures["pages"]) == browse_pages, report
    assert all(figures["pages"][p]["n"] > 0 for p in browse_pages), report
    assert figures["runs_started"] == 1 and figures["all_runs_finished"], report
    assert figures["run_steps"] == [60], report            # the tiny preset's steps
    assert figures["training_fragment"]["n"] > 0, report   # the live view was polled
    # the server has torch, streamlit and the shipped model in memory: well over 150 MB (about
    # 250 MB for the imports alone here); a reading of the wrong process would be a few MB.
    # A fixed floor: a bare interpreter's own peak swung from 250 to 930 MB between runs.
    assert 150 <= figures["peak_rss_mb"] <= 4096, (figures["peak_rss_mb"], report)
    assert done.returncode == 0, report



@pytest.mark.slow
def test_the_scaled_load_test_runs_through_nginx_and_ends_with_its_short_line(tmp_path):
    """make load-test-scaled's command, as a smoke run: 2 replicas behind nginx, 4 sessions,
    1 training, 18 seconds. Its last line is the short JSON the README's table reads."""
    from deploy.scaled import NGINX
    if not os.path.exists(NGINX):
        pytest.skip("nginx is not installed (make load-test-scaled installs it)")
    command = [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--replicas", "2",
               "--sessions", "4", "--training", "1", "--preset", "tiny", "--minutes", "0.3",
               "--grace-s", "20", "--ramp-s", "0.5", "--think-min", "0.2", "--think-max", "0.6"]
    # the replicas skip app/serve.py's warm-up (twenty page views each; tested on its own in
    # test_warm_server.py): here only the path through nginx counts
    env = dict(os.environ, LLM_EXPLORER_WARM_UP="0")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240, env=env)
    report = done.stdout[-3000:] + done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    short, full = json.loads(lines[-1]), json.loads(lines[-2])
    assert set(short) == {"sessions", "training", "replicas", "p50_s", "p95_s", "errors",
                          "peak_rss_mb", "runs_finished"}, report
    assert (short["sessions"], short["training"], short["replicas"]) == (4, 1, 2), report
    assert short["errors"] == 0 and short["runs_finished"] == 1, report
    assert short["p95_s"] == full["non_training"]["p95"] and short["p50_s"] <= short["p95_s"]
    # two servers with torch and the shipped models, plus nginx: well over one server's floor
    assert 300 <= short["peak_rss_mb"] <= 8192, report
    assert done.returncode == 0, report
