"""Where a training run stands: one ``RunStatus`` with one owner.

**The owner is ``BackgroundTraining``** (``background.py``); it alone sets a run's status,
everyone else reads it. Why there: it is the only object that sees a run through every phase.
It exists before the ``Trainer`` does (``preparing``: the tokenizer is still being trained in
its thread), it waits for a training slot (``queued``), it calls ``Trainer.train`` (``running``)
and records what that call returned (``stopped``, ``finished``, ``diverged``), and it catches
what the trainer raised (``error``). A ``Trainer`` alone cannot know any of the first two or
the last one, so it keeps no status: ``Trainer.train`` *returns* how the call ended.
``hosting.runs.Run`` reads the owner's status, or reports ``uploaded`` for a checkpoint that
was loaded from a file and never trained here.

A str Enum, so prose keys and plain comparisons keep working:

>>> RunStatus.RUNNING == "running", "training.status_" + RunStatus.QUEUED.value
(True, 'training.status_queued')
>>> str(RunStatus.FINISHED), RunStatus("diverged").ended
('finished', True)
"""
from __future__ import annotations

from enum import Enum


class RunStatus(str, Enum):
    READY = "ready"            # made, never started
    PREPARING = "preparing"    # its Trainer (tokenizer, encoded text) is being built
    QUEUED = "queued"          # waiting for a free training slot
    RUNNING = "running"
    STOPPED = "stopped"        # asked to stop; resumable
    FINISHED = "finished"      # reached max_iters
    DIVERGED = "diverged"      # stopped itself: the loss or the gradients blew up
    ERROR = "error"            # preparing or training raised an exception
    UPLOADED = "uploaded"      # a checkpoint from a file: nothing to train

    def __str__(self) -> str:  # the value, not "RunStatus.RUNNING", in tables and f-strings
        return self.value

    @property
    def ended(self) -> bool:
        """True when starting again would do nothing."""
        return self in (RunStatus.FINISHED, RunStatus.DIVERGED, RunStatus.ERROR,
                        RunStatus.UPLOADED)
