"""LLM Explorer's server: app/main.py served through Streamlit's ASGI app (``st.App``), warm
before it says it is healthy, and with hosted mode's HTTP headers from its first response.

    streamlit run app/serve.py                  # make app; every `streamlit run` option works
    LLM_EXPLORER_HOSTED=1 streamlit run app/serve.py --server.port 8501   # the Dockerfile

`streamlit run` finds the ``app`` below and serves it with uvicorn, reading
.streamlit/config.toml and STREAMLIT_* variables as for any script. What this adds to a plain
`streamlit run app/main.py` (which still works, only cold and, hosted, without the headers):

- the warm-up (app/state/warmup.py): every page shown once in English and in Chinese while
  /_stcore/health answers 503 "warming up" and a browser gets a page that reloads itself;
- hosted mode: Content-Security-Policy and friends on every response and /_stcore/metrics
  hidden (app/state/headers.py), as middleware around Streamlit's own, from the first request.

Light on purpose (no torch): Streamlit has bound the port before it imports this file, and
until it is imported nothing answers there. The warm-up imports the rest in the background.
"""
from __future__ import annotations

import sys
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.middleware import Middleware
from streamlit.starlette import App

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:          # `streamlit run app/serve.py` puts only app/ on the path
    sys.path.insert(0, str(ROOT))

from app.state import warmup  # noqa: E402
from app.state.headers import SecurityHeaders  # noqa: E402
from lessons.hosting.limits import current_limits  # noqa: E402


def middleware(hosted: bool) -> list[Middleware]:
    """Outermost first: the headers go on the gate's answers too."""
    return ([Middleware(SecurityHeaders)] if hosted else []) + [Middleware(warmup.WarmingGate)]


@asynccontextmanager
async def warm_while_answering(_app):
    """Runs once Streamlit's runtime has started: warm in the background, stop with the server."""
    task = warmup.start()
    try:
        yield
    finally:
        if task is not None:
            task.cancel()


app = App("main.py", middleware=middleware(current_limits().hosted), lifespan=warm_while_answering)
