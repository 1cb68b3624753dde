"""The decoding lesson against independent references: decoding.generate for the recorded
steps, a brute-force ranking of every extension for the beam tree, one forward pass with
F.cross_entropy for the log-probabilities, transformers' logits processors for the kept set,
and brute-force substring search for the copied spans."""
import itertools
import random

import pytest
import torch
import torch.nn.functional as F
from transformers.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from lessons.concepts.decoding import compute as dc
from lessons.concepts.decoding import figures as dcf
from lessons.engine import decoding
from lessons.engine.checkpoint import Checkpoint, toy_checkpoint
from lessons.engine.config import ModelConfig
from lessons.engine.model import GPT
from lessons.engine.tokenizers import CharTokenizer

SAMPLING = [dc.Strategy("greedy"), dc.Strategy("sample", temperature=2.0, seed=3),
            dc.Strategy("top-k", temperature=1.5, top_k=3, seed=1),
            dc.Strategy("top-p", temperature=1.5, top_p=0.7, seed=2),
            dc.Strategy("sample", temperature=1.0, repetition=2.0, seed=5)]


def tiny_model(vocab: int = 6, seed: int = 0, block_size: int = 8) -> GPT:
    torch.manual_seed(seed)
    model = GPT(ModelConfig(vocab_size=vocab, block_size=block_size, n_layer=1, n_head=2, n_embd=16))
    with torch.no_grad():           # bigger weights: peaked, varied distributions
        for p in model.parameters():
            p.mul_(6.0 if p.dim() > 1 else 1.0)
    return model.eval()


@pytest.mark.parametrize("strategy", SAMPLING, ids=lambda s: f"{s.name}-{s.seed}-{s.repetition}")
def test_walk_chooses_exactly_what_generate_writes(strategy):
    model, prompt = tiny_model(), [1, 2]
    steps = dc.walk(model, prompt, strategy, 12)      # 14 tokens > block size 8: cropping too
    out = decoding.generate(model, torch.tensor([prompt]), 12,
                            generator=torch.Generator().manual_seed(strategy.seed), **strategy.rules())
    assert [s.chosen for s in steps] == out[0, 2:].tolist()
    assert dc.run_strategy(model, prompt, strategy, 12) == out[0, 2:].tolist()
    for step in steps:
        assert step.kept[step.chosen] > 0
        assert float(step.kept.sum()) == pytest.approx(1.0)
        assert len(step.context) <= 8


def test_walk_records_the_models_own_softmax_and_the_transformers_kept_set():
    model, prompt = tiny_model(vocab=20, seed=1), [3, 4, 5]
    strategy = dc.Strategy("top-p", temperature=0.7, top_p=0.6)
    step = dc.walk(model, prompt, strategy, 1)[0]
    with torch.no_grad():
        logits = model(torch.tensor([prompt]))[0][:, -1, :]
    torch.testing.assert_close(step.probs, F.softmax(logits[0].double(), dim=-1))
    theirs = TopPLogitsWarper(0.6)(None, TemperatureLogitsWarper(0.7)(None, logits))
    assert step.kept_ids == torch.nonzero(theirs[0] > float("-inf")).flatten().tolist()
    step = dc.walk(model, prompt, dc.Strategy("top-k", top_k=4), 1)[0]
    theirs = TopKLogitsWarper(4)(None, logits)
    assert step.kept_ids == torch.nonzero(theirs[0] > float("-inf")).flatten().tolist()


def test_greedy_steps_keep_one_token_and_it_is_the_argmax():
    model = tiny_model()
    for step in dc.walk(model, [0], dc.Strategy("greedy"), 5):
        assert step.kept_ids == [step.chosen] == [int(step.probs.argmax())]


@pytest.mark.parametrize("width", [1, 2, 3])
def test_beam_tree_keeps_the_best_extensions_and_ends_as_beam_search(width):
    model, prompt, n_new = tiny_model(vocab=5, seed=width), [1], 4
    tree = dc.beam_tree(model, prompt, n_new, width)
    live = [()]
    for step, branches in enumerate(tree.branches):
        # brute force: every live beam extended by every token, ranked by its summed log p
        scored = {seq + (tok,): sequence_log_prob(model, prompt, seq + (tok,))
                  for seq in live for tok in range(5)}
        best = sorted(scored, key=scored.get, reverse=True)[:width]
        kept = [b for b in branches if b.kept]
        assert sorted(tuple(tree.beam_ids(step, b.beam)) for b in kept) == sorted(best)
        for b in kept:
            assert b.log_prob == pytest.approx(scored[tuple(tree.beam_ids(step, b.beam))], abs=1e-5)
        assert len(branches) == len(live) * min(width, 5)
        live = best
    assert sorted(tuple(b.ids) for b in tree.beams) == sorted(live)
    if width == 1:
        assert tree.beams[0].ids == [s.chosen for s in dc.walk(model, prompt, dc.Strategy(), n_new)]


def sequence_log_prob(model, prompt, new) -> float:
    """log p(new | prompt) from ONE forward pass and F.cross_entropy."""
    ids = torch.tensor([list(prompt) + list(new)])
    with torch.no_grad():
        logits = model(ids)[0][0, len(prompt) - 1:-1].double()
    return -float(F.cross_entropy(logits, torch.tensor(list(new)), reduction="sum"))


def test_token_log_probs_and_measure_are_one_forward_pass_with_cross_entropy():
    model, prompt, new = tiny_model(), [2, 3], [1, 1, 4, 0, 1, 1]
    ours = dc.token_log_probs(model, prompt, new)
    assert float(ours.sum()) == pytest.approx(sequence_log_prob(model, prompt, new), abs=1e-5)
    numbers = dc.measure(model, prompt, new)
    assert numbers["perplexity"] == pytest.approx(torch.exp(-ours.mean()).item())
    assert numbers["distinct_1"] == 3 / 6 and numbers["distinct_2"] == 4 / 5


def test_distinct_n_against_counting_by_hand():
    assert dc.distinct_n(list("abcabc"), 3) == 3 / 4          # abc bca cab abc
    assert dc.distinct_n([7] * 10, 2) == 1 / 9
    assert dc.distinct_n([1], 2) == 0.0


def brute_force_copied(text, training, min_chars):
    """Every substring of text checked against training: covered characters, longest length."""
    covered, longest = set(), 0
    for i, j in itertools.combinations(range(len(text) + 1), 2):
        if text[i:j] in training:
            longest = max(longest, j - i)
            if j - i >= min_chars:
                covered |= set(range(i, j))
    return covered, longest


@pytest.mark.parametrize("seed", range(30))
def test_copied_spans_against_brute_force(seed):
    rng = random.Random(seed)
    alphabet = "ab c" if seed % 2 else "abcd猫"
    training = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
    if seed % 3 == 0 and len(training) > 10:       # plant a long copy
        text = text[:5] + training[2:2 + rng.randint(5, 10)] + text[5:]
    min_chars = rng.randint(1, 6)
    covered, longest = brute_force_copied(text, training, min_chars)
    spans = dc.copied_spans(text, training, min_chars)
    assert {i for a, b in spans for i in range(a, b)} == covered
    assert all(a < b and (not k or spans[k - 1][1] < a) for k, (a, b) in enumerate(spans))
    start, end = dc.longest_copied(text, training)
    assert end - start == longest and text[start:end] in training


def test_views_and_figures_on_a_toy_checkpoint():
    ckpt = toy_checkpoint("abc", block_size=4, n_embd=8, n_head=2)
    steps = dc.decode_view(ckpt, "", dc.Strategy("top-k", top_k=2), 6)   # empty prompt: token 0
    assert len(steps) == 6 and steps[0].context == [0]
    tree = dc.decode_view(ckpt, "ab", dc.Strategy("beam", beams=2), 3)
    fig = dcf.beam_tree_figure(ckpt.tokenizer, tree, lang="zh")
    kept = next(d for d in fig.data if d.name == "保留的束")
    assert len(kept.x) == 2 * 3                       # two live beams a step
    rows = dc.compare_view(ckpt, "ab", tuple(dc.Strategy(n) for n in dc.STRATEGIES), 5)
    assert [r["strategy"].name for r in rows] == list(dc.STRATEGIES)
    assert all(r["text"] == ckpt.tokenizer.decode(r["ids"]) for r in rows)
    found = dc.copied_view("xx<b>the cat", "<b>the cat sat", min_chars=4)
    assert found["longest"] == "<b>the cat" and found["spans"] == [(2, 12)]
    assert "&lt;b&gt;" in dcf.copied_html("xx<b>the cat", found["spans"])


@pytest.mark.parametrize("seed", range(5))
def test_guess_rank_is_the_place_in_a_sorted_list(seed):
    probs = torch.rand(12, generator=torch.Generator().manual_seed(seed)).double()
    order = sorted(range(12), key=lambda i: -float(probs[i]))
    assert [dc.guess_rank(probs, tok) for tok in range(12)] == [order.index(t) + 1 for t in range(12)]


def test_guess_count_bits_is_the_entropy_of_the_counts():
    counts = [1, 1, 1, 2, 3, 1, 5, 2]
    shares = torch.tensor([counts.count(c) / len(counts) for c in sorted(set(counts))])
    expected = torch.distributions.Categorical(probs=shares).entropy() / torch.log(torch.tensor(2.0))
    assert dc.guess_count_bits(counts) == pytest.approx(float(expected), abs=1e-6)
    assert dc.guess_count_bits([1] * 7) == 0.0 and dc.guess_count_bits([]) == 0.0


def test_model_game_bits_are_cross_entropy_and_ranks_are_the_models_order():
    ckpt = toy_checkpoint("abc", block_size=4, n_embd=8, n_head=2)
    model, ids = ckpt.model, ckpt.tokenizer.encode("abcabca")          # 7 > block size 4
    rows = dc.model_game(model, ckpt.tokenizer, ids, 2)
    nats = [-float(dc.token_log_probs(model, ids[:p], [ids[p]])) for p in range(2, 7)]
    assert [r["bits"] for r in rows] == pytest.approx([n / torch.log(torch.tensor(2.0)).item() for n in nats])
    for position, row in zip(range(2, 7), rows):
        probs = dc.decode_probs(ckpt, ids[:position])
        assert row["rank"] == int((probs > probs[ids[position]]).sum()) + 1 and row["chars"] == 1


def test_no_strategy_on_the_page_writes_the_unknown_token():
    """The poems model's □ stands for any rare character: it cannot be written as one."""
    tokenizer = CharTokenizer.train("aab", min_count=2)      # 'a', and □ for 'b' and the rest
    config = ModelConfig(tokenizer.vocab_size, block_size=4, n_layer=1, n_head=1, n_embd=4)
    torch.manual_seed(3)
    ckpt = Checkpoint(GPT(config).eval(), tokenizer)
    unknown = {i for i in range(tokenizer.vocab_size) if tokenizer.is_unknown(i)}
    steps = dc.decode_view(ckpt, "a", dc.Strategy("sample"), 12)
    assert int(steps[0].probs.argmax()) in unknown            # the model itself prefers □
    rows = dc.compare_view(ckpt, "a", tuple(dc.Strategy(n) for n in dc.STRATEGIES), 12)
    tree = dc.decode_view(ckpt, "a", dc.Strategy("beam", beams=2), 4)
    written = [s.chosen for s in steps] + [i for r in rows for i in r["ids"]] \
        + [i for beam in tree.beams for i in beam.ids]
    assert written and not set(written) & unknown
