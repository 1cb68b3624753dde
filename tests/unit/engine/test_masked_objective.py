"""The masked-token objective (BERT): its loss is F.cross_entropy over the chosen positions
only, and its corruption follows the 15 % / 80-10-10 recipe on a large sample."""
import pytest
import torch
import torch.nn.functional as F

from lessons.concepts.masked_vs_causal.compute import masked_toy_checkpoint
from lessons.engine.config import preset
from lessons.engine.tokenizers import MASK, CharTokenizer
from lessons.engine.training import Trainer
from lessons.engine.training.objectives import KEPT, MASKED, RANDOMISED, UNCHANGED, MaskedToken

TEXT = "the cat sat on the mat. the dog sat on the log. " * 40


@pytest.fixture
def task():
    tokenizer = CharTokenizer.train(TEXT).with_special_tokens(MASK)
    return MaskedToken.from_text(TEXT, tokenizer, block_size=32)


def test_loss_is_cross_entropy_over_the_masked_positions_only(task):
    checkpoint = masked_toy_checkpoint(TEXT, block_size=32)
    task = MaskedToken.from_text(TEXT, checkpoint.tokenizer, block_size=32)
    batch = task.train_batch(16, torch.Generator().manual_seed(3), "cpu")
    ours = task.loss(checkpoint.model, None, batch)
    logits, _ = checkpoint.model(batch.inputs)
    chosen = batch.targets != -100
    by_hand = F.cross_entropy(logits[chosen], batch.targets[chosen])
    with_ignore = F.cross_entropy(logits.transpose(1, 2), batch.targets, ignore_index=-100)
    assert torch.allclose(ours, by_hand, atol=1e-6) and torch.allclose(ours, with_ignore, atol=1e-6)
    everything = F.cross_entropy(logits.transpose(1, 2), batch.inputs)
    assert not torch.allclose(ours, everything, atol=1e-3)     # the unchosen ones do not count
    assert 0.05 < chosen.float().mean() < 0.3


def test_masking_statistics_on_a_large_sample(task):
    ids = task.train_data.data[:1600].repeat(40).reshape(2000, 32)    # 64,000 positions
    inputs, targets, kinds = task.corrupt(ids, torch.Generator().manual_seed(0))
    chosen = kinds != UNCHANGED
    assert abs(chosen.float().mean().item() - 0.15) < 0.005
    share = {kind: ((kinds == kind).sum() / chosen.sum()).item() for kind in (MASKED, RANDOMISED, KEPT)}
    assert abs(share[MASKED] - 0.8) < 0.01 and abs(share[RANDOMISED] - 0.1) < 0.01
    assert abs(share[KEPT] - 0.1) < 0.01
    assert torch.equal(targets[chosen], ids[chosen]) and bool((targets[~chosen] == -100).all())
    assert bool((inputs[kinds == MASKED] == task.mask_id).all())
    assert torch.equal(inputs[kinds == KEPT], ids[kinds == KEPT])
    assert torch.equal(inputs[~chosen], ids[~chosen])
    replaced = inputs[kinds == RANDOMISED]
    assert bool(torch.isin(replaced, task.replacement_ids).all())
    assert (replaced != ids[kinds == RANDOMISED]).float().mean() > 0.8   # random, not a copy


def test_every_row_has_a_position_to_learn_from(task):
    task.rate = 0.0
    _, targets, _ = task.corrupt(torch.zeros(50, 8, dtype=torch.long), torch.Generator().manual_seed(1))
    assert bool(((targets != -100).sum(dim=1) == 1).all())


def test_a_tokenizer_without_mask_is_refused():
    with pytest.raises(ValueError, match=r"\[MASK\]"):
        MaskedToken.from_text(TEXT, CharTokenizer.train(TEXT), block_size=16)


def test_trainer_learns_the_masked_objective_and_reports_accuracy():
    model_config, train_config = preset("tiny", max_iters=40)
    trainer = Trainer.for_objective("masked", model_config, train_config, TEXT, device="cpu")
    tokenizer = trainer.tokenizer
    assert trainer.model.config.causal is False
    assert trainer.model.config.vocab_size == tokenizer.vocab_size == tokenizer.special_token_id(MASK) + 1
    trainer.train()
    measured = [row for row in trainer.metrics if row["val_loss"] is not None]
    assert measured[-1]["val_loss"] < measured[0]["val_loss"]
    assert 0.0 <= measured[-1]["val_accuracy"] <= 1.0


def test_a_masked_trainer_samples_by_filling_masks_and_keeps_training_mode():
    model_config, train_config = preset("tiny", max_iters=5)
    trainer = Trainer.for_objective("masked", model_config, train_config, TEXT, device="cpu")
    trainer.train()
    trainer.model.train()
    text = trainer.sample("the ", 12)
    assert trainer.model.training                      # dropout stays on for the next steps
    assert len(trainer.tokenizer.encode(text)) == 12 and MASK not in text


def test_an_unknown_objective_is_refused():
    model_config, train_config = preset("tiny", max_iters=5)
    with pytest.raises(ValueError, match="unknown objective"):
        Trainer.for_objective("sideways", model_config, train_config, TEXT, device="cpu")
