"""Masked against causal: the page's numbers checked against the model run by hand, and the
tiny preset's masked model beating the unigram baseline on held-out text."""
from collections import Counter

import pytest
import torch

from lessons.concepts.masked_vs_causal import compute as M
from lessons.engine.checkpoint import Checkpoint, checkpoint_bytes, load_checkpoint, toy_checkpoint
from lessons.engine.config import preset
from lessons.engine.corpus import embedded_corpus, split_text
from lessons.engine.tokenizers import MASK
from lessons.engine.training import Trainer

TEXT = "the cat sat on the mat. the dog sat on the log. " * 40


def test_fill_in_is_the_models_softmax_at_the_mask():
    ckpt = M.masked_toy_checkpoint(TEXT, block_size=32)
    guesses = M.fill_in_masked(ckpt, "the c", "t sat", top=5)
    tok = ckpt.tokenizer
    ids = tok.encode("the c") + [tok.special_token_id(MASK)] + tok.encode("t sat")
    logits = ckpt.model(torch.tensor([ids]))[0][0, 5].detach()
    logits[list(tok.special_tokens().values())] = float("-inf")
    probs = torch.softmax(logits, -1)
    assert [g.token for g in guesses] == [tok.token_text(int(i)) for i in probs.topk(5).indices]
    assert guesses[0].probability == pytest.approx(float(probs.max()), abs=1e-6)


def test_causal_fill_in_is_the_softmax_at_the_last_left_position():
    ckpt = toy_checkpoint(TEXT, block_size=16)
    probs = torch.softmax(ckpt.model(torch.tensor([ckpt.tokenizer.encode("the c")]))[0][0, -1], -1)
    assert M.fill_in_causal(ckpt, "the c", top=1)[0].probability == pytest.approx(float(probs.max()), abs=1e-6)


def test_masked_questions_refuse_a_causal_model_with_a_message():
    with pytest.raises(M.NeedsMaskedModel) as caught:
        M.fill_in_masked(toy_checkpoint(TEXT), "a", "b")
    assert "[MASK]" in str(caught.value) and "[MASK]" in caught.value.in_language("zh")


def test_iterative_unmasking_fills_one_mask_per_round():
    ckpt = M.masked_toy_checkpoint(TEXT, block_size=32)
    rounds = M.unmask_iteratively(ckpt, "the ", 6)
    assert len(rounds) == 7 and rounds[0].count(MASK) == 6 and MASK not in rounds[-1]
    assert [r.count(MASK) for r in rounds] == [6, 5, 4, 3, 2, 1, 0]
    assert all(r.startswith("the ") for r in rounds)


def test_predictions_per_batch():
    assert M.predictions_per_batch(32, 128) == {"causal": 4096, "masked": 614.4}


def test_next_token_accuracy_is_argmax_against_the_shifted_text():
    ckpt = toy_checkpoint(TEXT, block_size=16)
    from lessons.engine.corpus import TokenStream
    x, y = TokenStream(ckpt.tokenizer.encode(TEXT), 16).batch(10, torch.Generator().manual_seed(0))
    expected = (ckpt.model(x)[0].argmax(-1) == y).float().mean().item()
    assert M.next_token_accuracy(ckpt, TEXT, windows=10) == pytest.approx(expected)


def test_unigram_baseline_is_the_commonest_tokens_share():
    ckpt = toy_checkpoint(TEXT)
    test = "a cat, a mat, the end"
    commonest = Counter(TEXT).most_common(1)[0][0]
    assert M.unigram_accuracy(TEXT, test, ckpt.tokenizer) == pytest.approx(test.count(commonest) / len(test))


@pytest.mark.slow     # a whole tiny-preset run: make test, not test-fast
def test_after_the_tiny_preset_the_masked_model_beats_the_unigram_baseline(tiny_text):
    text = tiny_text
    model_config, train_config = preset("tiny")
    trainer = Trainer.for_objective("masked", model_config, train_config, text, device="cpu")
    trainer.train()
    ckpt = load_checkpoint(checkpoint_bytes(trainer.model, trainer.tokenizer))   # round trip
    assert ckpt.model.config.causal is False and M.is_masked_model(ckpt)
    train, held_out = split_text(text)
    masked = M.masked_token_accuracy(ckpt, held_out, windows=150)
    baseline = M.unigram_accuracy(train, held_out, ckpt.tokenizer)
    assert masked > baseline + 0.02, (masked, baseline)
