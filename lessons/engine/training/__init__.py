"""Training: the trainer, its schedule, the Muon optimizer and the background thread."""
from lessons.engine.training.background import BackgroundTraining, lower_this_threads_priority
from lessons.engine.training.schedule import (flops_per_step, learning_rate_at,
                                              measure_flops_per_second, snapshot_steps)
from lessons.engine.training.trainer import Divergence, Trainer

__all__ = ["BackgroundTraining", "Divergence", "Trainer", "flops_per_step", "learning_rate_at",
           "lower_this_threads_priority", "measure_flops_per_second", "snapshot_steps"]



