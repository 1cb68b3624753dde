"""The training lesson's numbers: a run's metrics as CSV, a model's size before it exists.

>>> metrics_csv([{"step": 10, "train_loss": 2.5, "val_loss": None}]).splitlines()[1]
'10,2.5,,,,,'
"""
from __future__ import annotations

import csv
import io

import torch

from lessons.engine.config import ModelConfig
from lessons.engine.model import GPT


METRIC_COLUMNS = ["step", "train_loss", "val_loss", "lr", "grad_norm", "tokens_per_s", "elapsed_s"]


def metrics_csv(metrics: list[dict]) -> str:
    """Metrics as CSV text, one row per logged step (empty cells where not measured)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=METRIC_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in metrics:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in METRIC_COLUMNS})
    return out.getvalue()


def count_parameters(model_config: ModelConfig) -> int:
    """Parameters of a model with this config, without allocating its weights."""
    with torch.device("meta"):
        return GPT(model_config).num_parameters()
