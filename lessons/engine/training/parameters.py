"""Which weights a run trains, and the optimizer that trains them.

Parameters are named as in ``GPT.state_dict()`` (``token_embedding.weight``,
``blocks.0.attn.qkv.weight`` ...) plus ``head.<name>`` for a new head on the body. Freezing
takes name *prefixes*, whole dotted parts only, so ``blocks.1`` never catches ``blocks.10``:

>>> matches("blocks.1.mlp.expand.weight", "blocks.1")
True
>>> matches("blocks.10.ln_mlp.weight", "blocks.1")
False

A frozen parameter gets ``requires_grad=False`` and is left out of the optimizer, so neither
a gradient nor weight decay can touch it: it stays bit-for-bit what it was.
"""
from __future__ import annotations

import torch

from lessons.engine.config import TrainConfig
from lessons.engine.training.muon import Muon, Optimizers

# Everything but a new head: freeze these for a linear probe.
BODY = ("token_embedding", "position_embedding", "blocks", "ln_final")


def matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def freeze(named_parameters, prefixes) -> list[str]:
    """Set requires_grad=False on every parameter whose name starts with one of ``prefixes``;
    return the frozen names. ``named_parameters`` should list tied weights under every name
    (``remove_duplicate=False``): ``lm_head`` *is* ``token_embedding``, so freezing either
    freezes both. A prefix that names nothing is a typo, and raises ValueError."""
    named = list(named_parameters)
    unknown = [p for p in prefixes if not any(matches(n, p) for n, _ in named)]
    if unknown:
        raise ValueError(f"no parameter is named {', '.join(unknown)}; names start with "
                         f"{', '.join(sorted({n.split('.')[0] for n, _ in named}))}")
    frozen = [n for n, _ in named if any(matches(n, p) for p in prefixes)]
    for name, param in named:
        if name in frozen:
            param.requires_grad_(False)
    return frozen


def make_optimizer(named_parameters, cfg: TrainConfig, device: str):
    """AdamW for every trainable parameter, or with ``cfg.optimizer == "muon"`` Muon for the
    2-D matrices inside blocks and AdamW for the rest. Frozen parameters are left out."""
    named = [(n, p) for n, p in named_parameters if p.requires_grad]
    if not named:
        raise ValueError("every parameter is frozen: there is nothing to train")
    fast = {"fused": True} if device == "cuda" else {"foreach": True}
    betas = (cfg.beta1, cfg.beta2)
    if cfg.optimizer == "muon":
        is_matrix = [p.dim() == 2 and n.startswith("blocks.") for n, p in named]
        matrices = [p for (_, p), m in zip(named, is_matrix) if m]
        rest = [p for (_, p), m in zip(named, is_matrix) if not m]
        optimizers = [torch.optim.AdamW(rest, lr=cfg.learning_rate, betas=betas,
                                        weight_decay=0.0, **fast)] if rest else []
        if matrices:
            muon = Muon(matrices, lr=cfg.muon_lr, steps=cfg.muon_steps)
            # the schedule sets lr = schedule(step) * lr_scale for every group
            muon.param_groups[0]["lr_scale"] = cfg.muon_lr / cfg.learning_rate
            optimizers.append(muon)
        return Optimizers(*optimizers)
    # weight decay on matrices only; biases and LayerNorm gains stay undecayed
    groups = [{"params": [p for _, p in named if p.dim() >= 2], "weight_decay": cfg.weight_decay},
              {"params": [p for _, p in named if p.dim() < 2], "weight_decay": 0.0}]
    groups = [g for g in groups if g["params"]]
    return torch.optim.AdamW(groups, lr=cfg.learning_rate, betas=betas, **fast)
