"""Training from a checkpoint: continued pre-training, frozen parts, a new classifier head."""
import math
import random
import threading

import pytest
import torch
import torch.nn.functional as F

from lessons.engine.checkpoint import checkpoint_bytes, load_checkpoint
from lessons.engine.config import TrainConfig, preset
from lessons.engine.training import BODY, Classification, RunStatus, Trainer


def config(**overrides) -> TrainConfig:
    _, train = preset("tiny", **overrides)
    return train


@pytest.fixture(scope="module")
def base(tiny_checkpoint_bytes):
    """The conftest's tiny model: 30 steps of next-token training on tiny_text."""
    return load_checkpoint(tiny_checkpoint_bytes)


def weights(module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def toy_task(tokenizer, block_size: int, seed: int = 0) -> Classification:
    """Texts that start with "a" are class 0, with "b" class 1; the rest is random letters."""
    rng = random.Random(seed)

    def examples(n):
        return [(("a" if i % 2 == 0 else "b") +
                 "".join(rng.choice("catdogmsheln .") for _ in range(rng.randint(3, 20))), i % 2)
                for i in range(n)]
    return Classification.from_texts(examples(200), examples(40), tokenizer, 2, block_size)


@pytest.fixture(scope="module")
def task(base):
    return toy_task(base.tokenizer, base.model.config.block_size)


def fine_tune_config(**overrides) -> TrainConfig:
    return config(**{"batch_size": 16, "max_iters": 30, "eval_interval": 10, "eval_iters": 1,
                     "snapshot_count": 0, **overrides})


def test_continued_pretraining_starts_at_the_checkpoints_loss(base, tiny_text):
    trainer = Trainer.from_checkpoint(base, config(max_iters=10, log_interval=1), tiny_text,
                                      device="cpu")
    # the same validation batches as the checkpoint's last evaluation, the same weights
    assert trainer.validation_loss() == pytest.approx(base.metrics[-1]["val_loss"], abs=1e-5)
    trainer.train()
    chance = math.log(base.tokenizer.vocab_size)
    fresh = Trainer(*preset("tiny", max_iters=1, log_interval=1), tiny_text, device="cpu")
    fresh.train()
    assert fresh.metrics[0]["train_loss"] == pytest.approx(chance, abs=0.3)   # a new model
    assert trainer.metrics[0]["train_loss"] < chance - 1.5
    assert trainer.metrics[0]["train_loss"] == pytest.approx(base.metrics[-1]["val_loss"], abs=0.5)


@pytest.mark.parametrize("optimizer", ["adamw", "muon"])
def test_frozen_weights_stay_bit_for_bit_and_the_rest_change(base, tiny_text, optimizer):
    frozen = ("token_embedding", "blocks.0.attn")
    trainer = Trainer.from_checkpoint(base, config(max_iters=10, optimizer=optimizer), tiny_text,
                                      freeze=frozen, device="cpu")
    before = weights(trainer.model)
    assert trainer.train() is RunStatus.FINISHED
    after = weights(trainer.model)
    is_frozen = [name.startswith(frozen) or name == "lm_head.weight" for name in before]
    for (name, old), frozen_here in zip(before.items(), is_frozen):
        assert torch.equal(old, after[name]) == frozen_here, name
    in_optimizer = {id(p) for group in trainer.optimizer.param_groups for p in group["params"]}
    for name, param in trainer.model.named_parameters():
        assert (id(param) in in_optimizer) == param.requires_grad == (not name.startswith(frozen))
    # the checkpoint itself is shared and must never change
    assert all(torch.equal(v, base.model.state_dict()[k]) for k, v in before.items()
               if not k.startswith(frozen))


def test_freezing_the_tied_head_freezes_the_embedding(base, tiny_text):
    trainer = Trainer.from_checkpoint(base, config(max_iters=2), tiny_text, freeze=("lm_head",),
                                      device="cpu")
    assert not trainer.model.token_embedding.weight.requires_grad
    with pytest.raises(ValueError, match="no parameter is named block"):
        Trainer.from_checkpoint(base, config(), tiny_text, freeze=("block",), device="cpu")
    with pytest.raises(ValueError, match="nothing to train"):
        Trainer.from_checkpoint(base, config(), tiny_text, freeze=BODY, device="cpu")


def test_a_linear_probe_leaves_the_body_untouched(base, task):
    trainer = Trainer.from_checkpoint(base, fine_tune_config(max_iters=15), objective=task,
                                      freeze=BODY, device="cpu")
    body, head = weights(trainer.model), weights(trainer.head)
    trainer.train()
    assert all(torch.equal(v, trainer.model.state_dict()[k]) for k, v in body.items())
    assert not any(torch.equal(v, trainer.head.state_dict()[k]) for k, v in head.items())
    assert trainer.frozen and all(n.split(".")[0] in BODY + ("lm_head",) for n in trainer.frozen)


def test_the_classifier_learns_a_separable_task(base, task):
    trainer = Trainer.from_checkpoint(base, fine_tune_config(max_iters=30), objective=task,
                                      device="cpu")
    first = trainer.evaluate()
    assert first["val_loss"] == pytest.approx(math.log(2), abs=0.1)    # a new head: chance
    trainer.train()
    held_out = toy_task(base.tokenizer, base.model.config.block_size, seed=1).val
    predicted = task.predict(trainer.model, trainer.head, [ids for ids, _ in held_out])
    accuracy = sum(p == label for p, (_, label) in zip(predicted, held_out)) / len(held_out)
    assert accuracy > 0.9 and trainer.metrics[-1]["val_accuracy"] > 0.9


def test_classification_loss_is_torch_cross_entropy_at_the_last_real_token(base, task):
    trainer = Trainer.from_checkpoint(base, fine_tune_config(), objective=task, device="cpu")
    model, head = trainer.model.eval(), trainer.head
    batch = task.batch_of(task.train[:5])
    with torch.no_grad():
        rows = []
        for ids, _ in task.train[:5]:          # each text alone: no padding at all
            rows.append(head.classify(model.features(torch.tensor([ids]))[0, -1]))
        expected = F.cross_entropy(torch.stack(rows), batch.targets)
        torch.testing.assert_close(task.loss(model, head, batch), expected, atol=1e-5, rtol=0)


def test_fine_tuning_stops_and_resumes_like_an_uninterrupted_run(base, task):
    def make():
        return Trainer.from_checkpoint(base, fine_tune_config(max_iters=20, log_interval=5),
                                       objective=task, freeze=("blocks.0.mlp",), device="cpu")
    whole, parts = make(), make()
    whole.train()
    stop = threading.Event()
    assert parts.train(lambda row: row["step"] >= 10 and stop.set(), stop) is RunStatus.STOPPED
    assert parts.step == 10
    stop.clear()
    assert parts.train(None, stop) is RunStatus.FINISHED
    for (name, a), b in zip(whole.named_parameters(), (p for _, p in parts.named_parameters())):
        assert torch.equal(a, b), name
    assert [r["train_loss"] for r in whole.metrics] == [r["train_loss"] for r in parts.metrics]


def test_snapshots_and_checkpoints_carry_the_head(base, task):
    trainer = Trainer.from_checkpoint(base, fine_tune_config(max_iters=10, snapshot_count=2),
                                      objective=task, device="cpu")
    trainer.train()
    assert sorted(trainer.snapshots) == [0, 10] and "head.classify.weight" in trainer.snapshots[10]
    saved = load_checkpoint(checkpoint_bytes(trainer.model, trainer.tokenizer, head=trainer.head,
                                             snapshots=trainer.snapshots))
    assert torch.equal(saved.head.classify.weight, trainer.head.classify.weight)
    assert torch.equal(saved.snapshot_model(0).blocks[0].attn.qkv.weight,
                       base.model.blocks[0].attn.qkv.weight.half().float())
    again = Trainer.from_checkpoint(saved, fine_tune_config(), objective=task, device="cpu")
    assert torch.equal(again.head.classify.weight, trainer.head.classify.weight)   # continues
    assert base.head is None                   # a file without a head loads without one
