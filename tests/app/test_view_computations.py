"""The computations that used to live in app/views/ and are now lessons functions, each against
an independent reference, and the pages showing their numbers.

- softmax: parse_logits, target_surprise / token_surprise (against F.cross_entropy, log2);
- attention: differences_from_references (against F.scaled_dot_product_attention and a
  deliberately wrong output it must catch);
- training: vocabulary_size / run_estimate (against the Trainer that really builds the model);
- tokenization: simple_tokenizers / bpe_lesson (against training the tokenizers directly);
- embeddings: axis_reach / mean_vector_length (against NumPy).
"""
from __future__ import annotations

import math
import re
from dataclasses import replace

import numpy as np
import pytest
import streamlit as st
import torch
import torch.nn.functional as F

from lessons.concepts.attention import compute as attention
from lessons.concepts.embeddings import compute as embeddings
from lessons.concepts.embeddings import timeline
from lessons.concepts.softmax import compute as sm
from lessons.concepts.tokenization import compute as tokenization
from lessons.concepts.training import compute as training
from lessons.engine.checkpoint import load_shipped_model
from lessons.engine.config import preset
from lessons.engine.corpus import check_training_text, embedded_corpus, split_text
from lessons.engine.tokenizers import BPETokenizer, CharTokenizer, WordTokenizer
from lessons.engine.training import Trainer
from tests.conftest import open_view


@pytest.fixture(autouse=True)
def fresh_caches():
    yield
    st.cache_resource.clear()


# ---- softmax -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [("1, 2, 2", [1.0, 2.0, 2.0]),
                                            ("1，2;3 4", [1, 2, 3, 4]), ("-1e3 0.5", [-1000.0, 0.5])])
def test_parse_logits_reads_what_a_learner_types(text, expected):
    assert sm.parse_logits(text) == expected


@pytest.mark.parametrize("text", ["", "1", "a, b", "1, nan", "1, inf", ", ".join(["1"] * 13)])
def test_parse_logits_refuses_what_is_not_two_to_twelve_finite_numbers(text):
    with pytest.raises(ValueError):
        sm.parse_logits(text)


@pytest.mark.parametrize("logits, target", [([1.0, 2.0, 2.0], 1), ([5.0, -3.0, 0.1, 2.0], 1),
                                            ([0.0, 0.0], 0)])
def test_surprise_matches_torch_cross_entropy_and_log2(logits, target):
    expected = F.cross_entropy(torch.tensor([logits], dtype=torch.float64), torch.tensor([target]))
    p = F.softmax(torch.tensor(logits, dtype=torch.float64), 0)[target].item()
    surprise = sm.target_surprise(sm.softmax(logits), target)
    assert surprise["p"] == pytest.approx(p, rel=1e-12)
    assert surprise["nats"] == pytest.approx(expected.item(), rel=1e-12)
    assert surprise["bits"] == pytest.approx(-math.log2(p), rel=1e-12)
    assert surprise["perplexity"] == pytest.approx(1 / p, rel=1e-12)
    token = sm.token_surprise(logits, target)
    assert token["nats"] == pytest.approx(expected.item(), rel=1e-12)
    assert token["p"] == pytest.approx(p, rel=1e-12)


def test_token_surprise_stays_finite_for_a_hopeless_token():
    token = sm.token_surprise([0.0, -2000.0], 1)
    assert token["p"] == 0.0 and token["nats"] == pytest.approx(2000.0)


def test_the_softmax_page_shows_the_cross_entropy_in_nats_and_bits():
    at = open_view("softmax")
    assert not at.exception
    at.text_input(key="softmax_logits").set_value("0.5, 3, -1, 2").run()
    at.selectbox(key="softmax_target").set_value(2).run()
    logits = torch.tensor([[0.5, 3, -1, 2]], dtype=torch.float64)
    nats = F.cross_entropy(logits, torch.tensor([2])).item()
    assert [m.value for m in at.metric][:3] == [f"{math.exp(-nats):.4f}", f"{nats:.4f}",
                                               f"{math.exp(nats):.3f}"]
    assert f"{nats / math.log(2):.4f}" in str(at.metric[1].proto.help)


# ---- attention ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shipped():
    return load_shipped_model()


@pytest.mark.parametrize("causal", [True, False])
def test_differences_from_references_on_the_shipped_model(shipped, causal):
    ids = shipped.tokenizer.encode("The cat sat on the mat.")
    attn = attention.attention_maps(shipped.model, ids)                     # (L, H, T, T)
    inputs = attention.head_inputs(shipped.model, ids, 1, 2)
    steps = attention.attention_steps(inputs.x, inputs.w_q, inputs.w_k, inputs.w_v,
                                      inputs.b_q, inputs.b_k, inputs.b_v, causal=causal)
    difference = attention.differences_from_references(steps, attn[1, 2], causal)
    assert difference["sdpa"] < 1e-5
    assert (difference["model"] < 1e-5) if causal else difference["model"] is None
    # and the check can fail: a wrong output, or another head's map, is caught
    wrong = replace(steps, output=steps.output + 1e-3)
    assert attention.differences_from_references(wrong, attn[1, 2], causal)["sdpa"] > 5e-4
    if causal:
        other_head = attention.differences_from_references(steps, attn[0, 0], causal)["model"]
        assert other_head > 1e-3


def test_the_attention_page_reports_both_checks(shipped):
    at = open_view("attention")
    assert not at.exception
    caption = next(c.value for c in at.caption if "scaled_dot_product_attention" in c.value)
    numbers = [float(n) for n in re.findall(r"\d\.\de[-+]\d+", caption)]
    assert len(numbers) == 2 and max(numbers) < 1e-5      # the model's map, torch's SDPA


# ---- training ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["char", "bpe"])
def test_the_estimate_is_the_model_the_trainer_builds(tiny_text, kind):
    model_cfg, train_cfg = preset("tiny", max_iters=10)
    train_cfg = replace(train_cfg, tokenizer=kind, bpe_vocab_size=300)
    trainer = Trainer(model_cfg, train_cfg, tiny_text, device="cpu")
    vocab = training.vocabulary_size(kind, tiny_text, train_cfg.bpe_vocab_size)
    if kind == "char":
        assert vocab == trainer.tokenizer.vocab_size
    else:                                   # the requested size: an upper bound for BPE
        assert vocab == 300 >= trainer.tokenizer.vocab_size
    estimate = training.run_estimate(model_cfg, train_cfg, trainer.tokenizer.vocab_size, 1e9)
    assert estimate.parameters == trainer.model.num_parameters()
    # 10 steps, plus one evaluation (at the end) of 5 batches at a third of a step each
    assert estimate.seconds_total == pytest.approx((10 + 5 / 3) * estimate.seconds_per_step)


def test_the_training_page_estimates_the_model_it_would_train():
    at = open_view("training")
    at.selectbox(key="tr_preset").set_value("tiny").run()
    assert not at.exception
    model_cfg, train_cfg = preset("tiny")
    trainer = Trainer(model_cfg, replace(train_cfg, max_iters=10),
                      check_training_text(embedded_corpus()), device="cpu")
    shown = next(m.value for m in at.metric if m.label == "Parameters")
    assert shown == f"{trainer.model.num_parameters():,}"


def test_last_val_loss_against_the_shipped_models_curve(shipped):
    measured = [row["val_loss"] for row in shipped.metrics if row.get("val_loss") is not None]
    assert training.last_val_loss(shipped.metrics) == measured[-1]


# ---- tokenization ------------------------------------------------------------------------------

def test_the_tokenizer_bundles_equal_training_each_tokenizer_directly(tiny_text):
    train_text, val_text = split_text(tiny_text)
    simple = tokenization.simple_tokenizers(tiny_text)
    char, word = CharTokenizer.train(train_text), WordTokenizer.train(train_text)
    assert simple.char.encode(val_text) == char.encode(val_text)
    assert simple.word.encode(val_text) == word.encode(val_text)
    assert simple.points["char"] == (char.vocab_size, len(char.encode(val_text)) / len(val_text))
    assert simple.train_chars == len(train_text)
    lesson = tokenization.bpe_lesson(tiny_text, 300)
    bpe = BPETokenizer.train(train_text, 300)
    assert lesson.bpe.merges() == bpe.merges()
    assert [row["step"] for row in lesson.merge_rows] == list(range(1, len(bpe.merges()) + 1))
    assert lesson.curve[-1]["tokens"] == len(bpe.encode(val_text))
    assert lesson.curve[0]["tokens"] == len(val_text.encode("utf-8"))   # no merge: one a byte


# ---- embeddings --------------------------------------------------------------------------------

def test_axis_reach_and_mean_length_against_numpy(shipped):
    table = shipped.model.token_embedding.weight.detach()
    assert embeddings.mean_vector_length(table) == pytest.approx(
        float(np.linalg.norm(table.numpy(), axis=1).mean()), rel=1e-6)
    frames = timeline.timeline_projections(timeline.snapshot_token_tables(shipped), list(range(20)))
    biggest = max(np.abs(f.coords.numpy()).max() for f in frames.values())
    assert timeline.axis_reach(frames) == pytest.approx(1.1 * biggest, rel=1e-6)
