"""A notebook of training runs for one learner: start several, stop and resume them, read
their metrics and samples, compare them, and turn any of them into a checkpoint.

UI-free: the training page keeps one ``RunBook`` per browser session (and stops it when the
session ends); a notebook or a test can use it directly.

>>> book = RunBook()
>>> len(book.runs)
0
"""
from __future__ import annotations

import copy
import itertools
import threading
import time
from dataclasses import dataclass, field

from lessons.engine.checkpoint import Checkpoint, checkpoint_bytes
from lessons.engine.config import ModelConfig, TrainConfig
from lessons.engine.training import BackgroundTraining, RunStatus, Trainer
from lessons.errors import LessonError
from lessons.hosting.store import SavedRun, new_run_key


class RunRefused(LessonError):
    """A Start the book cannot take now; the message says why and what to do."""


@dataclass
class Run:
    id: int
    name: str
    model_config: ModelConfig
    train_config: TrainConfig
    corpus_name: str
    device: str
    background: BackgroundTraining | None = None
    uploaded: Checkpoint | None = None          # a checkpoint loaded from a file, not trained here
    samples: list[tuple[int, str]] = field(default_factory=list)   # (step, generated text)
    created: float = field(default_factory=time.time)
    stopped_while_idle: bool = False            # stopped by the server, not by the learner
    store_key: str = field(default_factory=new_run_key)   # its folder in the work store
    restored: bool = False                      # brought back from the work store

    @property
    def trainer(self) -> Trainer | None:
        return self.background.trainer if self.background else None

    @property
    def status(self) -> RunStatus:
        """Read from the run's BackgroundTraining, the status's one owner; a run without one
        is a checkpoint loaded from a file."""
        return self.background.status if self.background else RunStatus.UPLOADED

    @property
    def message(self) -> str:
        return self.background.message if self.background else ""

    def message_in(self, lang: str) -> str:
        """The message, translated when it says why the run diverged."""
        trainer = self.trainer
        if self.status is RunStatus.DIVERGED and trainer and trainer.problem is not None:
            return trainer.problem.in_language(lang)
        return self.message

    @property
    def metrics(self) -> list[dict]:
        if self.uploaded is not None:
            return self.uploaded.metrics
        return self.trainer.metrics if self.trainer else []

    @property
    def step(self) -> int:
        """Steps trained: the trainer's, or for a checkpoint from a file or the work store the
        last step its metrics logged."""
        if self.trainer:
            return self.trainer.step
        return int(self.metrics[-1].get("step", 0)) if self.metrics else 0

    def progress(self) -> float:
        return min(1.0, self.step / self.train_config.max_iters)

    def eta_seconds(self) -> float | None:
        """Time left at this run's own pace, or None while that pace is not known yet.

        The pace is measured only once the run has been through an evaluation: before that,
        elapsed time holds none of the evaluations' cost, and the first steps pay for warm-up,
        so an early figure reads "0 s left" and then jumps. Only a running run has time left.
        """
        trainer = self.trainer
        if trainer is None or self.status is not RunStatus.RUNNING:
            return None
        if trainer.step == 0 or not any(m.get("val_loss") is not None for m in trainer.metrics):
            return None
        per_step = trainer.elapsed_s / trainer.step
        return per_step * (self.train_config.max_iters - trainer.step)

    def latest(self, key: str):
        for row in reversed(self.metrics):
            value = row.get(key)
            if value is not None:
                return value
        return None

    def settings(self) -> dict:
        """One row for the comparison table."""
        m, t = self.model_config, self.train_config
        return {"run": self.name, "corpus": self.corpus_name, "tokenizer": t.tokenizer,
                "layers": m.n_layer, "heads": m.n_head, "width": m.n_embd,
                "block": m.block_size, "batch": t.batch_size, "learning_rate": t.learning_rate,
                "warmup": t.warmup_iters, "steps": t.max_iters, "dropout": m.dropout,
                "device": self.device, "status": self.status.value,
                "val_loss": self.latest("val_loss")}


class RunBook:
    """All runs of one learner. Thread-safe enough for one page plus training threads:
    runs are only added under a lock, and each run's thread writes only its own trainer."""

    def __init__(self, max_runs: int = 20, slots=None, threads_per_run: int = 0):
        self.max_runs = max_runs
        self.slots = slots                    # shared limits.TrainingSlots, or None: no queue
        self.threads_per_run = threads_per_run
        self.runs: dict[int, Run] = {}
        self._ids = itertools.count(1)    # never reused, so names made from them stay unique
        self._lock = threading.RLock()
        self.last_active = time.monotonic()   # the learner's last click or page view
        # called with a run, in its training thread, whenever the run stops or ends (the app
        # saves it to the work store then: also a run whose tab was closed mid-training)
        self.on_run_ended = None

    def _make_room(self) -> None:
        """Forget the oldest runs that are not training until one more fits; refuse when every
        run still trains or waits (the cap holds however fast Start and Stop are pressed)."""
        with self._lock:
            idle = [r for r in self.runs.values() if not (r.background and r.background.running)]
            while len(self.runs) >= self.max_runs and idle:
                del self.runs[idle.pop(0).id]
            if len(self.runs) >= self.max_runs:
                raise RunRefused("runs_all_busy", cap=self.max_runs)

    def _add(self, run: Run) -> Run:
        with self._lock:
            self._make_room()
            self.runs[run.id] = run
        return run

    def waiting(self) -> list[Run]:
        """Runs of this learner still waiting for a training slot or being prepared: while
        there is one, another Start would only queue more work for the whole server."""
        return [r for r in self.runs.values()
                if r.status in (RunStatus.QUEUED, RunStatus.PREPARING)]

    def check_can_start(self) -> None:
        """RunRefused if a Start now would be refused (the page disables its button then; a
        crafted client can still send the click, so start() checks again)."""
        with self._lock:
            if self.slots is not None and self.waiting():
                raise RunRefused("run_still_waiting")
            busy = [r for r in self.runs.values() if r.background and r.background.running]
            if len(busy) >= self.max_runs:
                raise RunRefused("runs_all_busy", cap=self.max_runs)

    def start(self, model_config: ModelConfig, train_config: TrainConfig, text: str,
              corpus_name: str, device: str = "cpu", name: str | None = None,
              sample_every: int | None = None, sample_prompt: str = "\n",
              sample_tokens: int = 160, objective: str = "next") -> Run:
        """Start a new run in the background (the tokenizer is trained in that thread too).
        ``objective``: "next" (GPT: the next token) or "masked" (BERT: hidden tokens).
        ``name`` may hold ``{n}``, replaced by the run's number (unique in this book).
        RunRefused while another of this learner's runs waits, or when the book is full."""
        with self._lock:
            self.check_can_start()
            run_id = next(self._ids)
            run = Run(run_id, (name or "run {n}").replace("{n}", str(run_id)), model_config,
                      train_config, corpus_name, device)
            self._start_in_background(run, text, sample_every, sample_prompt, sample_tokens,
                                      objective)
        return run

    def _start_in_background(self, run: Run, text: str, sample_every, sample_prompt: str,
                             sample_tokens: int, objective: str) -> None:
        model_config, train_config, device = run.model_config, run.train_config, run.device
        every = sample_every or train_config.eval_interval

        def make_trainer():
            return Trainer.for_objective(objective, model_config, train_config, text, device)

        def on_step(row):
            last = row["step"] == train_config.max_iters
            if row["step"] % every == 0 or last:
                text_out = run.trainer.sample(sample_prompt, sample_tokens, temperature=0.8,
                                              seed=row["step"])
                run.samples.append((row["step"], text_out))

        def on_end():
            if self.on_run_ended is not None and run.trainer is not None:
                self.on_run_ended(run)

        run.background = BackgroundTraining(make_trainer, on_step, self.slots, self.threads_per_run,
                                            on_end=on_end)
        self._add(run)
        run.background.start()

    def add_uploaded(self, checkpoint: Checkpoint, name: str) -> Run:
        with self._lock:
            run_id = next(self._ids)
            train_config = checkpoint.train_config or TrainConfig()
            run = Run(run_id, name, checkpoint.model.config, train_config, "uploaded", "cpu",
                      uploaded=checkpoint)
            return self._add(run)

    def add_saved(self, saved: SavedRun) -> Run:
        """A run brought back from the work store: its model, metrics and samples, under its
        old name and store key (saving it again overwrites, never duplicates)."""
        run = self.add_uploaded(saved.checkpoint, saved.name)
        run.corpus_name, run.samples = saved.corpus_name, list(saved.samples)
        run.store_key, run.restored = saved.key, True
        return run

    def saved_run(self, run_id: int) -> SavedRun:
        """What the work store keeps of a run: a frozen copy of its model, metrics, samples."""
        run = self.runs[run_id]
        return SavedRun(run.store_key, run.name, run.corpus_name, self.checkpoint(run_id),
                        list(run.samples))

    def stop(self, run_id: int) -> None:
        run = self.runs.get(run_id)
        if run and run.background:
            run.background.stop()

    def resume(self, run_id: int) -> None:
        run = self.runs.get(run_id)
        if run and run.background:
            run.stopped_while_idle = False
            run.background.start()

    def touch(self, now: float | None = None) -> None:
        """The learner did something (a click, a page view)."""
        self.last_active = time.monotonic() if now is None else now

    def stop_if_idle(self, idle_s: float, now: float | None = None) -> list[Run]:
        """Stop running and queued runs if the learner has done nothing for idle_s seconds.

        An open tab nobody looks at must not hold a training slot and the CPU forever. The
        runs stay resumable: the learner presses Resume when back."""
        now = time.monotonic() if now is None else now
        if now - self.last_active < idle_s:
            return []
        stopped = [r for r in self.runs.values() if r.background and r.background.running]
        for run in stopped:
            run.stopped_while_idle = True
            run.background.stop()
        return stopped

    def stop_all(self) -> None:
        """Called when the learner's session ends: no thread may outlive it."""
        for run in list(self.runs.values()):
            if run.background:
                run.background.stop(wait=True, timeout=30)

    def any_running(self) -> bool:
        return any(r.background and r.background.running for r in self.runs.values())

    def checkpoint(self, run_id: int) -> Checkpoint:
        """A frozen copy of the run's current model, safe to use while training continues."""
        run = self.runs[run_id]
        if run.uploaded is not None:
            return run.uploaded
        trainer = run.trainer
        if trainer is None:
            raise ValueError("this run has no model yet")
        model = copy.deepcopy(trainer.model).to("cpu").eval()
        head = copy.deepcopy(trainer.head).to("cpu").eval() if trainer.head is not None else None
        return Checkpoint(model, trainer.tokenizer, run.train_config, list(trainer.metrics),
                          dict(trainer.snapshots), head)

    def checkpoint_file(self, run_id: int) -> bytes:
        ckpt = self.checkpoint(run_id)
        return checkpoint_bytes(ckpt.model, ckpt.tokenizer, train_config=ckpt.train_config,
                                metrics=ckpt.metrics, snapshots=ckpt.snapshots, head=ckpt.head)
