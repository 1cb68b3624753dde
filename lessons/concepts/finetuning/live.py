"""Four methods trained side by side in the background, for a page or a notebook to watch.

UI-free: every trained method runs in its own ``BackgroundTraining`` thread (which never
touches a UI); whoever watches reads ``status``, ``progress`` and ``curves`` whenever it likes
and asks for ``result`` once a method has finished. Prompting trains nothing, so its result is
computed on first request.

>>> from lessons.concepts.finetuning.data import parse_labelled_csv
>>> from lessons.engine.checkpoint import toy_checkpoint
>>> rows = b"".join(b"%s,%s\\n" % (b"ab" * (i % 3 + 1), b"xy"[i % 2:i % 2 + 1]) for i in range(30))
>>> comparison = Comparison(toy_checkpoint("abxy"), parse_labelled_csv(b"text,label\\n" + rows), steps=2)
>>> comparison.start(); comparison.join()
>>> [comparison.status(m).value for m in ("probe", "full", "scratch")]
['finished', 'finished', 'finished']
>>> sorted(comparison.result("full").summary())[:3]
['accuracy', 'confusion', 'elapsed_s']
"""
from __future__ import annotations

import threading
import time

from lessons.concepts.finetuning.compute import (DEFAULT_STEPS, METHODS, TRAINED, Forgetting,
                                                 MethodResult, finish, forgetting, method_trainer,
                                                 prompt_result)
from lessons.concepts.finetuning.data import LabelledData
from lessons.engine.checkpoint import Checkpoint
from lessons.engine.training import BackgroundTraining, RunStatus


class RunGroup:
    """Trainings that belong together (one page section's), each a ``BackgroundTraining`` in
    ``self.runs``: started, awaited, stopped, swept when idle and resumed as one."""

    runs: dict[str, BackgroundTraining]

    def __init__(self, runs: dict[str, BackgroundTraining]):
        self.runs = runs
        self.last_active = time.monotonic()

    def start(self) -> None:
        for run in self.runs.values():
            run.start()

    def join(self, timeout: float | None = None) -> None:
        for run in self.runs.values():
            run.join(timeout)

    def curves(self, name: str) -> list[dict]:
        trainer = self.runs[name].trainer
        return list(trainer.metrics) if trainer is not None else []

    # ---- what a server does with every session's work ----------------------------------------

    def stop_all(self) -> None:
        for run in self.runs.values():
            run.stop(wait=True, timeout=30)

    def touch(self, now: float | None = None) -> None:
        self.last_active = time.monotonic() if now is None else now

    def stop_if_idle(self, idle_s: float, now: float | None = None) -> list[str]:
        """Stop the trainings of a tab nobody looks at (Start again resumes them)."""
        now = time.monotonic() if now is None else now
        if now - self.last_active < idle_s:
            return []
        running = [name for name, run in self.runs.items() if run.running]
        for name in running:
            self.runs[name].stop()
        return running

    def resume(self) -> None:
        for run in self.runs.values():
            if run.status is RunStatus.STOPPED:
                run.start()


class Comparison(RunGroup):
    def __init__(self, checkpoint: Checkpoint, data: LabelledData, steps: int = DEFAULT_STEPS,
                 device: str = "cpu", slots=None, threads: int = 0, model_name: str = ""):
        self.checkpoint, self.data, self.steps = checkpoint, data, steps
        self.model_name = model_name                      # what the base model is called
        super().__init__({method: BackgroundTraining(self._maker(method, device), None, slots,
                                                     threads) for method in TRAINED})
        self._results: dict[str, MethodResult] = {}
        self._forgetting: Forgetting | None = None
        self._lock = threading.Lock()                     # two reruns must not score twice

    def _maker(self, method: str, device: str):
        # called inside the thread: copying the model and encoding the texts never block a page
        return lambda: method_trainer(self.checkpoint, self.data, method, self.steps, device)

    def status(self, method: str) -> RunStatus:
        return RunStatus.FINISHED if method == "prompt" else self.runs[method].status

    def progress(self, method: str) -> float:
        if method == "prompt":
            return 1.0
        trainer = self.runs[method].trainer
        return 0.0 if trainer is None else min(1.0, trainer.step / self.steps)

    def curves(self, method: str) -> list[dict]:
        return [] if method == "prompt" else super().curves(method)

    def message(self, method: str) -> str:
        return "" if method == "prompt" else self.runs[method].message

    @property
    def finished(self) -> bool:
        return all(self.status(m) is RunStatus.FINISHED for m in METHODS)

    def result(self, method: str) -> MethodResult | None:
        """The method's test-split scores once it has finished, else None."""
        if self.status(method) is not RunStatus.FINISHED:
            return None
        with self._lock:
            if method not in self._results:
                self._results[method] = (prompt_result(self.checkpoint, self.data)
                                         if method == "prompt" else
                                         finish(self.runs[method].trainer, method, self.data))
            return self._results[method]

    def forgetting(self, pretraining_text: str) -> Forgetting | None:
        """The full fine-tune's forgetting (``compute.forgetting``), once it has finished;
        measured once, since neither model changes any more."""
        full = self.result("full")
        if full is None:
            return None
        with self._lock:
            if self._forgetting is None:
                self._forgetting = forgetting(self.checkpoint.model, full.model,
                                              self.checkpoint.tokenizer, pretraining_text)
            return self._forgetting


class ContinuedPretraining(RunGroup):
    """Next-token training on a new text from the checkpoint and from scratch, side by side
    (``compute.continued_trainer``), each in its own background thread."""

    STARTS = ("pretrained", "scratch")

    def __init__(self, checkpoint: Checkpoint, text: str, steps: int = 100, device: str = "cpu",
                 slots=None, threads: int = 0):
        from lessons.concepts.finetuning.compute import continued_trainer
        super().__init__({start: BackgroundTraining(
            lambda s=start: continued_trainer(checkpoint, text, s, steps, device),
            None, slots, threads) for start in self.STARTS})

    def status(self, start: str) -> RunStatus:
        return self.runs[start].status
