"""Seats in a hosted class: at most ``capacity`` learners at once in one server process.

A replica that takes every visitor slows down for all of them until pages time out; one that
is full says so at once ("the class is full, try again in a minute": app/main.py) and the
proxy's other replicas or a minute's wait do the rest. A seat is held by a browser session
(one tab) and is free again as soon as that tab's connection is gone, or once the learner has
not clicked for ``idle_s`` seconds (the same limit that stops an idle learner's trainings):
a tab left open overnight must not keep a seat. A learner who comes back after that gets a
seat again if one is free.

>>> seats = Seats(capacity=1, idle_s=60)
>>> seats.admit("a", open_ids={"a"}, now=0), seats.admit("b", open_ids={"a", "b"}, now=1)
(True, False)
>>> seats.admit("b", open_ids={"b"}, now=2)        # a's tab closed: its seat is free
True
>>> seats.admit("c", open_ids={"b", "c"}, now=70)   # b idle for over a minute
True
"""
from __future__ import annotations

import threading
import time


class Seats:
    def __init__(self, capacity: int, idle_s: float):
        self.capacity = capacity          # 0: no cap
        self.idle_s = idle_s
        self._last_seen: dict[str, float] = {}    # session id -> its last full script run
        self._lock = threading.Lock()    # script runs of different sessions run in parallel

    def admit(self, session_id: str, open_ids: set[str], now: float | None = None) -> bool:
        """Called on each full script run of a session (a click or a page view). True if the
        session has or gets a seat; ``open_ids`` are the sessions whose tabs are connected."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._free_seats_of_gone_and_idle(open_ids, now)
            if self.capacity and session_id not in self._last_seen \
                    and len(self._last_seen) >= self.capacity:
                return False
            self._last_seen[session_id] = now
            return True

    def _free_seats_of_gone_and_idle(self, open_ids: set[str], now: float) -> None:
        for sid, seen in list(self._last_seen.items()):
            if sid not in open_ids or now - seen >= self.idle_s:
                del self._last_seen[sid]

    @property
    def taken(self) -> int:
        return len(self._last_seen)
