"""The trainer against hand-checked numbers: loss falls, seeded runs repeat, stop and resume
equal one run, the schedule, snapshots, the NaN guard, Muon, the corpus's batches and checks."""
import math
import threading

import pytest
import torch

from lessons.engine.config import ConfigError, TrainConfig, preset
from lessons.engine.corpus import CorpusError, TokenStream, decode_user_bytes, split_text
from lessons.engine.training import BackgroundTraining, Trainer, learning_rate_at, snapshot_steps
from tests.helpers import wait_for


def make_trainer(text, **overrides):
    model_cfg, train_cfg = preset("tiny", **overrides)
    return Trainer(model_cfg, train_cfg, text, device="cpu")


@pytest.mark.slow     # whole training runs: make test, not test-fast
def test_loss_falls_well_below_its_start(tiny_text):
    trainer = make_trainer(tiny_text, max_iters=150, eval_interval=50)
    start = trainer.validation_loss()
    assert trainer.train() == "finished"
    end = trainer.metrics[-1]["val_loss"]
    # starts near ln(vocab); a repetitive text is learned fast
    assert start > 5.0 and end < 0.5 * start, (start, end)
    assert [m["step"] for m in trainer.metrics][-1] == 150


@pytest.mark.slow     # whole training runs: make test, not test-fast
def test_seeded_runs_are_identical(tiny_text):
    a, b = make_trainer(tiny_text, max_iters=20), make_trainer(tiny_text, max_iters=20)
    a.train(), b.train()
    assert [m["train_loss"] for m in a.metrics] == [m["train_loss"] for m in b.metrics]


@pytest.mark.slow     # whole training runs: make test, not test-fast
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
    wait_for(lambda: trainer.step >= 5, 60, "5 steps of the background run")
    run.stop()
    assert not run.running and run.status == "stopped"
    stopped_at = trainer.step
    run.start()
    wait_for(lambda: trainer.step >= stopped_at + 3, 60, "3 more steps after the resume")
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


def test_keep_best_ends_on_the_lowest_validation_loss_and_patience_stops(tiny_text):
    # a constant, high learning rate: the validation loss bottoms out at step 120 (seeded)
    trainer = make_trainer(tiny_text, max_iters=200, eval_interval=10, snapshot_count=3,
                           learning_rate=3e-2, min_lr=3e-2, keep_best=True, patience=2)
    trainer.train()
    measured = {r["step"]: r["val_loss"] for r in trainer.metrics if r["val_loss"] is not None}
    best = min(measured, key=measured.get)
    assert trainer.best_step == best < trainer.step < 200     # stopped early, two evaluations on
    assert trainer.step - best == 2 * 10
    # the model is the best evaluation's again: the same batches give the same loss
    assert trainer.validation_loss() == pytest.approx(measured[best], abs=1e-6)
    assert sorted(trainer.snapshots) == [0, 100, best]        # the sliders end at the best
    assert torch.equal(trainer.snapshots[best]["token_embedding.weight"],
                       trainer.model.token_embedding.weight.detach())


def test_bad_training_settings_are_refused():
    with pytest.raises(ConfigError, match="learning rate"):
        TrainConfig(learning_rate=-1)
    with pytest.raises(ConfigError, match="unknown setting"):
        preset("tiny", learning_rat=1)


def test_split_and_batches_are_deterministic():
    train, val = split_text("x" * 90 + "y" * 10)
    assert train == "x" * 90 and val == "y" * 10
    # a cut inside a poem moves back to where the poem starts (never forward)
    # (2,234 characters; the 90 % point, 2,010, is 8 into the b poem, and 8 is within 1 %)
    poems = "\n\n".join(["a" * 2000, "b" * 10, "c" * 220])
    assert split_text(poems) == ("a" * 2000 + "\n\n", "b" * 10 + "\n\n" + "c" * 220)
    # a document longer than 1 % of the text is cut where the 90 % point falls
    assert split_text("\n\n".join(["a" * 100, "b" * 900])) == ("a" * 100 + "\n\n" + "b" * 799,
                                                                "b" * 101)
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


def test_muon_stacks_same_shape_matrices_without_changing_any_update():
    """One Muon step on tall, wide and square matrices at once equals the update written out
    matrix by matrix: Nesterov momentum, U Vᵀ by the unbatched iteration (checked against an
    SVD), the tall-matrix scale. A tall (8, 4) and a wide (4, 8) share a stack."""
    from lessons.engine.training.muon import Muon, orthogonalize
    gen = torch.Generator().manual_seed(3)
    shapes = [(8, 4), (4, 8), (4, 4), (4, 8)]
    params = [torch.nn.Parameter(torch.randn(*s, generator=gen)) for s in shapes]
    grads = [torch.randn(*s, generator=gen) for s in shapes]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    before = [p.detach().clone() for p in params]
    Muon(params, lr=0.1, momentum=0.9, steps=5).step()
    for p, old, g in zip(params, before, grads):
        nesterov = g + 0.9 * g                           # first step: the buffer is the gradient
        expected = orthogonalize(nesterov, 5)            # one matrix alone
        u, _, vh = torch.linalg.svd(nesterov, full_matrices=False)
        assert torch.linalg.norm(expected - u @ vh) / torch.linalg.norm(u @ vh) < 0.35
        scale = max(1.0, p.shape[0] / p.shape[1]) ** 0.5
        torch.testing.assert_close(p.detach(), old - 0.1 * scale * expected, atol=1e-5, rtol=1e-5)


def test_fewer_newton_schulz_steps_orthogonalise_less():
    from lessons.engine.training.muon import orthogonalize
    g = torch.randn(32, 96, generator=torch.Generator().manual_seed(1))
    spread = [torch.linalg.svdvals(orthogonalize(g, steps)) for steps in (1, 5)]
    assert spread[0].min() < 0.3 < 0.6 < spread[1].min()
    with pytest.raises(ConfigError):
        TrainConfig(muon_steps=0)
