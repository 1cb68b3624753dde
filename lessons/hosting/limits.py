"""Limits for running LLM Explorer on one machine for many people (the hosted demo).

Locally nothing is capped beyond common sense. With ``LLM_EXPLORER_HOSTED=1`` in the
environment the app caps model size, steps, text and upload sizes, lets only a few trainings
run at once across all sessions (the rest wait in a queue and see their position), and gives
each training a small thread budget so pages stay responsive for everyone. A session nobody
has clicked in for ``idle_stop_s`` has its trainings stopped (resumable), and a closed tab's
trainings stop at once (app/state/runs.py).

Replicas (several server processes on one machine, behind a proxy: README "Hosting at scale")
share its cores, so two settings can be changed from the environment without touching code:
``LLM_EXPLORER_TRAINING_SLOTS`` (trainings at once in this process; e.g. cores / replicas) and
``LLM_EXPLORER_MAX_SESSIONS`` (learners this process admits at once; the next one is told the
class is full). ``current_limits`` applies them.

``TrainingSlots`` is the queue: a training thread calls ``acquire`` before its first step and
``release`` when it stops; waiting can be abandoned at any time (the learner pressed Stop or
left).

>>> slots = TrainingSlots(1)
>>> slots.acquire("a"), slots.position("a")
(True, 0)
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace

HOSTED_ENV = "LLM_EXPLORER_HOSTED"
TRAINING_SLOTS_ENV = "LLM_EXPLORER_TRAINING_SLOTS"
MAX_SESSIONS_ENV = "LLM_EXPLORER_MAX_SESSIONS"


@dataclass(frozen=True)
class Limits:
    hosted: bool
    max_parameters: int           # per model
    max_steps: int                # per run
    max_text_chars: int           # text typed or pasted into a page
    max_upload_bytes: int         # an uploaded text file
    max_checkpoint_bytes: int     # an uploaded checkpoint (weights + snapshots are bigger)
    max_concurrent_trainings: int # across all sessions of this server
    threads_per_training: int     # torch intra-op threads for one training (0: torch's default)
    max_runs_per_session: int
    idle_stop_s: float            # stop a session's trainings after this long without a click
    max_sessions: int = 0         # learners admitted at once by this process (0: no cap)
    # the work store (lessons/hosting/store.py); None: no cap
    store_bytes_per_learner: int | None = None
    store_total_bytes: int | None = None      # all learners together
    store_expiry_days: float | None = None    # a learner not seen this long is deleted


LOCAL = Limits(hosted=False, max_parameters=50_000_000, max_steps=100_000,
               max_text_chars=20_000, max_upload_bytes=5_000_000, max_checkpoint_bytes=256_000_000,
               max_concurrent_trainings=4, threads_per_training=0, max_runs_per_session=20,
               idle_stop_s=float("inf"))
HOSTED = Limits(hosted=True, max_parameters=2_000_000, max_steps=3_000,
                max_text_chars=5_000, max_upload_bytes=2_000_000, max_checkpoint_bytes=32_000_000,
                max_concurrent_trainings=2, threads_per_training=1, max_runs_per_session=6,
                idle_stop_s=30 * 60, max_sessions=60, store_bytes_per_learner=64_000_000,
                store_total_bytes=4_000_000_000, store_expiry_days=7)


def upload_widget_mb(max_bytes: int) -> int:
    """A file box's own limit in MB: the browser refuses much bigger files before sending
    them. One MB of headroom, so a file just over our byte-exact cap reaches our check and
    gets its explanation instead of the file box's bare red mark.

    >>> upload_widget_mb(2_000_000), upload_widget_mb(5_000_000)
    (3, 6)
    """
    return -(-max_bytes // 1_000_000) + 1


def _whole_number(name: str, environ) -> int | None:
    """A positive whole number from the environment; None when unset. A typo stops the server
    at start-up with the variable's name rather than running with a silent default."""
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def current_limits(environ=None) -> Limits:
    """The limits this process runs under: LOCAL or HOSTED, with the replica settings applied.

    >>> current_limits({"LLM_EXPLORER_HOSTED": "1"}) is HOSTED
    True
    >>> lim = current_limits({"LLM_EXPLORER_HOSTED": "1", "LLM_EXPLORER_TRAINING_SLOTS": "1",
    ...                       "LLM_EXPLORER_MAX_SESSIONS": "40"})
    >>> lim.max_concurrent_trainings, lim.max_sessions, lim.max_steps == HOSTED.max_steps
    (1, 40, True)
    """
    environ = os.environ if environ is None else environ
    base = HOSTED if environ.get(HOSTED_ENV, "").strip() in ("1", "true", "yes") else LOCAL
    changes = {field: value for field, value in (
        ("max_concurrent_trainings", _whole_number(TRAINING_SLOTS_ENV, environ)),
        ("max_sessions", _whole_number(MAX_SESSIONS_ENV, environ))) if value is not None}
    return replace(base, **changes) if changes else base


class TrainingSlots:
    """At most ``capacity`` holders at once; the others wait in first-come order."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._holders: set = set()
        self._queue: list = []
        self._changed = threading.Condition()

    def acquire(self, who, cancelled: threading.Event | None = None, poll_s: float = 0.2) -> bool:
        """Wait for a slot. Returns False if ``cancelled`` was set while waiting."""
        with self._changed:
            if who in self._holders:
                return True
            self._queue.append(who)
            try:
                while True:
                    first_in_line = self._queue[0] is who
                    if first_in_line and len(self._holders) < self.capacity:
                        self._holders.add(who)
                        return True
                    if cancelled is not None and cancelled.is_set():
                        return False
                    self._changed.wait(poll_s)
            finally:
                self._queue.remove(who)
                self._changed.notify_all()

    def release(self, who) -> None:
        with self._changed:
            self._holders.discard(who)
            self._changed.notify_all()

    def position(self, who) -> int | None:
        """0 while holding a slot, 1.. while waiting (1 = next), None otherwise."""
        with self._changed:
            if who in self._holders:
                return 0
            if who in self._queue:
                return self._queue.index(who) + 1
            return None

    @property
    def in_use(self) -> int:
        return len(self._holders)
