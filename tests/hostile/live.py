"""A hosted server on localhost and websocket tabs that drive it as a browser's frontend
would (benchmarks/load.py's client), for the tests that need a live server."""
from __future__ import annotations

import asyncio
import http.client
import tempfile
import urllib.parse
from contextlib import contextmanager

from streamlit.proto.BackMsg_pb2 import BackMsg

from lessons.i18n import t
from tests.helpers import load_test_script, wait_for

load = load_test_script()


@contextmanager
def hosted_server(*extra_args: str):
    """Start `streamlit run app/main.py` in hosted mode on a free port; yield its base URL."""
    port = load.free_port()
    with tempfile.TemporaryFile("w+") as log:
        server = load.start_server(port, log, list(extra_args))
        try:
            base_url = f"http://127.0.0.1:{port}"
            load.wait_for_health(base_url, server, timeout_s=90)
            yield base_url
        finally:
            load.stop_server(server)


async def open_training_tab(base_url: str):
    """A tab on the training page; returns (tab, the page's last RunResult)."""
    tab = load.Tab(base_url, timeout_s=90)
    await tab.open()
    await tab.rerun()
    return tab, await tab.rerun(page=load.TRAINING_PAGE)


async def press_start(tab, result):
    """Press Start; returns the live view's fragment id."""
    button = result.widget("button", t("training.start", "en"))
    assert button is not None and not button.proto.disabled, "Start is missing or disabled"
    result = await tab.rerun(trigger=button.id)
    assert result.fragment_ids, "the page announced no live view"
    return result.fragment_ids[-1]


async def run_status(tab, fragment: str) -> str:
    """The current run's status word ("running", "queued", ...), read from the live view."""
    result = await tab.rerun(fragment_id=fragment)
    for text in result.texts():
        if m := load.STATUS_RE.search(text):
            return load.STATUS_WORDS.get(m.group(1), m.group(1))
    return "none"


async def wait_for_status(tab, fragment: str, wanted: set[str], timeout_s: float = 120) -> str:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        status = await run_status(tab, fragment)
        if status in wanted or asyncio.get_running_loop().time() > deadline:
            return status
        await asyncio.sleep(1.0)


async def send_clear_cache(base_url: str) -> None:
    """What any visitor can send: Streamlit's 'Clear cache' message, from a fresh tab."""
    tab = load.Tab(base_url, timeout_s=90)
    await tab.open()
    try:
        await tab.rerun()
        await tab.ws.send(BackMsg(clear_cache=True).SerializeToString())
        await asyncio.sleep(3.0)      # the server handles it (before the fix: stops every run)
    finally:
        await tab.close()


__all__ = ["load", "hosted_server", "open_training_tab", "press_start", "run_status",
           "wait_for_status", "send_clear_cache", "wait_for"]


def put_upload(base_url: str, session_id: str, size: int, xsrf_token: str, cookie: str) -> int:
    """PUT a file of ``size`` bytes to a made-up file id of a session, as any client may; the
    HTTP status (413 also when the server closes the socket before reading the body)."""
    boundary = "hostileboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"x.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode() \
        + b"x" * size + f"\r\n--{boundary}--\r\n".encode()
    url = urllib.parse.urlparse(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}",
               "X-Xsrftoken": xsrf_token, "Cookie": cookie}
    try:
        conn.request("PUT", f"/_stcore/upload_file/{session_id}/made-up-id", body, headers)
        return conn.getresponse().status
    except (BrokenPipeError, ConnectionResetError):
        return 413
    finally:
        conn.close()
