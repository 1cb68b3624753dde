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

import unicodedata
from dataclasses import dataclass

from lessons.concepts.tokenization.bpe_replay import bpe_with_first_merges, merge_counts
from lessons.engine.corpus import split_text
from lessons.engine.tokenizers import END_OF_TEXT, BPETokenizer, CharTokenizer, WordTokenizer


DISPLAY_CHAR_LIMIT = 20_000   # longer text is cut for display (a 1 MB paste stays in the box)
CHIP_LIMIT = 3_000            # more chips than this make the browser crawl
DEFAULT_TEXT = "The cat sat on the mat, and the cat was happy.\n大语言模型如何工作？"
_VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}


def cap_text(text: str, limit: int = DISPLAY_CHAR_LIMIT) -> tuple[str, bool]:
    """('abcdef', 4) -> ('abcd', True): the part that is shown, and whether it was cut."""
    return (text[:limit], True) if len(text) > limit else (text, False)


def visible(s: str) -> str:
    """Make invisible characters visible: 'a b\\n' -> 'a␣b↵', NUL -> '␀', a zero-width
    joiner or a right-to-left mark -> '⟨U+200D⟩'. Everything else is unchanged."""
    out = []
    for ch in s:
        if ch in _VISIBLE:
            out.append(_VISIBLE[ch])
        elif ord(ch) < 0x20:
            out.append(chr(0x2400 + ord(ch)))      # Unicode's "control pictures": ␀ ␁ ...
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(f"⟨U+{ord(ch):04X}⟩")
        else:
            out.append(ch)
    return "".join(out)


def bytes_label(raw: bytes) -> str:
    """Readable text for a token's bytes; bytes that are only part of a character show as
    <0xNN>: b'\\xe5\\xa4' -> '<0xE5><0xA4>', b' the' -> '␣the'."""
    # surrogateescape turns each undecodable byte into one stand-in character U+DC80..U+DCFF
    text = raw.decode("utf-8", errors="surrogateescape")
    return "".join(f"<0x{ord(c) - 0xDC00:02X}>" if 0xDC80 <= ord(c) <= 0xDCFF else visible(c)
                   for c in text)


@dataclass(frozen=True)
class TokenView:
    id: int
    label: str        # what the chip shows
    raw: bytes        # the bytes the token stands for (empty for <unk>)
    start: int        # character span in the text: text[start:end]
    end: int
    kind: str         # 'text', 'byte' (part of a character), 'special' or 'unknown'


def token_views(tokenizer, text: str, spans=None) -> list[TokenView]:
    """Every token of text with its id, label, bytes, character span and kind.
    spans: TokenSpans already computed for text (e.g. by replay_merges); default: encode."""
    views, bpe_bytes = [], {}     # bpe_bytes: id -> bytes, looked up once per distinct id
    for span in tokenizer.token_spans(text) if spans is None else spans:
        if isinstance(tokenizer, BPETokenizer):
            if span.id not in bpe_bytes:
                bpe_bytes[span.id] = tokenizer.token_bytes(span.id)
            raw = bpe_bytes[span.id]
            special = tokenizer.id_to_token(span.id) == END_OF_TEXT
        elif isinstance(tokenizer, CharTokenizer):
            special = False
            raw = (bytes([span.id - tokenizer.byte_offset]) if span.id >= tokenizer.byte_offset
                   else span.text.encode("utf-8"))
        else:   # WordTokenizer
            special = False
            raw = b"" if span.id == 0 else span.text.encode("utf-8")
        if special:
            kind, label = "special", END_OF_TEXT
        elif isinstance(tokenizer, WordTokenizer) and span.id == 0:
            kind, label = "unknown", WordTokenizer.UNKNOWN
        else:
            label = bytes_label(raw)
            kind = "text" if _is_utf8(raw) else "byte"
        views.append(TokenView(span.id, label, raw, span.start, span.end, kind))
    return views


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def group_by_character(views: list[TokenView]) -> list[list[TokenView]]:
    """Tokens whose character spans overlap belong together: the three byte tokens of one
    Chinese character (all spanning the same character) form one group; others stand alone."""
    groups: list[list[TokenView]] = []
    for v in views:
        if groups and v.start < max(g.end for g in groups[-1]):
            groups[-1].append(v)
        else:
            groups.append([v])
    return groups


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
        left_label, right_label = (bytes_label(bpe.token_bytes(i)) for i in ids)
        rows.append({"step": step, "pair": f"{left_label} + {right_label}",
                     "new_token": bytes_label(bpe.token_bytes(new_id)), "id": new_id,
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
