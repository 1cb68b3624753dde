"""The hosted server's limits: the training queue (its order, abandoning it, a queued run
waiting for a slot) and the settings read from the environment."""
import threading

from lessons.engine.config import preset
from lessons.engine.training import BackgroundTraining, Trainer
from tests.helpers import wait_for


def make_trainer(text, **overrides):
    model_cfg, train_cfg = preset("tiny", **overrides)
    return Trainer(model_cfg, train_cfg, text, device="cpu")


def test_training_slots_queue_in_order_and_can_be_abandoned():
    from lessons.hosting.limits import TrainingSlots
    slots = TrainingSlots(1)
    assert slots.acquire("a")
    got = {}
    waiter = threading.Thread(target=lambda: got.setdefault("b", slots.acquire("b")))
    waiter.start()
    wait_for(lambda: slots.position("b") == 1, 10, "b to queue first")
    cancel = threading.Event()
    cancel.set()
    assert slots.acquire("c", cancel) is False and slots.position("c") is None
    slots.release("a")
    waiter.join(5)
    assert got["b"] is True and slots.position("b") == 0 and slots.in_use == 1


def test_queued_training_waits_for_a_slot(tiny_text):
    from lessons.hosting.limits import TrainingSlots
    slots = TrainingSlots(1)
    slots.acquire("someone else")
    run = BackgroundTraining(make_trainer(tiny_text, max_iters=20), slots=slots, threads=1)
    run.start()
    wait_for(lambda: run.queue_position() == 1, 30, "the run to queue for the slot")
    assert run.status == "queued" and run.trainer.step == 0
    slots.release("someone else")
    run.join(60)
    assert run.status == "finished" and slots.in_use == 0


def test_hosted_limits_from_environment(monkeypatch):
    from lessons.hosting.limits import current_limits
    monkeypatch.setenv("LLM_EXPLORER_HOSTED", "1")
    assert current_limits().hosted and current_limits().threads_per_training == 1
    monkeypatch.delenv("LLM_EXPLORER_HOSTED")
    assert not current_limits().hosted
