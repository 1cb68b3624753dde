"""app/serve.py, the server every deployment runs (issue #23 item 3, issue #22 item 6): hosted
mode's headers on its very first response, /_stcore/metrics hidden, and /_stcore/health at 200
only once every page has been drawn in both languages (503 "warming up" before)."""
from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request

from deploy.scaled import free_port, serve_command, stop_process
from lessons import registry
from lessons.i18n import LANGUAGES, t
from tests.helpers import ROOT


def _get(url: str, accept: str | None = None):
    """(status, headers, body) of one GET; an HTTP error is an answer too."""
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.headers, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode("utf-8")


def _first_answer(url: str, server, timeout_s: float = 60):
    """The first response the server gives at all (refused until it has bound its port)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            return _get(url)
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the server never answered")


def test_headers_from_the_first_response_and_healthy_only_once_warm(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    env = dict(os.environ, LLM_EXPLORER_HOSTED="1", OMP_NUM_THREADS="1")
    env.pop("LLM_EXPLORER_WARM_UP", None)
    with open(log_path, "wb") as log:
        server = subprocess.Popen(serve_command(port), cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # the very first response: Streamlit's own index page, already with the headers
        status, headers, body = _first_answer(url + "/", server)
        assert status == 200 and '<div id="root">' in body
        assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "SAMEORIGIN"
        assert _get(url + "/_stcore/metrics")[0] == 404

        # warming: health says so, a browser gets the waiting page in both languages
        status, _, body = _get(url + "/_stcore/health")
        assert status == 503 and body.startswith("warming up"), (status, body)
        status, headers, page = _get(url + "/attention?lang=zh", accept="text/html")
        assert status == 503 and headers["X-Frame-Options"] == "SAMEORIGIN"
        assert page.index(t("app.warming_title", "zh")) < page.index(t("app.warming_title", "en"))

        answers = []
        deadline = time.monotonic() + 600
        while not answers or answers[-1][0] != 200:
            assert time.monotonic() < deadline, answers[-3:]
            answers.append(_get(url + "/_stcore/health")[::2])
            time.sleep(0.2)
        # 200 only after the warm-up said it was done, with every page view and no traceback
        views = len(LANGUAGES) * len(registry.PAGES)
        assert all(status == 503 for status, _ in answers[:-1]), answers
        time.sleep(1)     # the summary is printed just after the warm-up marks itself done
        summary = [line for line in log_path.read_text("utf-8").splitlines()
                   if line.startswith("LLM Explorer warmed")]
        assert summary and summary[0].startswith(f"LLM Explorer warmed {views} of {views} "), summary
        assert "problems" not in summary[0], summary
        status, headers, _ = _get(url + "/", accept="text/html")      # the app itself now
        assert status == 200 and "Content-Security-Policy" in headers
    finally:
        stop_process(server)
