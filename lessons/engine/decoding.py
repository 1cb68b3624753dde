"""Turning the model's scores into text: every decoding rule in one place.

One step of decoding, in the order ``next_token_logits`` applies it (the order Hugging Face's
``generate`` uses too: logit processors first, then the warpers that reshape the distribution):

1. ``repetition_penalty``: make tokens that already occur in the text less likely;
2. ``never``: a bool mask (V,) of tokens never to emit (e.g. byte tokens the training text
   lacks, which an early model babbles and which decode to the replacement character U+FFFD);
3. ``temperature``: divide by T (T < 1 sharpens, T > 1 flattens; 0 means greedy);
4. ``top_k_filter`` / ``top_p_filter``: drop the tokens sampling should never pick.

Then ``greedy`` takes the highest score, ``sample`` draws from the softmax, and
``generate`` repeats the step; ``beam_search`` keeps the ``width`` likeliest continuations.
A masked (bidirectional) model writes differently: ``unmask`` fills [MASK] positions round by
round.
A dropped token's logit is -inf, so its probability is exactly 0.

Shapes: B = rows (sequences), V = vocabulary size.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """(B, V) / temperature. Greedy decoding (temperature 0) never calls this.

    >>> apply_temperature(torch.tensor([[2.0, 1.0]]), 0.5)
    tensor([[4., 2.]])
    """
    return logits / temperature


def top_k_filter(logits: torch.Tensor, k: int | None) -> torch.Tensor:
    """Keep the k highest logits of each row, set the rest to -inf. (B, V) -> (B, V).
    Ties with the k-th value are kept. None, 0 or k >= V keep everything.

    >>> top_k_filter(torch.tensor([[1.0, 4.0, 3.0, 2.0]]), 2)
    tensor([[-inf, 4., 3., -inf]])
    """
    if k is None or not 0 < k < logits.size(-1):
        return logits
    kth_highest = torch.topk(logits, k, dim=-1).values[:, -1:]           # (B, 1)
    return logits.masked_fill(logits < kth_highest, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float | None) -> torch.Tensor:
    """Nucleus sampling: keep the smallest set of likeliest tokens whose probabilities add up
    to at least p, set the rest to -inf. (B, V) -> (B, V). The likeliest token always stays.

    >>> probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    >>> top_p_filter(probs.log(), 0.75).exp()      # 0.5 < 0.75 <= 0.5 + 0.3: keep two
    tensor([[0.5000, 0.3000, 0.0000, 0.0000]])
    """
    if p is None or not 0.0 < p < 1.0:
        return logits
    sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
    sorted_probs = F.softmax(sorted_logits, dim=-1)
    # drop a token when the likelier tokens before it already reach p
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs
    drop = torch.zeros_like(mass_before, dtype=torch.bool).scatter(-1, order, mass_before >= p)
    return logits.masked_fill(drop, float("-inf"))


def filter_logits(logits: torch.Tensor, top_k: int | None = None,
                  top_p: float | None = None) -> torch.Tensor:
    """Top-k, then top-p: -inf for every logit sampling would never pick. (B, V) -> (B, V)."""
    return top_p_filter(top_k_filter(logits, top_k), top_p)


def repetition_penalty(logits: torch.Tensor, previous: torch.Tensor,
                       penalty: float) -> torch.Tensor:
    """Make every token already in ``previous`` (B, T) less likely (the CTRL paper's rule):
    a positive logit is divided by ``penalty``, a negative one multiplied by it. 1 = off.

    >>> repetition_penalty(torch.tensor([[2.0, -1.0, 3.0]]), torch.tensor([[0, 1, 1]]), 2.0)
    tensor([[ 1., -2.,  3.]])
    """
    if penalty == 1.0:
        return logits
    seen = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, previous, True)   # (B, V)
    penalized = torch.where(logits > 0, logits / penalty, logits * penalty)
    return torch.where(seen, penalized, logits)


def next_token_logits(logits: torch.Tensor, previous: torch.Tensor | None = None,
                      temperature: float = 1.0, top_k: int | None = None,
                      top_p: float | None = None, repetition: float = 1.0,
                      never: torch.Tensor | None = None) -> torch.Tensor:
    """Every rule of one step, in order, on the last position's logits (B, V) -> (B, V).
    ``previous`` (B, T) is the text so far (only the repetition penalty reads it). With
    temperature <= 0 (greedy) only the penalty and the ``never`` mask apply.

    >>> next_token_logits(torch.tensor([[1.0, 3.0, 2.0]]), temperature=0.5, top_k=2)
    tensor([[-inf, 6., 4.]])
    """
    if previous is not None:
        logits = repetition_penalty(logits, previous, repetition)
    if never is not None:
        logits = logits.masked_fill(never, float("-inf"))
    if temperature <= 0:
        return logits
    return filter_logits(apply_temperature(logits, temperature), top_k, top_p)


def greedy(logits: torch.Tensor) -> torch.Tensor:
    """The highest-scoring token of each row: (B, V) -> (B, 1).

    >>> greedy(torch.tensor([[0.1, 2.0, 0.3]]))
    tensor([[1]])
    """
    return logits.argmax(dim=-1, keepdim=True)


def sample(probs: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw one token of each row from probabilities (B, V) -> (B, 1)."""
    return torch.multinomial(probs, num_samples=1, generator=generator)


def sample_next(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Pick the next token id for each row of logits (B, V) -> (B, 1); temperature 0 = greedy."""
    logits = next_token_logits(logits, temperature=temperature, top_k=top_k, top_p=top_p)
    return greedy(logits) if temperature <= 0 else sample(F.softmax(logits, dim=-1), generator)


def _last_logits(model, idx: torch.Tensor) -> torch.Tensor:
    """The model's scores for the token after each row of idx (B, T) -> (B, V)."""
    return model(idx[:, -model.config.block_size:])[0][:, -1, :]


@torch.no_grad()
def unknown_tokens(tokenizer, vocab_size: int) -> torch.Tensor:
    """(V,) bool: the tokens that stand for no character in particular (a char tokenizer's □
    for its rare characters, a word tokenizer's <unk>). A sampler that writes text leaves them
    out: a model may expect "some rare character", but it cannot write one.

    >>> from lessons.engine.tokenizers import CharTokenizer
    >>> unknown_tokens(CharTokenizer.train("aab", min_count=2), 2).tolist()
    [False, True]
    """
    return torch.tensor([tokenizer.is_unknown(i) for i in range(vocab_size)], dtype=torch.bool)


def generate(model, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None,
             generator: torch.Generator | None = None, never: torch.Tensor | None = None,
             repetition: float = 1.0) -> torch.Tensor:
    """Extend idx (B, T) by ``max_new_tokens`` tokens, one step at a time -> (B, T + new).

    Each step crops the context to the model's block size, applies ``next_token_logits`` and
    picks a token: greedy when temperature is 0, else a draw from the softmax with
    ``generator`` (a seeded generator makes the text repeatable).
    """
    was_training = model.training
    model.eval()
    for _ in range(max_new_tokens):
        logits = next_token_logits(_last_logits(model, idx), idx, temperature, top_k, top_p,
                                   repetition, never)
        if temperature <= 0:
            next_id = greedy(logits)
        else:
            next_id = sample(F.softmax(logits, dim=-1), generator)
        idx = torch.cat((idx, next_id), dim=1)
    model.train(was_training)
    return idx


@torch.no_grad()
def unmask(model, ids: list[int], mask_id: int, blocked: list[int], per_round: int = 1,
           order: str = "surest") -> list[list[int]]:
    """How a masked (bidirectional) model writes: round after round, replace ``per_round`` of
    the ``mask_id`` positions of ``ids`` by the model's best guesses there, the ones it is
    surest about (``order="surest"``) or the leftmost (``order="left_to_right"``), until no
    mask is left. ``blocked`` ids (the special tokens) are never guessed. Returns the ids
    after every round, the first being ``ids`` itself, so a page can replay them.

    Such a model cannot write left to right as a causal one does: it was trained to fill
    holes with text on both sides, so its text is made by filling holes.
    """
    was_training = model.training
    model.eval()
    ids = list(ids)
    rounds = [list(ids)]
    while mask_id in ids:
        logits = model(torch.tensor([ids], device=next(model.parameters()).device))[0][0]
        logits = logits.float().cpu().clone()
        logits[:, [b for b in blocked if b < logits.shape[-1]]] = float("-inf")
        confidence, best = torch.softmax(logits, dim=-1).max(dim=-1)
        still = torch.tensor([i == mask_id for i in ids])
        confidence[~still] = -1.0            # a filled position is never picked again
        count = min(per_round, int(still.sum()))
        positions = (confidence.topk(count).indices.tolist() if order == "surest" else
                     still.nonzero().flatten()[:count].tolist())
        for position in positions:
            ids[position] = int(best[position])
        rounds.append(list(ids))
    model.train(was_training)
    return rounds


@dataclass(frozen=True)
class Beam:
    ids: list[int]        # the new tokens only (the prompt not repeated)
    log_prob: float       # sum of log p(token | everything before it)
    score: float          # log_prob / len(ids) ** length_penalty: what beams are ranked by


@torch.no_grad()
def beam_search(model, prompt: list[int], max_new_tokens: int, width: int,
                length_penalty: float = 1.0, end_id: int | None = None,
                never: torch.Tensor | None = None, repetition: float = 1.0) -> list[Beam]:
    """The ``width`` likeliest continuations of ``prompt``, best first.

    Each step extends every live beam by every token, scores the extensions by their summed
    log-probability and keeps the ``width`` best. An extension that ends in ``end_id`` is
    finished and set aside; the others stay live. At the end all finished and live beams are
    ranked by ``score``: length_penalty 0 ranks by plain log-probability (which favours short
    texts, since every token multiplies in a probability < 1), 1 by the mean per token.
    Width 1 is greedy decoding; a width of V ** max_new_tokens searches every sequence.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    live, finished = [([], 0.0)], []
    for _ in range(max_new_tokens):
        idx = torch.tensor([prompt + ids for ids, _ in live], dtype=torch.long, device=device)
        logits = next_token_logits(_last_logits(model, idx), idx, temperature=0,
                                   repetition=repetition, never=never)
        log_probs = F.log_softmax(logits.double(), dim=-1).cpu()             # (beams, V)
        totals = torch.tensor([lp for _, lp in live], dtype=torch.float64)[:, None] + log_probs
        best = torch.topk(totals.flatten(), min(width, totals.numel()))
        V = totals.shape[1]
        extended = [(live[i // V][0] + [i % V], value)
                    for i, value in zip(best.indices.tolist(), best.values.tolist())
                    if value > float("-inf")]
        finished += [(ids, lp) for ids, lp in extended if ids[-1] == end_id]
        live = [(ids, lp) for ids, lp in extended if ids[-1] != end_id]
        if not live:
            break
    model.train(was_training)
    beams = [Beam(ids, lp, lp / len(ids) ** length_penalty) for ids, lp in finished + live]
    return sorted(beams, key=lambda beam: beam.score, reverse=True)[:width]
