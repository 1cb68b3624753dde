"""Decoding against Hugging Face ``transformers``' logits processors (imported only: no hub
call, nothing downloaded) and beam search against an exhaustive search."""
import itertools

import pytest
import torch
import torch.nn.functional as F
from transformers.generation.logits_process import (LogitsProcessorList,
                                                    RepetitionPenaltyLogitsProcessor,
                                                    SuppressTokensLogitsProcessor,
                                                    TemperatureLogitsWarper, TopKLogitsWarper,
                                                    TopPLogitsWarper)

from lessons.engine import decoding
from lessons.engine.config import ModelConfig
from lessons.engine.model import GPT

B, V = 6, 50


@pytest.fixture
def logits():
    return 2 * torch.randn(B, V, generator=torch.Generator().manual_seed(0))


@pytest.fixture
def previous():
    return torch.randint(V, (B, 15), generator=torch.Generator().manual_seed(1))


def same(ours, theirs):
    torch.testing.assert_close(ours, theirs, atol=0, rtol=0)


@pytest.mark.parametrize("t", [0.3, 1.0, 2.5])
def test_temperature_is_transformers(logits, previous, t):
    same(decoding.apply_temperature(logits, t), TemperatureLogitsWarper(t)(previous, logits))


@pytest.mark.parametrize("k", [1, 3, 20, V - 1])
def test_top_k_is_transformers(logits, previous, k):
    same(decoding.top_k_filter(logits, k), TopKLogitsWarper(k)(previous, logits))


@pytest.mark.parametrize("p", [0.05, 0.3, 0.6, 0.9, 0.99])
def test_top_p_is_transformers(logits, previous, p):
    same(decoding.top_p_filter(logits, p), TopPLogitsWarper(p)(previous, logits))


@pytest.mark.parametrize("penalty", [0.7, 1.3, 3.0])
def test_repetition_penalty_is_transformers(logits, previous, penalty):
    theirs = RepetitionPenaltyLogitsProcessor(penalty)(previous, logits.clone())
    same(decoding.repetition_penalty(logits, previous, penalty), theirs)


def test_the_whole_step_is_transformers_chain(logits, previous):
    never = torch.zeros(V, dtype=torch.bool)
    never[[2, 11, 30]] = True
    chain = LogitsProcessorList([RepetitionPenaltyLogitsProcessor(1.4),
                                 SuppressTokensLogitsProcessor([2, 11, 30]),
                                 TemperatureLogitsWarper(0.7), TopKLogitsWarper(10),
                                 TopPLogitsWarper(0.8)])
    ours = decoding.next_token_logits(logits, previous, temperature=0.7, top_k=10, top_p=0.8,
                                      repetition=1.4, never=never)
    same(ours, chain(previous, logits.clone()))


# ---- generation on a tiny random model ------------------------------------------------------

def tiny_model(vocab: int = 5, seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    model = GPT(ModelConfig(vocab_size=vocab, block_size=8, n_layer=1, n_head=2, n_embd=16))
    with torch.no_grad():           # bigger weights than the init: peaked, varied distributions
        for p in model.parameters():
            p.mul_(8.0 if p.dim() > 1 else 1.0)
    return model.eval()


def sequence_log_prob(model, prompt: list[int], new: tuple[int, ...]) -> float:
    """log p(new | prompt) from ONE forward pass over the whole sequence."""
    ids = torch.tensor([prompt + list(new)])
    with torch.no_grad():
        log_probs = F.log_softmax(model(ids)[0][0].double(), dim=-1)          # (T, V)
    positions = range(len(prompt) - 1, len(prompt) + len(new) - 1)
    return sum(log_probs[pos, tok].item() for pos, tok in zip(positions, new))


def test_repetition_penalty_in_generate_is_transformers_step_by_step():
    model, penalty = tiny_model(vocab=7), 2.0
    ids = torch.tensor([[1, 2]])
    ours = decoding.generate(model, ids, 5, temperature=0, repetition=penalty)
    theirs = ids
    for _ in range(5):
        with torch.no_grad():
            last = model(theirs)[0][:, -1]
        last = RepetitionPenaltyLogitsProcessor(penalty)(theirs, last)
        theirs = torch.cat([theirs, last.argmax(-1, keepdim=True)], dim=1)
    assert torch.equal(ours, theirs)


@pytest.mark.parametrize("seed", range(4))
def test_beam_width_one_is_greedy(seed):
    model = tiny_model(vocab=6, seed=seed)
    greedy = decoding.generate(model, torch.tensor([[seed % 6]]), 5, temperature=0)
    [beam] = decoding.beam_search(model, [seed % 6], 5, width=1)
    assert beam.ids == greedy[0, 1:].tolist()
    assert beam.log_prob == pytest.approx(sequence_log_prob(model, [seed % 6], tuple(beam.ids)))


@pytest.mark.parametrize("seed", range(3))
def test_beam_search_finds_the_exhaustive_best(seed):
    vocab, n_new, prompt = 5, 3, [1, 3]
    model = tiny_model(vocab, seed)
    scores = {seq: sequence_log_prob(model, prompt, seq)
              for seq in itertools.product(range(vocab), repeat=n_new)}
    best = max(scores, key=scores.get)
    found = decoding.beam_search(model, prompt, n_new, width=vocab ** n_new, length_penalty=0.0)
    assert tuple(found[0].ids) == best
    assert found[0].log_prob == pytest.approx(scores[best])
    narrow = decoding.beam_search(model, prompt, n_new, width=2, length_penalty=0.0)
    assert narrow[0].log_prob <= scores[best] + 1e-5 and len(narrow) == 2   # float32 logits


def texts_ending_at(end_id: int, vocab: int, n_new: int):
    """Every possible continuation: it stops at its first end token or after n_new tokens."""
    for length in range(1, n_new + 1):
        for seq in itertools.product(range(vocab), repeat=length):
            if end_id not in seq[:-1] and (length == n_new or seq[-1] == end_id):
                yield seq


@pytest.mark.parametrize("length_penalty", [0.0, 1.0, 2.0])
def test_beam_search_with_an_end_token_finds_the_exhaustive_best(length_penalty):
    vocab, n_new, prompt, end_id = 5, 3, [0], 2
    model = tiny_model(vocab, seed=5)
    scores = {seq: sequence_log_prob(model, prompt, seq) / len(seq) ** length_penalty
              for seq in texts_ending_at(end_id, vocab, n_new)}
    best = max(scores, key=scores.get)
    found = decoding.beam_search(model, prompt, n_new, width=vocab ** n_new,
                                 length_penalty=length_penalty, end_id=end_id)
    assert tuple(found[0].ids) == best
    assert found[0].score == pytest.approx(scores[best])
    assert [b.score for b in found] == sorted((b.score for b in found), reverse=True)


def test_same_seed_same_text_and_another_seed_differs():
    model = tiny_model(vocab=9)
    start = torch.tensor([[0]])

    def sample(seed):
        return decoding.generate(model, start, 30, temperature=3.0,
                                 generator=torch.Generator().manual_seed(seed))[0].tolist()
    assert sample(4) == sample(4)
    assert sample(4) != sample(5)


def test_filtered_tokens_are_never_sampled(logits):
    probs = F.softmax(decoding.next_token_logits(logits, temperature=1.0, top_k=3), dim=-1)
    draws = torch.cat([decoding.sample(probs, torch.Generator().manual_seed(s))
                       for s in range(50)], dim=1)
    top3 = torch.topk(logits, 3).indices
    assert all(set(row.tolist()) <= set(allowed.tolist()) for row, allowed in zip(draws, top3))


@pytest.mark.parametrize("settings", [dict(temperature=1.0), dict(temperature=0.6, top_k=4),
                                      dict(temperature=1.5, top_p=0.7)])
def test_the_softmax_pages_next_token_takes_generates_steps(settings):
    from lessons.concepts.softmax.compute import next_token
    from lessons.engine.tokenizers import CharTokenizer
    tok = CharTokenizer.train("abcdefgh ")
    torch.manual_seed(0)
    model = GPT(ModelConfig(vocab_size=tok.vocab_size, block_size=8, n_layer=1, n_head=2,
                            n_embd=16)).eval()
    prompt = "abc dea fgh"                         # longer than the block: both crop it
    for seed in range(5):
        shown = next_token(model, tok, prompt, seed=seed, **settings)
        made = decoding.generate(model, torch.tensor([tok.encode(prompt)]), 1,
                                 generator=torch.Generator().manual_seed(seed), **settings)
        assert shown.sampled_id == made[0, -1].item()
        expected = F.softmax(decoding.next_token_logits(
            model(torch.tensor([tok.encode(prompt)[-8:]]))[0][:, -1], **settings), dim=-1)[0]
        torch.testing.assert_close(shown.probs.float(), expected, atol=1e-6, rtol=0)
