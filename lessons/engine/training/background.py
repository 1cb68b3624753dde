"""``BackgroundTraining`` runs a Trainer in a thread that can be stopped at any step."""
from __future__ import annotations

import logging
import os
import sys
import threading

import torch

from lessons.engine.training.status import RunStatus
from lessons.engine.training.trainer import Trainer

log = logging.getLogger("llm_explorer")


def lower_this_threads_priority() -> bool:
    """Give the calling thread the lowest CPU priority (nice 19), so on a busy machine the
    pages people are looking at run first and trainings take the CPU time left over; alone on
    the machine a training runs just as fast. Linux only: there a thread has its own nice
    value; elsewhere the same call would renice the whole process (or another one)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except OSError:
        return False
    return True


class BackgroundTraining:
    """Runs ``trainer.train`` in a daemon thread. ``stop`` asks it to halt after the current
    step; ``start`` again resumes where it stopped. The thread never touches any UI: the
    caller reads ``trainer.metrics`` / ``status`` whenever it likes.

    ``make_trainer`` may be a Trainer or a function returning one; a function is called inside
    the thread, so slow preparation (tokenizer training, encoding a big text) never blocks the
    caller. Until it returns, ``trainer`` is None and ``status`` is PREPARING.

    This class owns the run's ``RunStatus`` (see ``status.py`` for why): ``_set_status`` is
    the only place that changes it; every other object only reads ``status``.
    """

    def __init__(self, make_trainer, callback=None, slots=None, threads: int = 0, on_end=None):
        self._make_trainer = None if isinstance(make_trainer, Trainer) else make_trainer
        self.trainer: Trainer | None = make_trainer if isinstance(make_trainer, Trainer) else None
        self.callback = callback
        self.slots = slots            # a limits.TrainingSlots shared by every session, or None
        self.threads = threads        # torch threads for this training (0: torch's default)
        self.on_end = on_end          # called in the thread each time training stops or ends
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = RunStatus.READY
        self.error: str = ""

    @property
    def status(self) -> RunStatus:
        return self._status

    def _set_status(self, status: RunStatus) -> None:
        # subtle: one attribute assignment, so a page reading from another thread sees
        # either the old status or the new one, never a mixture
        self._status = status

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def queue_position(self) -> int | None:
        """1 = next in line for a training slot; None when not waiting."""
        if self.slots is None or self._status is not RunStatus.QUEUED:
            return None
        return self.slots.position(self)

    @property
    def message(self) -> str:
        return self.error or (self.trainer.message if self.trainer else "")

    def start(self) -> None:
        if self.running or self._status.ended:
            return
        self._stop.clear()
        # at once, so a page redrawn before the thread begins already shows the wait
        self._set_status(RunStatus.QUEUED if self.slots is not None else
                         RunStatus.PREPARING if self.trainer is None else RunStatus.RUNNING)
        self._thread = threading.Thread(target=self._run, daemon=True, name="llm-explorer-train")
        self._thread.start()

    def _run(self):
        lower_this_threads_priority()
        if self.threads:
            torch.set_num_threads(self.threads)   # applies to this thread only
        if self.slots is not None:
            self._set_status(RunStatus.QUEUED)
            if not self.slots.acquire(self, self._stop):   # stopped while waiting in the queue
                self._set_status(RunStatus.STOPPED)
                return
        try:
            if self.trainer is None:
                self._set_status(RunStatus.PREPARING)
                self.trainer = self._make_trainer()
            self._set_status(RunStatus.RUNNING)
            self._set_status(self.trainer.train(self.callback, self._stop))
        except Exception as exc:   # reported to the UI, never raised into a thread's void
            self.error = f"{type(exc).__name__}: {exc}"
            self._set_status(RunStatus.ERROR)
        finally:
            if self.slots is not None:
                self.slots.release(self)
            self._report_end()

    def _report_end(self) -> None:
        # subtle: in the training thread, after the slot is free: a slow save (the work
        # store writes the checkpoint) must not keep another learner's training waiting
        if self.on_end is None:
            return
        try:
            self.on_end()
        except Exception as exc:   # a failed save must not look like a failed training
            log.warning("after training: %s: %s", type(exc).__name__, exc)

    def stop(self, wait: bool = True, timeout: float = 30.0) -> None:
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
