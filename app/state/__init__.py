"""What the app keeps between script runs, one concern a module:

- ``session``: this browser session's language, active model (and its name) and device, with
  the fallback when a chosen GPU is gone;
- ``runs``: this session's training runs (its RunBook), the server-wide training queue, the
  idle sweep, the clean-up when a session ends, and the limits of this server;
- ``results``: results computed once for the whole server, ``shared(fn, *args)``;
- ``server``: what the server refuses from clients (clear_cache) and hosted mode's settings.

Pages reach these through ``app.ui`` (language, prose, ``shared``) and ``session`` / ``runs``;
no page touches ``st.session_state`` keys of another concern directly.
"""
