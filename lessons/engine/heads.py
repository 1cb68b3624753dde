"""New heads on a trained body: small modules that read ``GPT.features`` (the final
LayerNorm's output, (B, T, C)) instead of predicting tokens with the tied ``lm_head``.

Fine-tuning a pretrained "document completer" into a model that does a task (issue #15) puts
one of these on top and trains it, with or without the body (``Trainer(freeze=...)``).

>>> head = ClassifierHead(n_embd=4, n_classes=3)
>>> features = torch.zeros(2, 5, 4)                       # (B, T, C)
>>> head(features, lengths=torch.tensor([5, 2])).shape   # one row of class scores a text
torch.Size([2, 3])
>>> head_from_dict(head.to_dict()).n_classes
3
"""
from __future__ import annotations

import torch
import torch.nn as nn


class ClassifierHead(nn.Module):
    """Class scores from the last real position of each text. In a causal model that is the
    only position that has seen the whole text, which is why it is the one to read."""

    kind = "classifier"

    def __init__(self, n_embd: int, n_classes: int):
        super().__init__()
        self.n_embd, self.n_classes = n_embd, n_classes
        self.classify = nn.Linear(n_embd, n_classes)
        nn.init.normal_(self.classify.weight, mean=0.0, std=0.02)   # as the body's Linears
        nn.init.zeros_(self.classify.bias)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """features (B, T, C), lengths (B,) real tokens per row -> class logits (B, n_classes)."""
        rows = torch.arange(features.shape[0], device=features.device)
        return self.classify(features[rows, lengths - 1])           # (B, C) -> (B, n_classes)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "n_embd": self.n_embd, "n_classes": self.n_classes}


HEADS = {ClassifierHead.kind: ClassifierHead}


def head_from_dict(data: dict) -> nn.Module:
    """Rebuild an (untrained) head from ``to_dict``; KeyError/TypeError on a damaged one."""
    settings = {k: v for k, v in data.items() if k != "kind"}
    return HEADS[data["kind"]](**settings)
