"""Shared fixtures: a tiny trained checkpoint, the repo paths, thread hygiene."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHAKESPEARE = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"


@pytest.fixture(scope="session")
def tiny_text() -> str:
    """A small, repetitive English+Chinese text a tiny model can learn in seconds."""
    lines = ["the cat sat on the mat.", "the dog sat on the log.", "a cat and a dog.",
             "猫坐在垫子上。", "the end."]
    return "\n".join(lines * 60)


@pytest.fixture(scope="session")
def tiny_checkpoint_bytes(tiny_text):
    from lessons.checkpoint import checkpoint_bytes
    from lessons.config import preset
    from lessons.training import Trainer
    model_cfg, train_cfg = preset("tiny", max_iters=30)
    trainer = Trainer(model_cfg, train_cfg, tiny_text, device="cpu")
    trainer.train()
    return checkpoint_bytes(trainer.model, trainer.tokenizer, train_config=train_cfg,
                            metrics=trainer.metrics, snapshots=trainer.snapshots)


@pytest.fixture(autouse=True)
def no_stray_training_threads():
    """A training thread left running at exit crashes the interpreter; fail the test instead."""
    yield
    stray = [t for t in threading.enumerate() if t.name == "llm-explorer-train" and t.is_alive()]
    for t in stray:
        t.join(timeout=30)
    assert not [t for t in stray if t.is_alive()], "a training thread outlived its test"
