"""How much a text looks like classical Chinese verse: the share of its verse lines that have
exactly 5 or 7 characters (五言 and 七言), the two line lengths of 唐诗.

A "line" here is one clause of a poem's body: the characters between two of ，。？！；
(a printed row usually holds a couplet, two such lines). Title rows (《…》) and author rows
(作者：…) are not verse and are skipped, so the measure asks only "does the model break its
verse where a poet would?".

>>> verse_line_lengths("《春晓》\\n作者：孟浩然\\n春眠不觉晓，处处闻啼鸟。\\n夜来风雨声，花落知多少。")
[5, 5, 5, 5]
>>> five_or_seven_share("白日依山尽，黄河入海流。\\n欲穷千里目，更上一层楼楼。")
0.75
"""
from __future__ import annotations

import random
import re

import torch
import torch.nn.functional as F

from lessons.engine.decoding import generate, unknown_tokens

LINE_ENDS = "，。？！；,.?!;"
_LINE_END = re.compile(f"[{re.escape(LINE_ENDS)}]")
VERSE_LENGTHS = (5, 7)


def _is_verse_row(row: str) -> bool:
    row = row.strip()
    return bool(row) and not row.startswith("《") and not row.startswith("作者")


def verse_line_lengths(text: str) -> list[int]:
    """The number of characters in each verse line (clause) of ``text``."""
    lengths = []
    for row in filter(_is_verse_row, text.splitlines()):
        # a row's last piece after its final mark is an unfinished line: still a line
        for clause in _LINE_END.split(row.strip()):
            clause = "".join(ch for ch in clause if not ch.isspace())
            if clause:
                lengths.append(len(clause))
    return lengths


def five_or_seven_share(text: str) -> float:
    """The share of verse lines with exactly 5 or 7 characters (0.0 when there are none)."""
    lengths = verse_line_lengths(text)
    if not lengths:
        return 0.0
    return sum(n in VERSE_LENGTHS for n in lengths) / len(lengths)


# ---- measuring a model: its samples' line lengths, against chance -------------------------

def sample_text(model, tokenizer, n_tokens: int, temperature: float = 0.8, seed: int = 0,
                prompt: str = "\n") -> str:
    """``n_tokens`` new tokens from ``model`` after ``prompt`` (a line break: start a poem),
    never the unknown token □ (it stands for no character in particular)."""
    ids = tokenizer.encode(prompt)
    idx = torch.tensor([ids], dtype=torch.long, device=next(model.parameters()).device)
    generator = torch.Generator(device=idx.device).manual_seed(seed)
    never = unknown_tokens(tokenizer, model.config.vocab_size).to(idx.device)
    out = generate(model, idx, n_tokens, temperature, generator=generator, never=never)
    return tokenizer.decode(out[0, len(ids):].tolist())


def shuffled(text: str, seed: int = 0) -> str:
    """The same characters in a random order, row breaks kept where they were: what a model that
    knows which characters and marks are common, but not where marks go, would write.

    >>> sorted(shuffled("ab，c。\\nd")) == sorted("ab，c。\\nd")
    True
    """
    rows = text.split("\n")
    chars = list("".join(rows))
    random.Random(seed).shuffle(chars)
    out, k = [], 0
    for row in rows:
        out.append("".join(chars[k:k + len(row)]))
        k += len(row)
    return "\n".join(out)


@torch.no_grad()
def validation_loss(model, tokenizer, text: str) -> float:
    """Mean next-token cross-entropy (nats) over ``text`` read in block-size windows, each
    position predicted once from what comes before it in its window."""
    ids = torch.tensor(tokenizer.encode(text), dtype=torch.long)
    block = model.config.block_size
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(ids) - 1, block):
        window = ids[start:start + block + 1]
        if len(window) < 2:
            break
        logits, _ = model(window[None, :-1].to(next(model.parameters()).device))  # (1, T, vocab)
        loss = F.cross_entropy(logits[0].cpu(), window[1:], reduction="sum")
        total, count = total + float(loss), count + len(window) - 1
    model.train(was_training)
    return total / max(count, 1)


def verse_report(model, tokenizer, validation_text: str, n_tokens: int = 2000,
                 temperature: float = 0.8, seed: int = 0) -> dict:
    """What the benchmark prints: validation loss, the 5/7 share of sampled lines and of the
    same sample shuffled (chance), and how many lines were measured."""
    text = sample_text(model, tokenizer, n_tokens, temperature, seed)
    return {"val_loss": validation_loss(model, tokenizer, validation_text),
            "share": five_or_seven_share(text),
            "shuffled_share": five_or_seven_share(shuffled(text, seed)),
            "lines": len(verse_line_lengths(text)), "sample": text}


def unigram_loss(tokenizer, train_text: str, validation_text: str) -> float:
    """The baseline a model has to beat: the cross-entropy (nats per token) on
    ``validation_text`` of always predicting the training part's token frequencies, with one
    extra count for every token (add-one smoothing, so an unseen token costs a finite loss).
    Measured in the model's own tokens, so the two numbers are comparable.

    >>> from lessons.engine.tokenizers import CharTokenizer
    >>> tok = CharTokenizer("ab", byte_fallback=False)
    >>> round(unigram_loss(tok, "aaab", "ab"), 4)   # p(a) = 4/6, p(b) = 2/6
    0.752
    """
    counts = torch.bincount(torch.tensor(tokenizer.encode(train_text), dtype=torch.long),
                            minlength=tokenizer.vocab_size).double() + 1
    log_p = torch.log(counts / counts.sum())
    ids = torch.tensor(tokenizer.encode(validation_text), dtype=torch.long)
    return float(-log_p[ids].mean())
