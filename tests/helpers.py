"""Small helpers every test folder uses: the repo's paths, a wait with a deadline, an AppTest of
the app opened on one page, a full disk under the work store."""
from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import importlib.util
import os
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAIN_SCRIPT = str(ROOT / "app" / "main.py")


def wait_for(condition: Callable[[], object], timeout: float, what: str,
             interval: float = 0.01) -> None:
    """Poll condition() until it is true; after timeout seconds fail the test, naming what it
    waited for. Every wait in the suite goes through here, so none can hang a CI run."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}", pytrace=False)
        time.sleep(interval)


def run_apart(coroutine):
    """asyncio.run in a thread of its own: Playwright's sync API (the browser tests, earlier in
    the same pytest process) leaves an event loop running in the main thread, where
    asyncio.run would refuse to start."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def open_app(lang: str = "en", checkpoint=None):
    """AppTest of app/main.py, run once (the home page), in a language, optionally with a
    Checkpoint as the session's active model."""
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(MAIN_SCRIPT, default_timeout=120)
    at.session_state["lang"] = lang
    if checkpoint is not None:
        at.session_state["active_model"] = ("test model", checkpoint)
    return at.run()


def open_view(view: str, lang: str = "en", checkpoint=None):
    """AppTest of the app opened on app/views/<view>.py (see open_app)."""
    return open_app(lang, checkpoint).switch_page(f"views/{view}.py").run()


@lru_cache(maxsize=None)
def load_test_script():
    """benchmarks/load.py imported as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("benchmarks_load", ROOT / "benchmarks" / "load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module      # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def assert_page_ok(at) -> None:
    """The AppTest page ran without an exception and shows no st.error box."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def page_markdown(at) -> str:
    """Every markdown element's text on the page, joined (what a learner reads)."""
    return " ".join(m.value for m in at.markdown)


# ---- a full disk under the work store ---------------------------------------------------------

class _HalfWritten:
    """A file on a disk that fills up midway: half the bytes land, then ENOSPC."""

    def __init__(self, f):
        self.f = f

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.f.close()

    def write(self, data: bytes) -> int:
        self.f.write(data[:len(data) // 2])
        self.f.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class FullDisk:
    """Stands in for the ``os`` module of lessons/hosting/store.py (monkeypatch.setattr(store,
    "os", FullDisk("write"))): the store's files fail as on a full disk, at ``where``: "write"
    (half the bytes land, then ENOSPC) or "rename" (os.replace). ``code`` is the errno."""

    def __init__(self, where: str, code: int = errno.ENOSPC):
        assert where in ("write", "rename"), where
        self.where, self.code = where, code

    def __getattr__(self, name):
        return getattr(os, name)

    def _fail(self, path) -> None:
        raise OSError(self.code, os.strerror(self.code), str(path))

    def fdopen(self, fd, *args, **kwargs):
        f = os.fdopen(fd, *args, **kwargs)
        return _HalfWritten(f) if self.where == "write" else f

    def replace(self, src, dst) -> None:
        if self.where == "rename":
            self._fail(dst)
        os.replace(src, dst)


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes): to see that nothing changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}
