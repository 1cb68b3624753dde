"""RunStatus: one str Enum, set only by BackgroundTraining, read by everyone else."""
import json
import re
import threading
import time
from pathlib import Path

import pytest

from lessons.engine.checkpoint import load_checkpoint
from lessons.engine.config import preset
from lessons.engine.training import BackgroundTraining, RunStatus, Trainer
from lessons.hosting.limits import TrainingSlots
from lessons.hosting.runs import RunBook

ROOT = Path(__file__).resolve().parents[3]


def wait_for(condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_statuses_are_plain_strings_too():
    assert [s.value for s in RunStatus] == ["ready", "preparing", "queued", "running", "stopped",
                                           "finished", "diverged", "error", "uploaded"]
    assert RunStatus.RUNNING == "running" and "stopped" == RunStatus.STOPPED
    assert json.dumps({"status": RunStatus.FINISHED}) == '{"status": "finished"}'
    assert f"{RunStatus.QUEUED}" == "queued" and RunStatus("error") is RunStatus.ERROR


def test_every_status_has_its_prose_in_both_languages():
    from lessons.i18n import t
    for status in RunStatus:
        for lang in ("en", "zh"):
            assert t("training.status_" + status.value, lang)


def test_a_run_goes_queued_stopped_running_finished(tiny_text):
    slots = TrainingSlots(1)
    slots.acquire("someone else")
    made = threading.Event()

    def make_trainer():
        made.set()
        return Trainer(*preset("tiny", max_iters=10), tiny_text, device="cpu")
    run = BackgroundTraining(make_trainer, slots=slots, threads=1)
    assert run.status is RunStatus.READY
    run.start()
    assert run.status is RunStatus.QUEUED           # at once, before the thread got going
    wait_for(lambda: run.queue_position() == 1)
    run.stop()
    assert run.status is RunStatus.STOPPED and not made.is_set() and run.trainer is None
    slots.release("someone else")
    run.start()
    run.join(60)
    assert run.status is RunStatus.FINISHED and run.trainer.step == 10
    run.start()                                     # a finished run does not start again
    assert not run.running and run.status is RunStatus.FINISHED


def test_preparing_then_running(tiny_text):
    release = threading.Event()

    def make_trainer():
        release.wait(30)
        return Trainer(*preset("tiny", max_iters=100_000, log_interval=1), tiny_text, device="cpu")
    run = BackgroundTraining(make_trainer, threads=1)
    run.start()
    assert run.status is RunStatus.PREPARING and run.trainer is None
    release.set()
    wait_for(lambda: run.trainer is not None and run.trainer.step > 0)
    assert run.status is RunStatus.RUNNING
    run.stop()
    assert run.status is RunStatus.STOPPED and "stopped at step" in run.message


def test_an_exception_is_an_error_with_its_message():
    def broken():
        raise RuntimeError("no text")
    run = BackgroundTraining(broken)
    run.start()
    run.join(30)
    assert run.status is RunStatus.ERROR and run.message == "RuntimeError: no text"
    run.start()
    assert not run.running


def test_a_divergence_ends_the_run(tiny_text):
    trainer = Trainer(*preset("tiny", learning_rate=1e6, warmup_iters=0, grad_clip=0.0),
                      tiny_text, device="cpu")
    run = BackgroundTraining(trainer)
    run.start()
    run.join(60)
    assert run.status is RunStatus.DIVERGED and run.status.ended


def test_an_uploaded_run_reads_uploaded(tiny_checkpoint_bytes):
    book = RunBook()
    run = book.add_uploaded(load_checkpoint(tiny_checkpoint_bytes), "mine")
    assert run.status is RunStatus.UPLOADED and run.settings()["status"] == "uploaded"


def test_nothing_but_background_training_sets_a_status():
    """The one-owner rule, read off the source: no other module assigns a status."""
    assigns = re.compile(r"\.(_?status)\s*=[^=]|_set_status\(")
    writers = sorted(str(path.relative_to(ROOT)) for folder in ("lessons", "app")
                     for path in (ROOT / folder).rglob("*.py")
                     if assigns.search(path.read_text(encoding="utf-8")))
    assert writers == ["lessons/engine/training/background.py"]
