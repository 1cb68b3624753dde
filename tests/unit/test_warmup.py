"""app/state/warmup.py's gate around a stand-in ASGI app: what a probe, a browser and a
websocket get while the server warms up, and that everything passes once it is warm."""
from __future__ import annotations

from app.state import warmup
from lessons.i18n import t
from tests.helpers import run_apart


def _call(gate, scope):
    """(the messages the gate sent, whether the inner app was reached)."""
    sent, reached = [], []

    async def inner(scope, receive, send):
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        sent.append(message)
    gate.app = inner
    run_apart(gate(scope, receive, send))
    return sent, bool(reached)


def _http(path, accept=b"", query=b""):
    return {"type": "http", "method": "GET", "path": path, "query_string": query,
            "headers": [(b"accept", accept)] if accept else []}


def test_the_gate_while_warming_and_after():
    progress = warmup.Progress(total=20, done=7)
    gate = warmup.WarmingGate(None, progress)

    sent, reached = _call(gate, _http("/_stcore/health"))
    assert not reached and sent[0]["status"] == 503
    assert sent[1]["body"] == b"warming up: 7 of 20 page views"

    sent, reached = _call(gate, _http("/attention", b"text/html,*/*", b"lang=zh"))
    page = sent[1]["body"].decode()
    assert not reached and sent[0]["status"] == 503
    assert page.index(t("app.warming_title", "zh")) < page.index(t("app.warming_title", "en"))
    assert "7 / 20" in page and "7 of 20" in page and "<script" not in page

    # the frontend's own files and API calls pass; a websocket waits (1013: try again later)
    assert _call(gate, _http("/static/js/index.js", b"*/*"))[1]
    assert _call(gate, _http("/_stcore/host-config", b"text/html"))[1]
    sent, reached = _call(gate, {"type": "websocket", "path": "/_stcore/stream"})
    assert not reached and sent == [{"type": "websocket.close", "code": 1013}]

    progress.finished = True
    assert _call(gate, _http("/_stcore/health"))[1]
    assert _call(gate, {"type": "websocket", "path": "/_stcore/stream"})[1]


def test_the_warm_up_can_be_switched_off():
    progress = warmup.Progress()
    assert warmup.start(progress, {warmup.WARM_UP_ENV: "0"}) is None and progress.finished
