"""Training: the trainer, what it learns (objectives), which weights it trains (parameters),
its schedule, the Muon optimizer, the background thread and the run status it owns."""
from lessons.engine.training.background import BackgroundTraining, lower_this_threads_priority
from lessons.engine.training.objectives import Batch, Classification, MaskedToken, NextToken
from lessons.engine.training.parameters import BODY
from lessons.engine.training.schedule import (flops_per_step, learning_rate_at,
                                              measure_flops_per_second, snapshot_steps)
from lessons.engine.training.status import RunStatus
from lessons.engine.training.trainer import Divergence, Trainer

__all__ = ["BODY", "BackgroundTraining", "Batch", "Classification", "Divergence", "MaskedToken", "NextToken",
           "RunStatus", "Trainer", "flops_per_step", "learning_rate_at",
           "lower_this_threads_priority", "measure_flops_per_second", "snapshot_steps"]
