"""Muon: momentum, then "orthogonalise" the update of each weight matrix.

Adam scales every number of a gradient on its own. Muon treats a weight matrix's update as a
whole: it keeps a momentum of the gradient, then replaces that matrix G by the nearest matrix
with all singular values equal to 1 (U Vᵀ from G = U S Vᵀ), so no single direction dominates the
step. An exact SVD is slow; a few steps of a Newton–Schulz iteration get close enough.

Used only for the 2-D weights inside transformer blocks; embeddings, LayerNorms and biases
keep AdamW (``Trainer`` builds both when ``TrainConfig.optimizer == "muon"``).

>>> g = torch.tensor([[3.0, 0.0], [0.0, 0.5]])
>>> [round(v, 1) for v in torch.linalg.svdvals(orthogonalize(g)).tolist()]   # both near 1
[1.0, 0.7]
"""
from __future__ import annotations

from collections import defaultdict

import torch

# Quintic Newton–Schulz coefficients tuned for speed of convergence from the Muon write-up;
# they push every singular value into roughly [0.7, 1.2] rather than exactly to 1.
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def orthogonalize(g: torch.Tensor, steps: int = 5) -> torch.Tensor:
    """Approximately U Vᵀ for g = U S Vᵀ: (m, n) -> (m, n), or a stack (k, m, n) -> (k, m, n)
    of matrices done at once (one batched matmul instead of k small ones)."""
    a, b, c = NS_COEFFICIENTS
    # singular values now <= 1, where the iteration converges
    x = g / (g.norm(dim=(-2, -1), keepdim=True) + 1e-7)
    tall = x.size(-2) > x.size(-1)
    if tall:                           # iterate on the smaller Gram matrix
        x = x.mT
    for _ in range(steps):
        gram = x @ x.mT
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.mT if tall else x


def wide(p: torch.Tensor) -> torch.Tensor:
    """A matrix seen with its longer side second: a tall (512, 128) and a wide (128, 512) weight
    then have the same shape and are orthogonalised in one stack (U Vᵀ of Gᵀ is (U Vᵀ)ᵀ)."""
    return p.mT if p.size(0) > p.size(1) else p


class Muon(torch.optim.Optimizer):
    def __init__(self, params, lr: float = 0.02, momentum: float = 0.95, steps: int = 5):
        super().__init__(params, dict(lr=lr, momentum=momentum, steps=steps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            same_shape = defaultdict(list)
            for p in group["params"]:
                if p.grad is not None:
                    same_shape[wide(p).shape].append(p)
            for params in same_shape.values():
                updates = orthogonalize(torch.stack([wide(self._nesterov(p, group))
                                                     for p in params]), group["steps"])
                for p, update in zip(params, updates):
                    # a tall matrix's orthogonal update has smaller entries; scale it back up
                    shape_scale = max(1.0, p.size(0) / p.size(1)) ** 0.5
                    p.add_(update.mT if update.shape != p.shape else update,
                           alpha=-group["lr"] * shape_scale)

    def _nesterov(self, p: torch.Tensor, group: dict) -> torch.Tensor:
        buffer = self.state[p].setdefault("momentum", torch.zeros_like(p))
        buffer.mul_(group["momentum"]).add_(p.grad)
        return p.grad.add(buffer, alpha=group["momentum"])


class Optimizers:
    """Several optimizers driven as one (zero_grad, step, all param_groups)."""

    def __init__(self, *optimizers):
        self.optimizers = optimizers

    @property
    def param_groups(self):
        return [g for opt in self.optimizers for g in opt.param_groups]

    def zero_grad(self, set_to_none: bool = True):
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=set_to_none)

    def step(self):
        for opt in self.optimizers:
            opt.step()
