"""Generating text, one step at a time: what every decoding strategy sees, keeps and picks.

The rules themselves live in ``lessons.engine.decoding`` (filters, greedy, sample, generate,
beam_search); this module only records them, step by step, so a page or a notebook can show
each step, and measures the texts they make.

>>> from lessons.engine.checkpoint import toy_checkpoint
>>> ckpt = toy_checkpoint("ab", block_size=4, n_embd=4)
>>> steps = walk(ckpt.model, ckpt.tokenizer.encode("ab"), Strategy("top-k", top_k=2), 3)
>>> len(steps), [int((s.kept > 0).sum()) for s in steps]      # top-k keeps two tokens a step
(3, [2, 2, 2])
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from lessons.engine.decoding import (_last_logits, beam_search, generate, greedy, next_token_logits,
                                     sample, unknown_tokens)

STRATEGIES = ("greedy", "sample", "top-k", "top-p", "beam")


@dataclass(frozen=True)
class Strategy:
    """One way of picking tokens. ``name`` says which knobs count: greedy uses none (and the
    repetition penalty), sample the temperature, top-k and top-p the temperature and their own
    knob, beam the width and length penalty. ``seed`` makes a sample repeatable."""
    name: str = "greedy"
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    repetition: float = 1.0
    beams: int = 3
    length_penalty: float = 1.0
    seed: int = 0

    def rules(self) -> dict:
        """The keyword arguments of ``decoding.generate`` this strategy means.

        >>> Strategy("top-p", temperature=0.8, top_k=5, top_p=0.9).rules()
        {'temperature': 0.8, 'top_k': None, 'top_p': 0.9, 'repetition': 1.0}
        """
        if self.name not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.name!r}; known: {', '.join(STRATEGIES)}")
        greedy_like = self.name in ("greedy", "beam")
        return {"temperature": 0.0 if greedy_like else self.temperature,
                "top_k": self.top_k if self.name == "top-k" else None,
                "top_p": self.top_p if self.name == "top-p" else None,
                "repetition": self.repetition}


@dataclass
class Step:
    context: list[int]        # the ids the model read (cropped to its block size)
    probs: torch.Tensor       # (V,) the model's own softmax, before any rule
    kept: torch.Tensor        # (V,) what the strategy draws from: 0 for every dropped token
    chosen: int               # the token picked

    @property
    def kept_ids(self) -> list[int]:
        return torch.nonzero(self.kept > 0).flatten().tolist()


@torch.no_grad()
def walk(model, prompt: list[int], strategy: Strategy, max_new_tokens: int,
         never: torch.Tensor | None = None) -> list[Step]:
    """The steps ``decoding.generate`` takes for a greedy or sampling strategy: the same
    rules in the same order with the same seeded generator, so the chosen tokens are exactly
    the ones ``generate`` returns (given the same ``never`` mask). An empty prompt starts
    from token 0."""
    rules = strategy.rules()
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    idx = torch.tensor([prompt or [0]], dtype=torch.long, device=device)
    generator = torch.Generator().manual_seed(strategy.seed)
    steps = []
    for _ in range(max_new_tokens):
        raw = _last_logits(model, idx)                                        # (1, V)
        logits = next_token_logits(raw, idx, rules["temperature"], rules["top_k"],
                                   rules["top_p"], rules["repetition"], never)
        if rules["temperature"] <= 0:
            next_id = greedy(logits)
            kept = F.one_hot(next_id[0], logits.shape[-1]).double()[0]
        else:
            kept_probs = F.softmax(logits, dim=-1)
            next_id = sample(kept_probs, generator)
            kept = kept_probs[0].double().cpu()
        steps.append(Step(idx[0, -model.config.block_size:].tolist(),
                          F.softmax(raw[0].double(), dim=-1).cpu(), kept, int(next_id)))
        idx = torch.cat((idx, next_id), dim=1)
    model.train(was_training)
    return steps


# ---- beam search as a tree -------------------------------------------------------------------

@dataclass
class Branch:
    step: int                 # 0 = the first new token
    parent: int               # index of the beam it extends, in the previous step's beams
    token: int
    log_prob: float           # summed log-probability of the whole continuation so far
    kept: bool                # True: one of the `width` best of this step (a live beam)
    beam: int | None = None   # its index among this step's beams when kept


@dataclass
class BeamTree:
    branches: list[list[Branch]] = field(default_factory=list)   # one list a step
    beams: list = field(default_factory=list)                     # beam_search's answer

    def beam_ids(self, step: int, beam: int) -> list[int]:
        """The tokens of one live beam after ``step``, read back through the parents."""
        ids = []
        while step >= 0:
            branch = next(b for b in self.branches[step] if b.beam == beam)
            ids.append(branch.token)
            beam, step = branch.parent, step - 1
        return ids[::-1]


@torch.no_grad()
def beam_tree(model, prompt: list[int], max_new_tokens: int, width: int,
              length_penalty: float = 1.0, repetition: float = 1.0,
              never: torch.Tensor | None = None) -> BeamTree:
    """Beam search with every step recorded: for each live beam its ``width`` best
    extensions, marked kept or pruned. (Any extension that survives is among its own beam's
    ``width`` best, so these branches show every survivor.) ``beams`` is
    ``decoding.beam_search``'s answer for the same settings, which the last kept branches
    equal."""
    prompt = prompt or [0]
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    live, tree = [([], 0.0)], BeamTree()
    for step in range(max_new_tokens):
        idx = torch.tensor([prompt + ids for ids, _ in live], dtype=torch.long, device=device)
        logits = next_token_logits(_last_logits(model, idx), idx, temperature=0,
                                   repetition=repetition, never=never)
        totals = torch.tensor([lp for _, lp in live], dtype=torch.float64)[:, None] \
            + F.log_softmax(logits.double(), dim=-1).cpu()                     # (beams, V)
        V = totals.shape[1]
        best = torch.topk(totals.flatten(), min(width, totals.numel())).indices.tolist()
        rank = {flat: place for place, flat in enumerate(best)}
        branches = []
        for parent in range(len(live)):
            top = torch.topk(totals[parent], min(width, V))
            for value, token in zip(top.values.tolist(), top.indices.tolist()):
                flat = parent * V + token
                branches.append(Branch(step, parent, token, value, flat in rank, rank.get(flat)))
        tree.branches.append(branches)
        live = [(live[flat // V][0] + [flat % V], float(totals.flatten()[flat])) for flat in best]
    model.train(was_training)
    tree.beams = beam_search(model, prompt, max_new_tokens, width, length_penalty,
                             never=never, repetition=repetition)
    return tree


# ---- measuring a text ------------------------------------------------------------------------

@torch.no_grad()
def token_log_probs(model, prompt: list[int], new: list[int]) -> torch.Tensor:
    """log p(token | everything before it) under the model itself (no rule applied) for each
    new token: (len(new),) in nats. The context is cropped to the block size, as in
    generation."""
    model.eval()
    device = next(model.parameters()).device
    ids, out = list(prompt or [0]), []
    for token in new:
        idx = torch.tensor([ids], dtype=torch.long, device=device)
        out.append(float(F.log_softmax(_last_logits(model, idx)[0].double(), dim=-1)[token]))
        ids.append(token)
    return torch.tensor(out, dtype=torch.float64)


def distinct_n(ids: list, n: int) -> float:
    """Distinct n-grams over all n-grams: 1.0 never repeats itself, near 0 loops.
    0.0 for a text shorter than n.

    >>> distinct_n([1, 2, 1, 2, 1], 2)      # (1,2) (2,1) (1,2) (2,1): 2 distinct of 4
    0.5
    """
    grams = [tuple(ids[i:i + n]) for i in range(len(ids) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


@torch.no_grad()
def run_strategy(model, prompt: list[int], strategy: Strategy, max_new_tokens: int,
                 never: torch.Tensor | None = None) -> list[int]:
    """The new token ids a strategy writes after prompt (through ``decoding``'s own
    ``generate`` or ``beam_search``; the best beam for beam search), never a token of
    ``never``."""
    if strategy.name == "beam":
        return beam_search(model, prompt or [0], max_new_tokens, strategy.beams,
                           strategy.length_penalty, never=never,
                           repetition=strategy.repetition)[0].ids
    device = next(model.parameters()).device
    idx = torch.tensor([prompt or [0]], dtype=torch.long, device=device)
    out = generate(model, idx, max_new_tokens, generator=torch.Generator().manual_seed(strategy.seed),
                   never=never, **strategy.rules())
    return out[0, idx.shape[1]:].tolist()


def measure(model, prompt: list[int], new: list[int]) -> dict:
    """A continuation's numbers: summed and mean log-probability under the model, the
    perplexity exp(-mean) and distinct-1/2/3."""
    log_probs = token_log_probs(model, prompt, new)
    mean = float(log_probs.mean()) if len(new) else 0.0
    return {"logprob": float(log_probs.sum()), "mean_logprob": mean,
            "perplexity": math.exp(-mean),
            **{f"distinct_{n}": distinct_n(new, n) for n in (1, 2, 3)}}


def compare(model, prompt: list[int], strategies: list[Strategy], max_new_tokens: int,
            never: torch.Tensor | None = None) -> list[dict]:
    """One row a strategy: its new ids and ``measure``'s numbers."""
    rows = []
    for strategy in strategies:
        new = run_strategy(model, prompt, strategy, max_new_tokens, never)
        rows.append({"strategy": strategy, "ids": new, **measure(model, prompt, new)})
    return rows


# ---- copied or new ---------------------------------------------------------------------------

def longest_matches(text: str, training: str) -> list[int]:
    """For each position i of text, the length of the longest piece text[i:i+L] that
    appears word for word in training.

    A piece that occurs has every shorter piece occurring too, and the match at i + 1 is at
    least the match at i minus one, so each position starts from there and grows.

    >>> longest_matches("abcx", "zabcz")
    [3, 2, 1, 0]
    """
    lengths, current = [], 0
    for i in range(len(text)):
        current = max(current - 1, 0)
        while i + current < len(text) and text[i:i + current + 1] in training:
            current += 1
        lengths.append(current)
    return lengths


def copied_spans(text: str, training: str, min_chars: int = 12) -> list[tuple[int, int]]:
    """The spans (start, end) of text covered by pieces of at least ``min_chars`` characters
    that appear word for word in training, overlapping pieces merged.

    >>> copied_spans("xyz the cat sat qq", "the cat sat on", min_chars=5)
    [(4, 16)]
    """
    spans: list[list[int]] = []
    for i, length in enumerate(longest_matches(text, training)):
        if length >= min_chars:
            if spans and i <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], i + length)
            else:
                spans.append([i, i + length])
    return [(start, end) for start, end in spans]


def longest_copied(text: str, training: str) -> tuple[int, int]:
    """(start, end) of the longest piece of text found word for word in training.

    >>> longest_copied("xyz the cat sat qq", "the cat sat on")
    (4, 16)
    """
    lengths = longest_matches(text, training)
    if not lengths:
        return (0, 0)
    start = max(range(len(lengths)), key=lambda i: lengths[i])
    return (start, start + lengths[start])


# ---- one checkpoint's answers, as results a page can share (keyed by the checkpoint's uid) --

def prompt_ids(checkpoint, prompt: str) -> list[int]:
    """The prompt's last ``block_size`` ids: all the model reads, so all the rules (the
    repetition penalty too) see; a pasted book then costs no more than a line (every step
    used to copy all of its ids). An empty prompt starts from token 0, as the trainer's
    sampler does."""
    return checkpoint.tokenizer.encode(prompt)[-checkpoint.model.config.block_size:] or [0]


def never_written(checkpoint) -> torch.Tensor | None:
    """The tokens a strategy on the pages never writes: those that stand for no character in
    particular (the poems model's □ for its rare characters). None when there are none."""
    never = unknown_tokens(checkpoint.tokenizer, checkpoint.model.config.vocab_size)
    return never.to(next(checkpoint.model.parameters()).device) if never.any() else None


def decode_view(checkpoint, prompt: str, strategy: Strategy, max_new_tokens: int):
    """Every step of one strategy on a prompt: a list of ``Step`` (greedy and sampling) or a
    ``BeamTree`` (beam search)."""
    ids, never = prompt_ids(checkpoint, prompt), never_written(checkpoint)
    if strategy.name == "beam":
        return beam_tree(checkpoint.model, ids, max_new_tokens, strategy.beams,
                         strategy.length_penalty, strategy.repetition, never)
    return walk(checkpoint.model, ids, strategy, max_new_tokens, never)


def compare_view(checkpoint, prompt: str, strategies: tuple, max_new_tokens: int) -> list[dict]:
    """``compare`` of the strategies on a prompt, each row with its decoded text too."""
    rows = compare(checkpoint.model, prompt_ids(checkpoint, prompt), list(strategies),
                   max_new_tokens, never_written(checkpoint))
    for row in rows:
        row["text"] = checkpoint.tokenizer.decode(row["ids"])
    return rows


def copied_view(text: str, training: str, min_chars: int = 12) -> dict:
    """A generated text against the training text: its copied spans, the longest copied piece
    and the share of characters that are copied."""
    spans = copied_spans(text, training, min_chars)
    start, end = longest_copied(text, training)
    copied = sum(b - a for a, b in spans)
    return {"spans": spans, "longest": text[start:end], "share": copied / len(text) if text else 0.0}


# ---- guess the next token: Shannon's game ----------------------------------------------------

def guess_rank(probs: torch.Tensor, token: int) -> int:
    """How many guesses a player who guesses in order of ``probs`` needs to hit ``token``:
    1 + the number of tokens with a strictly higher probability.

    >>> guess_rank(torch.tensor([0.1, 0.6, 0.3]), 0)
    3
    """
    return 1 + int((probs > probs[token]).sum())


def guess_count_bits(counts: list[int]) -> float:
    """Shannon's (1951) upper bound on the entropy of a text, in bits per guess, from how many
    guesses each position needed: the entropy of the distribution of those counts. A player who
    always gets it first time scores 0 bits.

    >>> guess_count_bits([1, 1, 2, 2])          # half first time, half second: one bit
    1.0
    """
    if not counts:
        return 0.0
    n = len(counts)
    shares = [counts.count(c) / n for c in set(counts)]
    return -sum(q * math.log2(q) for q in shares) + 0.0


@torch.no_grad()
def model_game(model, tokenizer, ids: list[int], start: int) -> list[dict]:
    """The model plays the game on ids from position ``start`` on: for each token, its rank
    (guesses needed), its probability and its surprise -log2 p in bits, and its characters."""
    model.eval()
    device = next(model.parameters()).device
    rows = []
    for position in range(start, len(ids)):
        context = torch.tensor([ids[:position] or [0]], dtype=torch.long, device=device)
        log_probs = F.log_softmax(_last_logits(model, context)[0].double(), dim=-1).cpu()   # (V,)
        token = ids[position]
        rows.append({"token": token, "rank": guess_rank(log_probs, token),
                     "p": math.exp(float(log_probs[token])), "bits": -float(log_probs[token]) / math.log(2),
                     "chars": len(tokenizer.decode([token]))})
    return rows


def bits_per_character(bits_per_token: list[float], chars: list[int]) -> float:
    """Total bits over total characters (a token can hold several characters).

    >>> bits_per_character([2.0, 4.0], [1, 2])
    2.0
    """
    return sum(bits_per_token) / max(sum(chars), 1)


def decode_probs(checkpoint, ids: list[int]) -> torch.Tensor:
    """The checkpoint's own next-token probabilities after ids (V,), float64."""
    model = checkpoint.model.eval()
    idx = torch.tensor([ids or [0]], dtype=torch.long, device=next(model.parameters()).device)
    with torch.no_grad():
        return F.softmax(_last_logits(model, idx)[0].double(), dim=-1).cpu()


def game_view(checkpoint, ids: list[int], start: int) -> list[dict]:
    """``model_game`` for a checkpoint (a result a page can share)."""
    return model_game(checkpoint.model, checkpoint.tokenizer, ids, start)
