import json
import math
import subprocess
import sys
import threading
import time

import pytest
import torch

from lessons.engine.config import ConfigError, TrainConfig, preset
from lessons.engine.corpus import CorpusError, TokenStream, decode_user_bytes, split_text
from lessons.engine.devices import DeviceError, pick_device
from lessons.engine.training import BackgroundTraining, Trainer, learning_rate_at, snapshot_steps


def make_trainer(text, **overrides):
    model_cfg, train_cfg = preset("tiny", **overrides)
    return Trainer(model_cfg, train_cfg, text, device="cpu")


def test_loss_falls_well_below_its_start(tiny_text):
    trainer = make_trainer(tiny_text, max_iters=150, eval_interval=50)
    start = trainer.validation_loss()
    assert trainer.train() == "finished"
    end = trainer.metrics[-1]["val_loss"]
    # starts near ln(vocab); a repetitive text is learned fast
    assert start > 5.0 and end < 0.5 * start, (start, end)
    assert [m["step"] for m in trainer.metrics][-1] == 150


def test_seeded_runs_are_identical(tiny_text):
    a, b = make_trainer(tiny_text, max_iters=20), make_trainer(tiny_text, max_iters=20)
    a.train(), b.train()
    assert [m["train_loss"] for m in a.metrics] == [m["train_loss"] for m in b.metrics]


def test_stop_and_resume_equals_uninterrupted_run(tiny_text):
    whole = make_trainer(tiny_text, max_iters=40)
    whole.train()
    parts = make_trainer(tiny_text, max_iters=40)
    stop = threading.Event()

    def stop_at_20(row):
        if row["step"] >= 20:
            stop.set()
    assert parts.train(stop_at_20, stop) == "stopped" and parts.step == 20
    stop.clear()
    assert parts.train(None, stop) == "finished"
    for p_whole, p_parts in zip(whole.model.parameters(), parts.model.parameters()):
        assert torch.allclose(p_whole, p_parts)


def test_background_thread_stops_and_resumes(tiny_text):
    trainer = make_trainer(tiny_text, max_iters=100000, log_interval=1)
    run = BackgroundTraining(trainer)
    run.start()
    while trainer.step < 5:
        time.sleep(0.01)
    run.stop()
    assert not run.running and run.status == "stopped"
    stopped_at = trainer.step
    run.start()
    while trainer.step < stopped_at + 3:
        time.sleep(0.01)
    run.stop()
    assert trainer.step > stopped_at and run.status == "stopped"


def test_nan_guard_stops_cleanly(tiny_text):
    trainer = make_trainer(tiny_text, learning_rate=1e6, warmup_iters=0, max_iters=200,
                           grad_clip=0.0)
    assert trainer.train() == "diverged"
    assert "learning rate" in trainer.message
    assert trainer.step < 200
    last = trainer.metrics[-1]
    assert not math.isfinite(last["train_loss"]) or last["train_loss"] > 10


def test_learning_rate_schedule():
    cfg = TrainConfig(learning_rate=1.0, min_lr=0.1, warmup_iters=10, max_iters=110)
    assert learning_rate_at(0, cfg) == pytest.approx(1 / 11)
    assert learning_rate_at(10, cfg) == pytest.approx(1.0)
    assert learning_rate_at(60, cfg) == pytest.approx(0.55)
    assert learning_rate_at(110, cfg) == pytest.approx(0.1)


def test_snapshots_are_kept(tiny_text):
    trainer = make_trainer(tiny_text, max_iters=30, snapshot_count=3)
    trainer.train()
    assert snapshot_steps(trainer.train_config) == [0, 15, 30]
    assert sorted(trainer.snapshots) == [0, 15, 30]
    first, last = trainer.snapshots[0], trainer.snapshots[30]
    assert not torch.equal(first["token_embedding.weight"], last["token_embedding.weight"])


def test_devices():
    assert pick_device("cpu") == "cpu"
    assert pick_device("auto") in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="not available"):
            pick_device("cuda")


def test_bad_training_settings_are_refused():
    with pytest.raises(ConfigError, match="learning rate"):
        TrainConfig(learning_rate=-1)
    with pytest.raises(ConfigError, match="unknown setting"):
        preset("tiny", learning_rat=1)


def test_split_and_batches_are_deterministic():
    train, val = split_text("x" * 90 + "y" * 10)
    assert train == "x" * 90 and val == "y" * 10
    stream = TokenStream(list(range(100)), block_size=8)
    x, y = stream.batch(4, torch.Generator().manual_seed(0))
    assert x.shape == (4, 8) and torch.equal(y, x + 1)


@pytest.mark.parametrize("data, message", [
    (b"", "empty"), (b"\x00\x01\x02binary" * 50, "binary"), (b"\xff\xfe bad" * 100, "UTF-8"),
    (b"short", "at least"), (b"x" * 101, "limit"),
])
def test_bad_uploads_get_clear_messages(data, message):
    with pytest.raises(CorpusError, match=message):
        decode_user_bytes(data, max_bytes=100 if message == "limit" else 10_000)


def test_cli_trains_tiny_and_prints_falling_losses(tmp_path, tiny_text):
    data = tmp_path / "data.txt"
    data.write_text(tiny_text, encoding="utf-8")
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "lessons.train", "--data", str(data), "--preset", "tiny",
         "--max-iters", "80", "--device", "cpu", "--out", str(out)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    steps = [r for r in rows if "iter" in r]
    assert {"iter", "train_loss", "lr", "tokens_per_s", "elapsed_s"} <= set(steps[0])
    assert any("val_loss" in r for r in steps)
    assert steps[-1]["train_loss"] < 0.6 * steps[0]["train_loss"]
    assert (out / "model.safetensors").exists() and (out / "config.json").exists()
    assert rows[-1]["status"] == "finished"


def test_cli_reports_bad_data_without_traceback(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00\x00" * 100)
    result = subprocess.run([sys.executable, "-m", "lessons.train", "--data", str(bad)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr


def test_training_slots_queue_in_order_and_can_be_abandoned():
    from lessons.hosting.limits import TrainingSlots
    slots = TrainingSlots(1)
    assert slots.acquire("a")
    got = {}
    waiter = threading.Thread(target=lambda: got.setdefault("b", slots.acquire("b")))
    waiter.start()
    while slots.position("b") != 1:
        time.sleep(0.01)
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
    while run.queue_position() != 1:
        time.sleep(0.01)
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


def test_samples_never_contain_bytes_the_text_lacks(tiny_text):
    trainer = make_trainer(tiny_text, max_iters=5)      # barely trained: would babble bytes
    trainer.train()
    text = trainer.sample("the ", 300, temperature=1.5)
    assert "\ufffd" not in text and set(text) <= set(tiny_text)


def test_muon_orthogonalizes_and_trains(tiny_text):
    from lessons.engine.training.muon import orthogonalize
    g = torch.randn(96, 32, generator=torch.Generator().manual_seed(0))
    singular = torch.linalg.svdvals(orthogonalize(g))
    # raw singular values spread widely; after five Newton–Schulz steps all sit near 1
    assert torch.linalg.svdvals(g).max() / torch.linalg.svdvals(g).min() > 2
    assert singular.min() > 0.6 and singular.max() < 1.25
    trainer = make_trainer(tiny_text, max_iters=150, eval_interval=50, optimizer="muon")
    start = trainer.validation_loss()
    assert trainer.train() == "finished"
    assert trainer.metrics[-1]["val_loss"] < 0.5 * start
