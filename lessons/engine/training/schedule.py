"""The learning-rate schedule, when snapshots are kept, and what a step costs.

Schedule: linear warm-up to ``learning_rate``, then cosine decay to ``min_lr`` at ``max_iters``.
"""
from __future__ import annotations

import math
import time

import torch

from lessons.engine.config import ModelConfig, TrainConfig
from lessons.engine.model import GPT


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
