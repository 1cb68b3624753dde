"""The trainer. It knows nothing of any UI: it reports each logged step to callbacks, and
whoever listens (a page, a notebook, the CLI, a test) decides what to draw.

``Trainer`` holds everything a run needs (model, tokenizer, data, optimizer, step counter), so
stopping is just returning from ``train`` and resuming is calling it again.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import replace

import torch

from lessons.errors import LessonError
from lessons.engine.config import ModelConfig, TrainConfig
from lessons.engine.corpus import TokenStream, split_text
from lessons.engine.devices import pick_device
from lessons.engine.model import GPT
from lessons.engine.tokenizers import train_tokenizer
from lessons.engine.training.muon import Muon, Optimizers
from lessons.engine.training.schedule import learning_rate_at, snapshot_steps


class Divergence(LessonError):
    """Why a run stopped by itself (kept, not raised: the run ends, the app goes on)."""


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
