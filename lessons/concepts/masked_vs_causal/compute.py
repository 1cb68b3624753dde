"""Masked (BERT-style) against causal (GPT-style) models: the numbers the page and notebook 09 show.

A causal model reads only the left side of a position and predicts the next token; a masked
model reads both sides and predicts a hidden token. ``training.objectives.MaskedToken`` trains
the second kind; this module asks both kinds the same questions: fill in a blank, write text,
how many predictions one batch teaches, and how often each is right on held-out text.

>>> from lessons.engine.checkpoint import toy_checkpoint
>>> causal = toy_checkpoint("abcab")
>>> masked = masked_toy_checkpoint("abcab")
>>> masked.model.config.causal, MASK in masked.tokenizer.special_tokens()
(False, True)
>>> predictions_per_batch(batch_size=4, block_size=10, rate=0.15)
{'causal': 40, 'masked': 6.0}
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from lessons.engine.checkpoint import Checkpoint
from lessons.engine.config import ModelConfig
from lessons.engine.corpus import split_text
from lessons.engine.model import GPT
from lessons.engine.decoding import unmask
from lessons.engine.tokenizers import MASK, CharTokenizer
from lessons.engine.training.objectives import MaskedToken
from lessons.errors import LessonError


class NeedsMaskedModel(LessonError):
    """The question needs a model with a [MASK] token and attention to both sides."""


def is_masked_model(checkpoint: Checkpoint) -> bool:
    return (not checkpoint.model.config.causal) and MASK in checkpoint.tokenizer.special_tokens()


def masked_toy_checkpoint(text: str, seed: int = 0, **sizes) -> Checkpoint:
    """An untrained bidirectional model with [MASK], for doctests and quick tests."""
    tokenizer = CharTokenizer.train(text).with_special_tokens(MASK)
    config = ModelConfig(tokenizer.vocab_size, block_size=sizes.get("block_size", 16),
                         n_layer=sizes.get("n_layer", 1), n_head=sizes.get("n_head", 2),
                         n_embd=sizes.get("n_embd", 16), causal=False)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return Checkpoint(GPT(config).eval(), tokenizer)


# ---- fill in the blank -----------------------------------------------------------------------

@dataclass(frozen=True)
class Guess:
    token: str       # the token's text
    probability: float


def fill_in_masked(checkpoint: Checkpoint, left: str, right: str, top: int = 8) -> list[Guess]:
    """What a masked model puts in ``left[MASK]right``: its top guesses at the [MASK]."""
    with torch.no_grad():   # a plain function: shared() keys it (a decorator would hide it)
        if not is_masked_model(checkpoint):
            raise NeedsMaskedModel("needs_masked_model")
        tokenizer, model = checkpoint.tokenizer, checkpoint.model
        ids = tokenizer.encode(left) + [tokenizer.special_token_id(MASK)] + tokenizer.encode(right)
        ids = _crop_around(ids, len(tokenizer.encode(left)), model.config.block_size)
        at, window = ids
        logits, _ = model.eval()(torch.tensor([window]))
        return _top_guesses(tokenizer, logits[0, at], top, exclude=tokenizer.special_tokens().values())


def fill_in_causal(checkpoint: Checkpoint, left: str, top: int = 8) -> list[Guess]:
    """What a causal model can put after ``left``: it never sees the right side."""
    with torch.no_grad():   # a plain function: shared() keys it (a decorator would hide it)
        tokenizer, model = checkpoint.tokenizer, checkpoint.model
        ids = tokenizer.encode(left)[-model.config.block_size:] or [0]
        logits, _ = model.eval()(torch.tensor([ids]))
        return _top_guesses(tokenizer, logits[0, -1], top, exclude=tokenizer.special_tokens().values())


def _crop_around(ids: list[int], at: int, block_size: int) -> tuple[int, list[int]]:
    """A window of at most block_size ids that keeps position ``at`` near its middle."""
    if len(ids) <= block_size:
        return at, ids
    start = min(max(0, at - block_size // 2), len(ids) - block_size)
    return at - start, ids[start:start + block_size]


def _top_guesses(tokenizer, logits: torch.Tensor, top: int, exclude) -> list[Guess]:
    logits = logits.clone()
    for special in exclude:
        if special < logits.shape[-1]:
            logits[special] = float("-inf")     # [MASK] is never the answer
    probs = torch.softmax(logits.float(), dim=-1)
    values, ids = probs.topk(min(top, probs.numel()))
    return [Guess(tokenizer.token_text(int(i)), float(p)) for p, i in zip(values, ids)]


# ---- writing text ----------------------------------------------------------------------------

def unmask_iteratively(checkpoint: Checkpoint, prompt: str, new_tokens: int, seed: int = 0,
                       per_round: int = 1, order: str = "surest") -> list[str]:
    """The trick that lets a masked model write: put ``new_tokens`` [MASK]s after the prompt,
    then, round after round, replace [MASK]s by the model's best guesses: the ``per_round``
    it is surest about (``order="surest"``), or the leftmost (``order="left_to_right"``).
    Returns the text after every round (the first is all masks), so a page can replay it.

    Far from any real token the surest guess is the commonest one (a space), so surest-first
    tends to fill the end with spaces; left to right keeps each guess next to real text."""
    with torch.no_grad():   # a plain function: shared() keys it (a decorator would hide it)
        if not is_masked_model(checkpoint):
            raise NeedsMaskedModel("needs_masked_model")
        tokenizer, model = checkpoint.tokenizer, checkpoint.model
        mask_id = tokenizer.special_token_id(MASK)
        room = max(1, model.config.block_size - new_tokens)
        ids = tokenizer.encode(prompt)[-room:] + [mask_id] * new_tokens
        rounds = unmask(model, ids[-model.config.block_size:], mask_id,
                        list(tokenizer.special_tokens().values()), per_round, order)
        return [tokenizer.decode(r) for r in rounds]


# ---- where the loss comes from ---------------------------------------------------------------

def predictions_per_batch(batch_size: int, block_size: int, rate: float = 0.15) -> dict:
    """How many predictions one batch scores: every position for a causal model, the chosen
    ``rate`` of them (on average) for a masked one."""
    return {"causal": batch_size * block_size, "masked": round(batch_size * block_size * rate, 1)}


# ---- accuracy on held-out text -----------------------------------------------------------------

def masked_token_accuracy(checkpoint: Checkpoint, text: str, windows: int = 40,
                          seed: int = 0) -> float:
    """How often the masked model's top guess is the hidden token, on BERT's own corruption of
    windows of ``text`` (the same recipe it trained on)."""
    with torch.no_grad():   # a plain function: shared() keys it (a decorator would hide it)
        if not is_masked_model(checkpoint):
            raise NeedsMaskedModel("needs_masked_model")
        task = _masked_task(checkpoint, text)
        batches = task.validation_batches(windows, 1, seed, "cpu")
        return task.evaluate(checkpoint.model.eval(), None, batches)["val_accuracy"]


def next_token_accuracy(checkpoint: Checkpoint, text: str, windows: int = 40, seed: int = 0) -> float:
    """How often the causal model's top guess is the next token, on windows of ``text``."""
    with torch.no_grad():   # a plain function: shared() keys it (a decorator would hide it)
        model, tokenizer = checkpoint.model.eval(), checkpoint.tokenizer
        from lessons.engine.corpus import TokenStream
        stream = TokenStream(tokenizer.encode(text), model.config.block_size)
        x, y = stream.batch(windows, torch.Generator().manual_seed(seed))
        logits, _ = model(x)
        return float((logits.argmax(-1) == y).float().mean())


def unigram_accuracy(train_text: str, test_text: str, tokenizer) -> float:
    """The baseline a masked model must beat: always guess the training text's commonest token
    (what a model that ignores the context entirely does best)."""
    train_ids, test_ids = tokenizer.encode(train_text), tokenizer.encode(test_text)
    commonest = torch.bincount(torch.tensor(train_ids)).argmax()
    return float((torch.tensor(test_ids) == commonest).float().mean())


def _masked_task(checkpoint: Checkpoint, text: str) -> MaskedToken:
    ids = checkpoint.tokenizer.encode(text)
    mask_id = checkpoint.tokenizer.special_token_id(MASK)
    return MaskedToken(ids, ids, checkpoint.model.config.block_size, mask_id)


def corruption_example(checkpoint: Checkpoint, text: str, seed: int = 0) -> list[dict]:
    """One row per token of ``text``: what the masked model is shown there and whether the loss
    counts it (BERT's recipe drawn with ``seed``), beside the causal model's target."""
    tokenizer = checkpoint.tokenizer
    ids = tokenizer.encode(text)[: checkpoint.model.config.block_size]
    if not ids:
        return []
    # only the recipe is needed, not a stream of windows: a one-token window over the sentence
    task = MaskedToken(ids * 2, ids * 2, 1, tokenizer.special_token_id(MASK))
    inputs, _, kinds = task.corrupt(torch.tensor([ids]), torch.Generator().manual_seed(seed))
    names = {0: "unchanged", 1: "masked", 2: "randomised", 3: "kept"}
    return [{"token": tokenizer.token_label(i), "shown": tokenizer.token_label(int(s)),
             "kind": names[int(k)], "counts": int(k) != 0}
            for i, s, k in zip(ids, inputs[0].tolist(), kinds[0].tolist())]


def attention_of_last_layer(checkpoint: Checkpoint, text: str, max_tokens: int = 24):
    """(token labels, (T, T) attention of the last layer averaged over its heads) for a text."""
    from lessons.concepts.attention.compute import model_pass
    ids, tokens, _, attn = model_pass(checkpoint, text, max_tokens)
    return tokens, (None if attn is None else attn[-1].mean(dim=0))


def causal_writes(checkpoint: Checkpoint, prompt: str, new_tokens: int, seed: int = 0,
                  temperature: float = 0.8) -> str:
    """The causal model's continuation of ``prompt`` (sampled, repeatable with ``seed``)."""
    with torch.no_grad():   # a plain function: shared() keys it (a decorator would hide it)
        from lessons.engine.decoding import generate
        tokenizer, model = checkpoint.tokenizer, checkpoint.model.eval()
        ids = tokenizer.encode(prompt)[-model.config.block_size:] or [0]
        out = generate(model, torch.tensor([ids]), new_tokens, temperature,
                       generator=torch.Generator().manual_seed(seed))
        return tokenizer.decode(out[0].tolist())


def split_blank(sentence: str, marker: str = "___") -> tuple[str, str] | None:
    """(left, right) of the first ``marker`` in a sentence, or None when it has none.

    >>> split_blank("the ___ sat")
    ('the ', ' sat')
    """
    if marker not in sentence:
        return None
    left, right = sentence.split(marker, 1)
    return left, right.replace(marker, "")


def accuracy_scores(masked: Checkpoint, causal: Checkpoint, text: str, windows: int = 60) -> dict:
    """The page's three accuracies on the held-out part of ``text``."""
    train, held_out = split_text(text)
    return {"masked": masked_token_accuracy(masked, held_out, windows),
            "causal": next_token_accuracy(causal, held_out, windows),
            "unigram": unigram_accuracy(train, held_out, causal.tokenizer)}
