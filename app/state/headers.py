"""The HTTP headers of the server itself in hosted mode, and the paths it hides: an ASGI
middleware that app/serve.py puts around Streamlit's web app, so the very first response of
a fresh server carries them.

The proxy of the documented deployments (deploy/nginx/nginx.conf.template) sends the same
headers (deploy/scaled.py reads the policy from this file); a single hosted process with no
proxy in front gets them here, since Streamlit has no setting for them. Light on purpose (no
streamlit, no torch): the launcher imports it before the server starts answering.
"""
from __future__ import annotations

import os
import re

# 'unsafe-inline' scripts: Streamlit's page and the bertviz views (st.iframe's srcdoc documents
# inherit this policy) run inline scripts; everything else may come from this server only.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-src 'self' blob: data:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
])
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "SAMEORIGIN",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
HIDDEN_PATHS = ("/_stcore/metrics",)     # server internals a visitor has no use for
# Hosts that show the app inside their own page (Hugging Face Spaces, Streamlit Community
# Cloud) must be let in as frame ancestors: LLM_EXPLORER_FRAME_ANCESTORS="https://huggingface.co"
FRAME_ANCESTORS_ENV = "LLM_EXPLORER_FRAME_ANCESTORS"
_ORIGIN = re.compile(r"https?://[A-Za-z0-9*.-]+(:\d+)?")


def security_headers(environ=None) -> dict[str, str]:
    """SECURITY_HEADERS, with the origins in LLM_EXPLORER_FRAME_ANCESTORS (space-separated)
    allowed to frame the app; X-Frame-Options then goes (it cannot name other origins, and
    browsers follow frame-ancestors when both are sent).

    >>> security_headers({})["x-frame-options"]
    'SAMEORIGIN'
    >>> h = security_headers({"LLM_EXPLORER_FRAME_ANCESTORS": "https://huggingface.co"})
    >>> "frame-ancestors 'self' https://huggingface.co" in h["content-security-policy"], "x-frame-options" in h
    (True, False)
    """
    environ = os.environ if environ is None else environ
    origins = environ.get(FRAME_ANCESTORS_ENV, "").split()
    if not origins:
        return dict(SECURITY_HEADERS)
    bad = [o for o in origins if not _ORIGIN.fullmatch(o)]
    if bad:
        raise ValueError(f"{FRAME_ANCESTORS_ENV}: not an origin like https://example.org: {bad}")
    headers = {k: v for k, v in SECURITY_HEADERS.items() if k != "x-frame-options"}
    headers["content-security-policy"] = CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'self'", "frame-ancestors 'self' " + " ".join(origins))
    return headers


class SecurityHeaders:
    """ASGI middleware around Streamlit's Starlette app: the headers above on every HTTP
    response, and 404 for HIDDEN_PATHS. Websockets pass untouched."""

    def __init__(self, app, environ=None):
        self.app = app
        self.extra = [(k.encode(), v.encode()) for k, v in security_headers(environ).items()]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope.get("path", "").rstrip("/").endswith(HIDDEN_PATHS):
            await send({"type": "http.response.start", "status": 404,
                        "headers": [(b"content-type", b"text/plain"), *self.extra]})
            await send({"type": "http.response.body", "body": b"Not found"})
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", [])
                        if k.decode("latin-1").lower() not in SECURITY_HEADERS]
                message = {**message, "headers": kept + self.extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)
