"""The trainer. It knows nothing of any UI: it reports each logged step to callbacks, and
whoever listens (a page, a notebook, the CLI, a test) decides what to draw.

``Trainer`` holds everything a run needs (model, tokenizer, data, optimizer, step counter), so
stopping is just returning from ``train`` and resuming is calling it again.
``BackgroundTraining`` runs a Trainer in a thread that can be stopped at any step.

Schedule: linear warm-up to ``learning_rate``, then cosine decay to ``min_lr`` at ``max_iters``.
"""
from __future__ import annotations

import math
import os
import sys
import threading
import time
from dataclasses import replace

import torch

from .errors import LessonError
from .config import ModelConfig, TrainConfig
from .corpus import TokenStream, split_text
from .model import GPT
from .tokenization import train_tokenizer


class Divergence(LessonError):
    """Why a run stopped by itself (kept, not raised: the run ends, the app goes on)."""


class DeviceError(LessonError):
    """The device asked for is not available on this machine."""


def available_devices() -> list[str]:
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def pick_device(requested: str = "auto") -> str:
    """'auto' takes the fastest available; naming one that is absent is an error."""
    devices = available_devices()
    if requested == "auto":
        return "cuda" if "cuda" in devices else "mps" if "mps" in devices else "cpu"
    if requested not in ("cpu", "cuda", "mps"):
        raise DeviceError("device_unknown", name=requested)
    if requested not in devices:
        raise DeviceError("device_missing", name=requested, available=", ".join(devices))
    return requested


def learning_rate_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay from learning_rate down to min_lr.

    >>> cfg = TrainConfig(learning_rate=1.0, min_lr=0.0, warmup_iters=10, max_iters=110)
    >>> round(learning_rate_at(4, cfg), 3), learning_rate_at(60, cfg), learning_rate_at(110, cfg)
    (0.455, 0.5, 0.0)
    """
    if step < cfg.warmup_iters:
        return cfg.learning_rate * (step + 1) / (cfg.warmup_iters + 1)
    span = max(1, cfg.max_iters - cfg.warmup_iters)
    progress = min(1.0, (step - cfg.warmup_iters) / span)
    return cfg.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (cfg.learning_rate - cfg.min_lr)


def snapshot_steps(cfg: TrainConfig) -> list[int]:
    """Evenly spaced steps (first 0, last max_iters) at which weights are kept."""
    n = cfg.snapshot_count
    if n <= 0:
        return []
    if n == 1:
        return [cfg.max_iters]
    return sorted({round(i * cfg.max_iters / (n - 1)) for i in range(n)})


def flops_per_step(model_config: ModelConfig, batch_size: int) -> float:
    """Forward + backward floating-point operations of one training step (PaLM appendix B
    estimate, as nanoGPT uses): 6 per weight per token, plus attention's T x T products."""
    C, L, T = model_config.n_embd, model_config.n_layer, model_config.block_size
    weights = L * 12 * C * C + model_config.vocab_size * C     # blocks + output head
    per_token = 6 * weights + 12 * L * C * T
    return per_token * T * batch_size


def measure_flops_per_second(device: str = "cpu", steps: int = 3) -> float:
    """Time a few training steps of a small GPT on random tokens to learn how fast this
    machine is; used to turn flops_per_step into an estimate of seconds per step."""
    cfg = ModelConfig(vocab_size=128, block_size=64, n_layer=2, n_head=4, n_embd=128)
    model = GPT(cfg).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randint(128, (12, 64), device=device)
    for i in range(steps + 1):
        if i == 1:                        # the first step pays for warm-up; do not count it
            start = time.perf_counter()
        loss = model(x, x)[1]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return steps * flops_per_step(cfg, 12) / (time.perf_counter() - start)


class Trainer:
    def __init__(self, model_config: ModelConfig, train_config: TrainConfig, text: str,
                 tokenizer=None, device: str = "auto", val_fraction: float = 0.1):
        self.train_config = train_config
        self.device = pick_device(device)
        if tokenizer is None:
            tokenizer = train_tokenizer(train_config.tokenizer, text, train_config.bpe_vocab_size)
        self.tokenizer = tokenizer
        self.model_config = replace(model_config, vocab_size=tokenizer.vocab_size)
        train_text, val_text = split_text(text, val_fraction)
        self.train_data = TokenStream(tokenizer.encode(train_text), self.model_config.block_size)
        self.val_data = TokenStream(tokenizer.encode(val_text), self.model_config.block_size)

        torch.manual_seed(train_config.seed)   # same seed -> same initial weights
        self.model = GPT(self.model_config).to(self.device)
        self.optimizer = self._make_optimizer()
        self.batch_generator = torch.Generator().manual_seed(train_config.seed)
        self.step = 0
        self.elapsed_s = 0.0                   # wall time spent training, across resumes
        self.metrics: list[dict] = []
        self.snapshots: dict[int, dict[str, torch.Tensor]] = {}
        self.status = "ready"                  # ready | running | stopped | finished | diverged
        self.message = ""
        self.problem: Divergence | None = None   # why the run diverged, translatable

    def _make_optimizer(self):
        cfg = self.train_config
        fast = {"fused": True} if self.device == "cuda" else {"foreach": True}
        named = list(self.model.named_parameters())
        if cfg.optimizer == "muon":
            from .muon import Muon, Optimizers
            matrices = [p for n, p in named if p.dim() == 2 and n.startswith("blocks.")]
            rest = [p for n, p in named if not (p.dim() == 2 and n.startswith("blocks."))]
            adamw = torch.optim.AdamW(rest, lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2),
                                      weight_decay=0.0, **fast)
            muon = Muon(matrices, lr=cfg.muon_lr)
            # the schedule sets lr = schedule(step) * lr_scale for every group
            muon.param_groups[0]["lr_scale"] = cfg.muon_lr / cfg.learning_rate
            return Optimizers(adamw, muon)
        # weight decay on matrices only; biases and LayerNorm gains stay undecayed
        groups = [{"params": [p for _, p in named if p.dim() >= 2], "weight_decay": cfg.weight_decay},
                  {"params": [p for _, p in named if p.dim() < 2], "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2), **fast)

    @torch.no_grad()
    def validation_loss(self) -> float:
        """Mean loss over eval_iters validation batches, always the same batches."""
        self.model.eval()
        generator = torch.Generator().manual_seed(self.train_config.seed + 1)
        losses = []
        for _ in range(self.train_config.eval_iters):
            x, y = self.val_data.batch(self.train_config.batch_size, generator, self.device)
            losses.append(self.model(x, y)[1].item())
        self.model.train()
        return sum(losses) / len(losses)

    def _keep_snapshot(self):
        self.snapshots[self.step] = {k: v.detach().to("cpu", copy=True)
                                     for k, v in self.model.state_dict().items()}

    def train(self, callback=None, stop_event: threading.Event | None = None) -> str:
        """Run until max_iters, a stop request, or divergence; return the final status.

        ``callback(metrics: dict)`` gets every logged step: step, train_loss, val_loss (on
        evaluation steps, else None), lr, grad_norm, tokens_per_s, elapsed_s.
        """
        cfg = self.train_config
        keep_at = set(snapshot_steps(cfg))
        self.status, self.message = "running", ""
        self.model.train()
        tokens_per_step = cfg.batch_size * self.model_config.block_size
        started = time.perf_counter() - self.elapsed_s
        window_start, window_steps = time.perf_counter(), 0
        while self.step < cfg.max_iters:
            if stop_event is not None and stop_event.is_set():
                self.status, self.message = "stopped", f"stopped at step {self.step}"
                return self.status
            if self.step in keep_at:
                self._keep_snapshot()
            lr = learning_rate_at(self.step, cfg)
            for group in self.optimizer.param_groups:
                group["lr"] = lr * group.get("lr_scale", 1.0)
            x, y = self.train_data.batch(cfg.batch_size, self.batch_generator, self.device)
            _, loss = self.model(x, y)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            clip = cfg.grad_clip if cfg.grad_clip > 0 else float("inf")
            grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip).item()
            loss_value = loss.item()
            problem = self._divergence(loss_value, grad_norm)
            if problem:
                self.status, self.message, self.problem = "diverged", str(problem), problem
                self.elapsed_s = time.perf_counter() - started
                self._record(loss_value, None, lr, grad_norm, 0.0, callback)
                return self.status
            self.optimizer.step()
            self.step += 1
            window_steps += 1
            is_last = self.step == cfg.max_iters
            evaluate = self.step % cfg.eval_interval == 0 or is_last
            if self.step % cfg.log_interval == 0 or evaluate:
                val = self.validation_loss() if evaluate else None
                now = time.perf_counter()
                tokens_per_s = window_steps * tokens_per_step / max(now - window_start, 1e-9)
                self.elapsed_s = now - started
                self._record(loss_value, val, lr, grad_norm, tokens_per_s, callback)
                window_start, window_steps = time.perf_counter(), 0
        if self.step in keep_at:
            self._keep_snapshot()
        self.elapsed_s = time.perf_counter() - started
        self.status, self.message = "finished", f"finished {self.step} steps"
        return self.status

    def _divergence(self, loss: float, grad_norm: float) -> Divergence | None:
        if not math.isfinite(loss):
            return Divergence("div_loss_overflow", loss=loss, step=self.step)
        if not math.isfinite(grad_norm):
            return Divergence("div_grad_overflow", grad_norm=grad_norm, step=self.step)
        # A loss far above random guessing (ln vocab) means the weights have been thrown
        # somewhere useless; better to stop than to burn minutes on it.
        guess = math.log(self.model_config.vocab_size)
        if self.step > 0 and loss > 4 * guess + 10:
            return Divergence("div_exploded", loss=loss, step=self.step, guess=guess)
        return None

    def _record(self, train_loss, val_loss, lr, grad_norm, tokens_per_s, callback):
        row = {"step": self.step, "train_loss": train_loss, "val_loss": val_loss, "lr": lr,
               "grad_norm": grad_norm, "tokens_per_s": tokens_per_s,
               "elapsed_s": self.elapsed_s}
        self.metrics.append(row)
        if callback is not None:
            callback(row)

    def sample(self, prompt: str = "", max_new_tokens: int = 200, temperature: float = 0.8,
               top_k: int | None = None, top_p: float | None = None, seed: int = 0) -> str:
        """Generate text from the current weights (a fixed seed makes it repeatable)."""
        ids = self.tokenizer.encode(prompt) or [0]
        idx = torch.tensor([ids], dtype=torch.long, device=self.device)
        generator = torch.Generator(device=self.device).manual_seed(seed)
        # an early model happily emits byte tokens it never saw, which decode to '�'
        never = torch.bincount(self.train_data.data, minlength=self.model_config.vocab_size) == 0
        out = self.model.generate(idx, max_new_tokens, temperature, top_k, top_p, generator,
                                  never.to(self.device))
        return self.tokenizer.decode(out[0, len(ids) if prompt else 1:].tolist())


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
    caller. Until it returns, ``trainer`` is None and ``status`` is "preparing".
    """

    def __init__(self, make_trainer, callback=None, slots=None, threads: int = 0):
        self._make_trainer = None if isinstance(make_trainer, Trainer) else make_trainer
        self.trainer: Trainer | None = make_trainer if isinstance(make_trainer, Trainer) else None
        self.callback = callback
        self.slots = slots            # a limits.TrainingSlots shared by every session, or None
        self.threads = threads        # torch threads for this training (0: torch's default)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._queued = False
        self.error: str = ""

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        if self._queued:
            return "queued"
        if self.trainer is None:
            if self.running:
                return "preparing"
            return "stopped" if self._stop.is_set() else "ready"
        return self.trainer.status

    def queue_position(self) -> int | None:
        """1 = next in line for a training slot; None when not waiting."""
        return self.slots.position(self) if self.slots is not None and self._queued else None

    @property
    def message(self) -> str:
        return self.error or (self.trainer.message if self.trainer else "")

    def start(self) -> None:
        if self.running or self.status in ("finished", "diverged", "error"):
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True, name="llm-explorer-train")
        self._thread.start()

    def _run(self):
        lower_this_threads_priority()
        if self.threads:
            torch.set_num_threads(self.threads)   # applies to this thread only
        if self.slots is not None:
            self._queued = True
            got_slot = self.slots.acquire(self, self._stop)
            self._queued = False
            if not got_slot:                      # stopped while waiting in the queue
                if self.trainer is not None:
                    self.trainer.status = "stopped"
                return
        try:
            if self.trainer is None:
                self.trainer = self._make_trainer()
            self.trainer.train(self.callback, self._stop)
        except Exception as exc:   # reported to the UI, never raised into a thread's void
            self.error = f"{type(exc).__name__}: {exc}"
            if self.trainer is not None:
                self.trainer.status, self.trainer.message = "error", self.error
        finally:
            if self.slots is not None:
                self.slots.release(self)

    def stop(self, wait: bool = True, timeout: float = 30.0) -> None:
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
