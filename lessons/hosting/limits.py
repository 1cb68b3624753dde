"""Limits for running LLM Explorer on one machine for many people (the hosted demo).

Locally nothing is capped beyond common sense. With ``LLM_EXPLORER_HOSTED=1`` in the
environment the app caps model size, steps, text and upload sizes, lets only a few trainings
run at once across all sessions (the rest wait in a queue and see their position), and gives
each training a small thread budget so pages stay responsive for everyone. A session nobody
has clicked in for ``idle_stop_s`` has its trainings stopped (resumable), and a closed tab's
trainings stop at once (app/state/runs.py).

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
from dataclasses import dataclass

HOSTED_ENV = "LLM_EXPLORER_HOSTED"


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
                idle_stop_s=30 * 60, store_bytes_per_learner=64_000_000,
                store_total_bytes=4_000_000_000, store_expiry_days=7)


def upload_widget_mb(max_bytes: int) -> int:
    """A file box's own limit in MB: the browser refuses much bigger files before sending
    them. One MB of headroom, so a file just over our byte-exact cap reaches our check and
    gets its explanation instead of the file box's bare red mark.

    >>> upload_widget_mb(2_000_000), upload_widget_mb(5_000_000)
    (3, 6)
    """
    return -(-max_bytes // 1_000_000) + 1


def current_limits() -> Limits:
    return HOSTED if os.environ.get(HOSTED_ENV, "").strip() in ("1", "true", "yes") else LOCAL


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
