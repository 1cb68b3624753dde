"""The tokenisation lesson's numbers: every token of a text with its bytes and span, counts,
round trips, the merge table and the compression curve.

>>> from lessons.engine.tokenizers import CharTokenizer
>>> tok = CharTokenizer.train("hi there")
>>> [v.label for v in token_views(tok, "hi 你")]
['h', 'i', '␣', '<0xE4>', '<0xBD>', '<0xA0>']
>>> text_stats(tok, "hi 你")
{'characters': 4, 'bytes': 6, 'tokens': 6, 'chars_per_token': 0.67}
"""
from __future__ import annotations

from dataclasses import dataclass

from lessons.concepts.tokenization.bpe_replay import bpe_with_first_merges, merge_counts, replay_merges
# the shared display vocabulary (lessons.display), named here too because this lesson's page,
# notebook and tests reach visible, bytes_label and group_by_character through this module
from lessons.display import bytes_label, group_by_character, visible
from lessons.engine.corpus import split_text
from lessons.engine.tokenizers import BPETokenizer, CharTokenizer, Tokenizer, WordTokenizer

__all__ = ["BPELesson", "CHIP_LIMIT", "DEFAULT_TEXT", "DISPLAY_CHAR_LIMIT", "ReplayStep",
           "SimpleTokenizers", "TokenView", "bpe_lesson", "bytes_label", "cap_text",
           "characters_split_into_bytes", "compression_curve", "group_by_character",
           "merge_table", "replay_step", "round_trips", "simple_tokenizers", "text_stats",
           "token_views", "visible"]

DISPLAY_CHAR_LIMIT = 20_000   # longer text is cut for display (a 1 MB paste stays in the box)
CHIP_LIMIT = 3_000            # more chips than this make the browser crawl
DEFAULT_TEXT = "The cat sat on the mat, and the cat was happy.\n大语言模型如何工作？"


def cap_text(text: str, limit: int = DISPLAY_CHAR_LIMIT) -> tuple[str, bool]:
    """('abcdef', 4) -> ('abcd', True): the part that is shown, and whether it was cut."""
    return (text[:limit], True) if len(text) > limit else (text, False)


@dataclass(frozen=True)
class TokenView:
    id: int
    label: str        # what the chip shows
    raw: bytes        # the bytes the token stands for (empty for <unk>); a special token's
                      # are those of its name as typed in the text
    start: int        # character span in the text: text[start:end]
    end: int
    kind: str         # 'text', 'byte' (part of a character), 'special' or 'unknown'


def token_views(tokenizer: Tokenizer, text: str, spans=None) -> list[TokenView]:
    """Every token of text with its id, label, bytes, character span and kind.
    spans: TokenSpans already computed for text (e.g. by replay_merges); default: encode.

    >>> from lessons.engine.tokenizers import CharTokenizer, MASK
    >>> tok = CharTokenizer.train("ab").with_special_tokens(MASK)
    >>> [(v.label, v.raw, v.kind) for v in token_views(tok, "a[MASK]")]
    [('a', b'a', 'text'), ('[MASK]', b'[MASK]', 'special')]
    """
    seen = {}     # id -> (label, bytes, kind): looked up once per distinct id
    views = []
    for span in tokenizer.token_spans(text) if spans is None else spans:
        if span.id not in seen:
            seen[span.id] = (tokenizer.token_label(span.id), tokenizer.token_bytes(span.id),
                             tokenizer.token_kind(span.id))
        label, raw, kind = seen[span.id]
        if kind == "special":   # it stands for no bytes; the text that spelt it has some
            raw = text[span.start:span.end].encode("utf-8")
        views.append(TokenView(span.id, label, raw, span.start, span.end, kind))
    return views


def characters_split_into_bytes(views: list[TokenView]) -> int:
    """How many characters are spelt with byte tokens (covered by a group holding one)."""
    return sum(max(v.end for v in g) - g[0].start for g in group_by_character(views)
               if any(v.kind == "byte" for v in g))


def text_stats(tokenizer, text: str) -> dict:
    """Characters (Unicode code points), UTF-8 bytes, tokens and characters per token."""
    n_tokens = len(tokenizer.encode(text))
    return {"characters": len(text), "bytes": len(text.encode("utf-8")), "tokens": n_tokens,
            "chars_per_token": round(len(text) / n_tokens, 2) if n_tokens else 0.0}


def round_trips(tokenizer, text: str) -> bool:
    """Does decode(encode(text)) give back exactly the text?"""
    return tokenizer.decode(tokenizer.encode(text)) == text


def merge_table(bpe: BPETokenizer, counts: list[int]) -> list[dict]:
    """One row per learned merge, in order: step, left + right -> new token, its id, count."""
    rows = []
    for step, ((left, right), count) in enumerate(zip(bpe.merges(), counts), start=1):
        new_id = bpe.tokenizer.token_to_id(left + right)
        ids = [bpe.tokenizer.token_to_id(left), bpe.tokenizer.token_to_id(right)]
        left_label, right_label = (bpe.token_label(i) for i in ids)
        rows.append({"step": step, "pair": f"{left_label} + {right_label}",
                     "new_token": bpe.token_label(new_id), "id": new_id,
                     "count": count})
    return rows


def compression_curve(bpe: BPETokenizer, val_text: str, points: int = 10) -> list[dict]:
    """Tokens per character and per byte on val_text as the vocabulary grows: the trained
    tokenizer cut back to its first k merges, for `points` values of k from 0 to all."""
    n_merges = len(bpe.merges())
    steps = sorted({round(n_merges * i / (points - 1)) for i in range(points)}) if points > 1 else [n_merges]
    n_chars, n_bytes = max(1, len(val_text)), max(1, len(val_text.encode("utf-8")))
    curve = []
    for k in steps:
        n_tokens = len(bpe_with_first_merges(bpe, k).encode(val_text))
        curve.append({"merges": k, "vocab_size": bpe.vocab_size - n_merges + k,
                      "tokens": n_tokens, "tokens_per_char": n_tokens / n_chars,
                      "tokens_per_byte": n_tokens / n_bytes})
    return curve


# ---- the three tokenizers trained on one corpus (what the page shows for its text source) ----

@dataclass(frozen=True)
class SimpleTokenizers:
    char: CharTokenizer
    word: WordTokenizer
    train_chars: int                               # characters of the training part
    points: dict[str, tuple[int, float]]           # "char"/"word" -> (vocabulary size,
                                                   #   tokens per character on the held-out part)


def simple_tokenizers(corpus: str) -> SimpleTokenizers:
    """The character and word tokenizers trained on the corpus's first 90 % (split_text), and
    their single points of the compression chart, measured on the last 10 %.

    >>> simple = simple_tokenizers("ab ab ab ab ab ab ab ab ab cd")   # held out: " cd"
    >>> simple.train_chars, simple.char.vocab_size == CharTokenizer.train("ab ").vocab_size
    (26, True)
    >>> simple.points["word"]        # <unk> and "ab"; " cd" is one (unknown) word in 3 characters
    (2, 0.3333333333333333)
    """
    train_text, val_text = split_text(corpus)
    char, word = CharTokenizer.train(train_text), WordTokenizer.train(train_text)
    points = {name: (tok.vocab_size, len(tok.encode(val_text)) / max(1, len(val_text)))
              for name, tok in (("char", char), ("word", word))}
    return SimpleTokenizers(char, word, len(train_text), points)


@dataclass(frozen=True)
class BPELesson:
    bpe: BPETokenizer
    merge_counts: list[int]      # how often each merged pair occurred, in merge order
    merge_rows: list[dict]       # merge_table's rows
    curve: list[dict]            # compression_curve on the held-out part


def bpe_lesson(corpus: str, vocab_size: int) -> BPELesson:
    """BPE trained on the corpus's first 90 % up to vocab_size tokens, its merge table and its
    compression curve on the last 10 %: all the BPE part of the lesson needs, in one result.

    >>> lesson = bpe_lesson("ab ab ab ab ab ab ab ab ab ab", 258)
    >>> [(row["pair"], row["count"]) for row in lesson.merge_rows]
    [('a + b', 9)]
    """
    train_text, val_text = split_text(corpus)
    bpe = BPETokenizer.train(train_text, vocab_size)
    counts = merge_counts(bpe, train_text)
    return BPELesson(bpe, counts, merge_table(bpe, counts), compression_curve(bpe, val_text))


@dataclass(frozen=True)
class ReplayStep:
    views: list[TokenView]        # the text's tokens after the first k merges only
    newest: set[int]              # the id merge k made (none for k = 0): the chips to mark
    matches_tokenizer: bool       # replaying every merge gives the tokenizer's own tokens


def replay_step(lesson: BPELesson, text: str, k: int) -> ReplayStep:
    """The text as the lesson's BPE would cut it had training stopped after k merges.

    >>> lesson = bpe_lesson("ab ab ab ab ab ab ab ab ab ab", 258)
    >>> [[v.label for v in replay_step(lesson, "abab", k).views] for k in (0, 1)]
    [['a', 'b', 'a', 'b'], ['ab', 'ab']]
    >>> step = replay_step(lesson, "abab", 1)
    >>> step.newest == {lesson.merge_rows[0]["id"]}, step.matches_tokenizer
    (True, True)
    """
    replayed = replay_merges(lesson.bpe, text, k)
    newest = {lesson.merge_rows[k - 1]["id"]} if k else set()
    every_merge = replay_merges(lesson.bpe, text, len(lesson.merge_rows))
    return ReplayStep(token_views(lesson.bpe, text, replayed), newest,
                      every_merge == lesson.bpe.token_spans(text))
