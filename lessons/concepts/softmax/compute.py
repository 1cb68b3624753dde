"""Softmax, cross-entropy and their relatives, and the model's next token.

The model's last layer gives one score (a *logit*) per token of the vocabulary. Softmax turns
those scores into probabilities; cross-entropy measures how surprised the model is by the token
that really came next. Everything here works on plain lists, NumPy arrays or torch tensors and
returns torch tensors in float64 (so the printed digits are exact enough to compare with a
hand calculation).

>>> [round(p, 3) for p in softmax([1.0, 2.0, 2.0]).tolist()]
[0.155, 0.422, 0.422]
>>> round(cross_entropy([1.0, 2.0, 2.0], 1).item(), 3)     # -ln 0.422
0.862
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from lessons.errors import LessonError
from lessons.engine.decoding import next_token_logits, sample


LOG_BASES = {"nats": math.e, "bits": 2.0, "bans": 10.0}   # ln, log2, log10


def as_tensor(values) -> torch.Tensor:
    """Lists / NumPy arrays / tensors -> a float64 tensor (a tensor keeps its device)."""
    if isinstance(values, torch.Tensor):
        return values.to(torch.float64)
    return torch.as_tensor(values, dtype=torch.float64)


# ---- softmax -------------------------------------------------------------------------------

def naive_softmax(logits, dim: int = -1) -> torch.Tensor:
    """exp(x) / sum(exp(x)), exactly as the formula reads. Overflows: exp(1000) is inf in
    float64, and inf / inf is nan.

    >>> naive_softmax([1000.0, 0.0]).tolist()
    [nan, 0.0]
    """
    exps = torch.exp(as_tensor(logits))
    return exps / exps.sum(dim=dim, keepdim=True)


def softmax(logits, temperature: float = 1.0, dim: int = -1) -> torch.Tensor:
    """Probabilities from scores, the stable way: subtract the largest score first.

    softmax(x) == softmax(x - c) for any constant c (the factor exp(-c) cancels above and
    below the fraction), so taking c = max(x) changes nothing except that every exponent is now
    <= 0 and exp never overflows. Temperature divides the scores first: T < 1 sharpens, T > 1
    flattens.

    >>> softmax([1000.0, 0.0]).tolist()
    [1.0, 0.0]
    >>> [round(p, 3) for p in softmax([2.0, 1.0, 0.0], temperature=2.0).tolist()]
    [0.506, 0.307, 0.186]
    """
    if temperature <= 0:
        raise ValueError("temperature must be positive (use argmax for temperature 0)")
    x = as_tensor(logits) / temperature
    shifted = x - x.max(dim=dim, keepdim=True).values     # largest entry becomes 0
    exps = torch.exp(shifted)
    return exps / exps.sum(dim=dim, keepdim=True)


def log_softmax(logits, dim: int = -1) -> torch.Tensor:
    """log(softmax(x)) without ever forming a probability that could underflow to 0:
    x - max - log(sum(exp(x - max))).

    >>> log_softmax([0.0, -1000.0]).tolist()     # log(softmax) would give -inf here
    [0.0, -1000.0]
    """
    x = as_tensor(logits)
    shifted = x - x.max(dim=dim, keepdim=True).values
    return shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))


MAX_LOGIT = 1e15   # far beyond any model's scores; far below where a float runs out (1.8e308)


def parse_logits(text: str, min_count: int = 2, max_count: int = 12) -> list[float]:
    """Scores typed by a learner: numbers split by commas (also the Chinese ，), semicolons or
    spaces. ValueError for anything that is not a number, NaN or infinity, or a count outside
    min_count..max_count.

    >>> parse_logits("1, 2，2; -0.5")
    [1.0, 2.0, 2.0, -0.5]
    >>> parse_logits("1")
    Traceback (most recent call last):
    ...
    ValueError: between 2 and 12 numbers, got 1
    """
    parts = text.replace("，", ",").replace(";", ",").replace(",", " ").split()
    values = [float(p) for p in parts]        # ValueError on anything that is not a number
    if not min_count <= len(values) <= max_count:
        raise ValueError(f"between {min_count} and {max_count} numbers, got {len(values)}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError("every number must be finite")
    if any(abs(v) > MAX_LOGIT for v in values):
        # subtle: 1e308 is a finite float, but divided by a temperature of 0.1 it is not, and
        # inf - inf makes every probability NaN; a message beats a column of "nan"
        raise LessonError("logits_too_big", limit=f"{MAX_LOGIT:g}")
    return values


# ---- cross-entropy and its relatives -------------------------------------------------------

def cross_entropy(logits, target) -> torch.Tensor:
    """Mean of -log softmax(logits)[target] in nats, the loss the model trains on.

    logits (V,) with an int target, or (N, V) with N targets; same as F.cross_entropy.

    >>> round(cross_entropy([[0.0, 0.0], [0.0, 0.0]], [0, 1]).item(), 4)   # ln 2
    0.6931
    """
    logp = log_softmax(logits)
    if logp.dim() == 1:
        logp = logp.unsqueeze(0)
    target = torch.as_tensor(target, dtype=torch.long, device=logp.device).reshape(-1)
    return -logp[torch.arange(len(target)), target].mean()


def cross_entropy_of_probabilities(target_probs, predicted_probs, base: str = "nats") -> torch.Tensor:
    """-sum_i y_i log(yhat_i) between two probability vectors (a soft or one-hot target).

    >>> round(cross_entropy_of_probabilities([0.0, 1.0], [0.5, 0.5], "bits").item(), 3)
    1.0
    """
    y, y_hat = as_tensor(target_probs), as_tensor(predicted_probs)
    terms = torch.where(y > 0, y * torch.log(y_hat), torch.zeros_like(y))   # 0 * log 0 = 0
    return -terms.sum(dim=-1) / math.log(LOG_BASES[base])


def target_surprise(probs, target: int) -> dict[str, float]:
    """How surprised the prediction ``probs`` is by the class ``target``: its probability,
    the cross-entropy against the one-hot target in nats and in bits, and the perplexity.

    >>> s = target_surprise([0.5, 0.25, 0.25], 1)
    >>> s["p"], round(s["nats"], 4), round(s["bits"], 6), round(s["perplexity"], 6)
    (0.25, 1.3863, 2.0, 4.0)
    """
    probs = as_tensor(probs)
    one_hot = torch.zeros_like(probs)
    one_hot[target] = 1.0
    nats = float(cross_entropy_of_probabilities(one_hot, probs))
    return {"p": float(probs[target]), "nats": nats,
            "bits": float(cross_entropy_of_probabilities(one_hot, probs, "bits")),
            "perplexity": perplexity(nats)}


def token_surprise(logits, token_id: int) -> dict[str, float]:
    """The model's probability of one token and its cross-entropy -log p in nats, from raw
    scores (log_softmax, so a very unlikely token gives a large finite loss, never inf).

    >>> s = token_surprise([0.0, 0.0], 1)
    >>> s["p"], round(s["nats"], 4)            # ln 2
    (0.5, 0.6931)
    """
    return {"p": float(softmax(logits)[token_id]), "nats": -float(log_softmax(logits)[token_id])}


def entropy(probs, base: str = "nats") -> torch.Tensor:
    """H(p) = -sum p log p: the cross-entropy of p with itself, the least surprise possible.

    >>> round(entropy([0.25] * 4, "bits").item(), 3)     # 4 equal choices = 2 bits
    2.0
    """
    return cross_entropy_of_probabilities(probs, probs, base)


def kl_divergence(target_probs, predicted_probs, base: str = "nats") -> torch.Tensor:
    """KL(y || yhat) = cross-entropy - entropy: the extra surprise from predicting yhat when
    the truth is y. Zero only when yhat == y.

    >>> round(kl_divergence([0.5, 0.5], [0.5, 0.5]).item(), 6)
    0.0
    """
    return (cross_entropy_of_probabilities(target_probs, predicted_probs, base)
            - entropy(target_probs, base))


def perplexity(cross_entropy_nats: float | None) -> float | None:
    """exp(cross-entropy): the number of equally likely choices that would surprise a model
    just as much. A uniform guess over V tokens has perplexity V. No loss measured yet (None)
    or NaN gives None; a loss too big for a float gives inf.

    >>> round(perplexity(math.log(65)), 6), perplexity(None), perplexity(1000.0)
    (65.0, None, inf)
    """
    if cross_entropy_nats is None or math.isnan(cross_entropy_nats):
        return None
    try:
        return math.exp(cross_entropy_nats)
    except OverflowError:
        return math.inf


def mean_squared_error(target, predicted) -> torch.Tensor:
    """mean((y - yhat)^2).

    >>> round(mean_squared_error([1.0, 0.0], [0.5, 0.5]).item(), 3)
    0.25
    """
    return ((as_tensor(target) - as_tensor(predicted)) ** 2).mean()


def loss_gradients(p_correct, num_classes: int = 3) -> dict[str, torch.Tensor]:
    """How hard each loss pushes the correct class's logit, for a model that gives the correct
    class probability p (the wrong classes share the rest equally). Computed with autograd.

    Cross-entropy's gradient on that logit is p - 1: close to -1 when the model is confidently
    wrong (p near 0), so it learns fast. MSE on the probabilities reaches the logit through the
    softmax, whose slope carries a factor p: its push fades as p -> 0, so the worse the
    mistake, the slower it learns.

    Returns {"p": (N,), "cross_entropy": (N,), "mse": (N,)}.

    >>> g = loss_gradients([0.5], num_classes=2)
    >>> round(g["cross_entropy"].item(), 3), round(g["mse"].item(), 3)
    (-0.5, -0.25)
    """
    p = as_tensor(p_correct).reshape(-1)
    # logits (N, K): correct class z, others 0, with z chosen so softmax gives exactly p
    z = torch.log(p * (num_classes - 1) / (1 - p)).detach().requires_grad_(True)
    logits = torch.stack([z] + [torch.zeros_like(z)] * (num_classes - 1), dim=1)
    target = torch.zeros(num_classes, dtype=torch.float64)
    target[0] = 1.0
    grads = {}
    for name in ("cross_entropy", "mse"):
        probs = softmax(logits)
        if name == "cross_entropy":
            loss = -log_softmax(logits)[:, 0].sum()
        else:
            loss = ((probs - target) ** 2).mean(dim=1).sum()
        (grad,) = torch.autograd.grad(loss, z)
        grads[name] = grad.detach()
    return {"p": p, **grads}


# ---- the model's next token ----------------------------------------------------------------

@dataclass
class NextToken:
    context_ids: list[int]     # what the model actually read (cropped to block_size)
    cropped: bool              # True when the prompt was longer than block_size
    started_empty: bool        # True when the prompt was empty and token 0 stood in
    logits: torch.Tensor       # (V,) raw scores for the next token
    probs: torch.Tensor        # (V,) after temperature, top-k and top-p
    sampled_id: int            # one token drawn from probs


@torch.no_grad()
def next_token(model, tokenizer, prompt: str, temperature: float = 1.0, top_k: int | None = None,
               top_p: float | None = None, seed: int = 0) -> NextToken:
    """The model's distribution over the token after ``prompt`` and one sample from it.

    Same steps as ``decoding.generate``: crop to the last block_size tokens, divide by
    temperature, drop what top-k / top-p would never pick (``decoding.next_token_logits``),
    softmax, sample. An empty prompt starts from token 0, as the trainer's sampler does.
    """
    ids = tokenizer.encode(prompt)
    started_empty = not ids
    ids = ids or [0]
    block = model.config.block_size
    context = ids[-block:]
    device = next(model.parameters()).device
    idx = torch.tensor([context], dtype=torch.long, device=device)
    model.eval()
    logits = model(idx)[0][0, -1].double().cpu()                       # (V,)
    filtered = next_token_logits(logits.unsqueeze(0), temperature=temperature, top_k=top_k,
                                 top_p=top_p)[0]
    probs = softmax(filtered)        # exp(-inf) = 0: filtered tokens get probability 0
    generator = torch.Generator().manual_seed(seed)
    sampled = int(sample(probs.float().unsqueeze(0), generator))
    return NextToken(context, len(ids) > block, started_empty, logits, probs, sampled)


@torch.no_grad()
def per_position_cross_entropy(model, ids: list[int]) -> torch.Tensor:
    """-log p(token t+1 | tokens <= t) for every position of a sequence: (T-1,) in nats.
    Its mean is exactly the loss the training curve plots, for this one piece of text."""
    ids = ids[-(model.config.block_size + 1):]
    idx = torch.tensor([ids[:-1]], dtype=torch.long, device=next(model.parameters()).device)
    model.eval()
    logits = model(idx)[0][0].double().cpu()                            # (T-1, V)
    logp = log_softmax(logits)
    return -logp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])]


def token_label(tokenizer, token_id: int) -> str:
    """The tokenizer's readable label for one token (spaces as ␣, line breaks as ↵, pieces of
    a character as <0xNN>), or ∅ for a token that shows nothing.

    >>> from lessons.engine.tokenizers import CharTokenizer
    >>> tok = CharTokenizer.train("a\\n")
    >>> [token_label(tok, i) for i in tok.encode("\\na猫")]
    ['↵', 'a', '<0xE7>', '<0x8C>', '<0xAB>']
    """
    return tokenizer.token_label(token_id) or "∅"
