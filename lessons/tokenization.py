"""Tokenizers behind one small interface: text <-> list of integer ids.

Two kinds:
- ``CharTokenizer``: one token per character seen in the training text. A character it has
  never seen is not lost: it falls back to one token per UTF-8 byte (``<0xE4>`` ...), so any
  text round-trips exactly.
- ``BPETokenizer``: byte-level byte-pair encoding, trained live with Hugging Face
  ``tokenizers``. Starts from the 256 bytes and repeatedly merges the most frequent pair.

Both give ``encode``, ``decode``, ``token_spans`` (each token's string and character span in
the text), ``vocab_size`` and a JSON-able ``to_dict`` for checkpoints.

>>> tok = CharTokenizer.train("hello")
>>> tok.encode("hole")
[1, 3, 2, 0]
>>> tok.decode(tok.encode("hé")) == "hé"   # 'é' was never seen: two byte tokens
True
"""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

BYTE_TOKENS = [f"<0x{b:02X}>" for b in range(256)]
END_OF_TEXT = "<|endoftext|>"


class TokenizerError(ValueError):
    """A tokenizer description that cannot be loaded."""


@dataclass(frozen=True)
class TokenSpan:
    id: int
    text: str      # what the token stands for, as readable text
    start: int     # character offsets into the encoded text: text[start:end]
    end: int


class CharTokenizer:
    kind = "char"

    def __init__(self, chars: str, byte_fallback: bool = True):
        self.chars = chars
        self.byte_fallback = byte_fallback
        self.char_to_id = {c: i for i, c in enumerate(chars)}
        self.byte_offset = len(chars)   # id of <0x00>

    @classmethod
    def train(cls, text: str, byte_fallback: bool = True) -> "CharTokenizer":
        return cls("".join(sorted(set(text))), byte_fallback)

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + (256 if self.byte_fallback else 0)

    def token_spans(self, text: str) -> list[TokenSpan]:
        spans = []
        for i, ch in enumerate(text):
            if ch in self.char_to_id:
                spans.append(TokenSpan(self.char_to_id[ch], ch, i, i + 1))
            elif self.byte_fallback:
                for b in ch.encode("utf-8"):
                    spans.append(TokenSpan(self.byte_offset + b, BYTE_TOKENS[b], i, i + 1))
            else:
                raise ValueError(f"character {ch!r} is not in the vocabulary")
        return spans

    def encode(self, text: str) -> list[int]:
        """The ids of token_spans(text), without making a span per character: a training run
        encodes its whole text here, and half a million span objects took over a second of
        the server's one Python thread."""
        ids, lookup = [], self.char_to_id
        for ch in text:
            i = lookup.get(ch)
            if i is not None:
                ids.append(i)
            elif self.byte_fallback:
                ids.extend(self.byte_offset + b for b in ch.encode("utf-8"))
            else:
                raise ValueError(f"character {ch!r} is not in the vocabulary")
        return ids

    def decode(self, ids) -> str:
        out, pending = [], bytearray()
        for i in ids:
            i = int(i)
            if i >= self.byte_offset:
                pending.append(i - self.byte_offset)
                continue
            if pending:   # subtle: a run of byte tokens becomes text only as a whole
                out.append(pending.decode("utf-8", errors="replace"))
                pending = bytearray()
            out.append(self.chars[i])
        if pending:
            out.append(pending.decode("utf-8", errors="replace"))
        return "".join(out)

    def id_to_token(self, i: int) -> str:
        return self.chars[i] if i < self.byte_offset else BYTE_TOKENS[i - self.byte_offset]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "chars": self.chars, "byte_fallback": self.byte_fallback}


class BPETokenizer:
    kind = "bpe"

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        self._merges: list[tuple[str, str]] | None = None   # read on first use (merges())

    @classmethod
    def train(cls, texts, vocab_size: int = 512) -> "BPETokenizer":
        """Learn merges from an iterable of strings until the vocabulary has vocab_size tokens."""
        if isinstance(texts, str):
            texts = [texts]
        tok = Tokenizer(models.BPE())
        # add_prefix_space=False keeps decode(encode(x)) == x exactly
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, min_frequency=2, show_progress=False,
            special_tokens=[END_OF_TEXT],
            # all 256 bytes are in the vocabulary, so no input is ever unknown
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        tok.train_from_iterator(texts, trainer=trainer)
        return cls(tok)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text).ids if text else []

    def decode(self, ids) -> str:
        return self.tokenizer.decode([int(i) for i in ids], skip_special_tokens=False)

    def token_spans(self, text: str) -> list[TokenSpan]:
        if not text:
            return []
        enc = self.tokenizer.encode(text)
        return [TokenSpan(i, self._readable(i, text[s:e]), s, e)
                for i, (s, e) in zip(enc.ids, enc.offsets)]

    def _readable(self, token_id: int, covered: str) -> str:
        """A token that holds only part of a character's bytes shows as its bytes."""
        piece = self.tokenizer.decode([token_id], skip_special_tokens=False)
        if "\ufffd" in piece and "\ufffd" not in covered:
            raw = self.token_bytes(token_id)
            return "".join(BYTE_TOKENS[b] for b in raw)
        return piece

    def token_bytes(self, token_id: int) -> bytes:
        """The raw bytes a token stands for (ByteLevel maps each byte to a printable char)."""
        byte_of = _unicode_to_bytes()
        token = self.tokenizer.id_to_token(token_id)
        if token == END_OF_TEXT:
            return token.encode()
        return bytes(byte_of[c] for c in token)

    def id_to_token(self, i: int) -> str:
        return self.tokenizer.id_to_token(int(i))

    def merges(self) -> list[tuple[str, str]]:
        """The learned merges in the order they were learned (GPT-2 byte-to-char alphabet).
        Read once: the library only hands them out inside its whole JSON dump, and a trained
        tokenizer never changes."""
        if self._merges is None:
            self._merges = [tuple(m) if not isinstance(m, str) else tuple(m.split(" ", 1))
                            for m in json.loads(self.tokenizer.to_str())["model"]["merges"]]
        return list(self._merges)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "json": self.tokenizer.to_str()}


@lru_cache(maxsize=1)
def _unicode_to_bytes() -> dict[str, int]:
    return {c: b for b, c in _bytes_to_unicode().items()}


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table, as used by ByteLevel."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def tokenizer_from_dict(data: dict):
    """Rebuild a tokenizer saved with ``to_dict``; raise TokenizerError on anything else."""
    try:
        if data["kind"] == "char":
            return CharTokenizer(str(data["chars"]), bool(data.get("byte_fallback", True)))
        if data["kind"] == "bpe":
            return BPETokenizer(Tokenizer.from_str(data["json"]))
    except Exception as exc:   # KeyError, TypeError, or the plain Exception tokenizers raises
        raise TokenizerError(f"the tokenizer description is damaged: {exc}") from exc
    raise TokenizerError(f"unknown tokenizer kind {data.get('kind')!r}")


def train_tokenizer(kind: str, text: str, vocab_size: int = 512):
    """One entry point for both kinds (vocab_size only matters for BPE)."""
    if kind == "char":
        return CharTokenizer.train(text)
    if kind == "bpe":
        return BPETokenizer.train(text, vocab_size)
    raise TokenizerError(f"unknown tokenizer kind {kind!r}; use 'char' or 'bpe'")


# ---- teaching additions: a word-level tokenizer, and BPE's merges replayed step by step ----

class WordTokenizer:
    """One token per whitespace-separated word seen in training; any other word is ``<unk>``.

    It exists to show what subwords fix: the vocabulary is huge, a new word is lost, and
    the spaces between words are not kept (decode puts one space back between tokens).

    >>> tok = WordTokenizer.train("the cat and the dog")
    >>> tok.encode("the cow")          # 'the' is the most frequent word; 'cow' is unknown
    [1, 0]
    >>> tok.decode(tok.encode("the  cow"))
    'the <unk>'
    """
    kind = "word"
    UNKNOWN = "<unk>"

    def __init__(self, words: list[str]):
        self.words = [self.UNKNOWN] + [w for w in words if w != self.UNKNOWN]
        self.word_to_id = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def train(cls, text: str) -> "WordTokenizer":
        counts = Counter(text.split())
        # most frequent first, ties alphabetical, so ids are the same every time
        return cls(sorted(counts, key=lambda w: (-counts[w], w)))

    @property
    def vocab_size(self) -> int:
        return len(self.words)

    def token_spans(self, text: str) -> list[TokenSpan]:
        spans = []
        for match in re.finditer(r"\S+", text):
            i = self.word_to_id.get(match.group(), 0)
            spans.append(TokenSpan(i, self.words[i], match.start(), match.end()))
        return spans

    def encode(self, text: str) -> list[int]:
        return [s.id for s in self.token_spans(text)]

    def decode(self, ids) -> str:
        return " ".join(self.words[int(i)] for i in ids)

    def id_to_token(self, i: int) -> str:
        return self.words[int(i)]


def bpe_with_first_merges(bpe: BPETokenizer, n_merges: int) -> BPETokenizer:
    """The same tokenizer as if training had stopped after its first n_merges merges.

    Ids: 0 is <|endoftext|>, 1..256 the byte alphabet, and merge i creates token 257 + i,
    so keeping the first n merges and the ids below 257 + n is a smaller valid vocabulary.
    """
    data = json.loads(bpe.tokenizer.to_str())
    n_merges = max(0, min(n_merges, len(data["model"]["merges"])))
    keep_below = bpe.vocab_size - len(data["model"]["merges"]) + n_merges
    data["model"]["merges"] = data["model"]["merges"][:n_merges]
    data["model"]["vocab"] = {tok: i for tok, i in data["model"]["vocab"].items() if i < keep_below}
    return BPETokenizer(Tokenizer.from_str(json.dumps(data)))


def _pieces(text: str):
    """Split text the way the BPE tokenizer does before merging: the special token stands
    alone, the rest goes through the ByteLevel pre-tokenizer (GPT-2's word-ish regex).
    Yields (piece, is_special) where a normal piece is in the ByteLevel alphabet (1 char = 1 byte).
    """
    splitter = pre_tokenizers.ByteLevel(add_prefix_space=False)
    for k, part in enumerate(text.split(END_OF_TEXT)):
        if k:
            yield END_OF_TEXT, True
        if part:
            for piece, _ in splitter.pre_tokenize_str(part):
                yield piece, False


@lru_cache(maxsize=4)
def _word_counts(text: str) -> tuple[tuple[str, int], ...]:
    """(piece, count) for every normal piece of text. Remembered: splitting a 466 KB text
    takes ~0.4 s and is the same for every vocabulary size the lesson compares."""
    return tuple(Counter(p for p, special in _pieces(text) if not special).items())


def _merge_pair(symbols: list[str], pair: tuple[str, str]) -> list[str]:
    """['a', 'a', 'a'] with ('a', 'a') -> ['aa', 'a']: left to right, never overlapping."""
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def replay_merges(bpe: BPETokenizer, text: str, n_merges: int) -> list[TokenSpan]:
    """Tokenise text using only the first n_merges learned merges, in our own Python.

    Inside each piece, the learned merge with the lowest rank that applies is made, then
    the next, until none applies; at n_merges = len(bpe.merges()) this equals bpe.token_spans.
    (Lowest rank first is the same as applying merges 1, 2, 3 ... in order: a merge can only
    create pairs that were learned after it.)

    >>> bpe = BPETokenizer.train("low lower lowest " * 30, vocab_size=262)
    >>> [s.text for s in replay_merges(bpe, "lower", 0)]
    ['l', 'o', 'w', 'e', 'r']
    """
    rank = {pair: r for r, pair in enumerate(bpe.merges()[:max(0, n_merges)])}
    vocab = bpe.tokenizer.get_vocab()
    # byte position -> character index, to give every token its character span
    char_at = [i for i, ch in enumerate(text) for _ in ch.encode("utf-8", "surrogatepass")]
    char_at.append(len(text))
    spans, byte_pos = [], 0
    for piece, special in _pieces(text):
        if special:
            n = len(END_OF_TEXT.encode())
            spans.append(TokenSpan(vocab[END_OF_TEXT], END_OF_TEXT, char_at[byte_pos],
                                   char_at[byte_pos + n - 1] + 1))
            byte_pos += n
            continue
        symbols = list(piece)
        while len(symbols) > 1:
            pairs = [p for p in zip(symbols, symbols[1:]) if p in rank]
            if not pairs:
                break
            symbols = _merge_pair(symbols, min(pairs, key=rank.__getitem__))
        for sym in symbols:
            start, end = byte_pos, byte_pos + len(sym)   # ByteLevel: one symbol char per byte
            first, last = char_at[start], char_at[end - 1] + 1
            spans.append(TokenSpan(vocab[sym], bpe._readable(vocab[sym], text[first:last]),
                                   first, last))
            byte_pos = end
    return spans


def merge_counts(bpe: BPETokenizer, training_text: str) -> list[int]:
    """How often each learned pair stood side by side in the training text just before it
    was merged (earlier merges already made), in merge order.

    >>> bpe = BPETokenizer.train("ab ab ab", vocab_size=258)
    >>> bpe.merges(), merge_counts(bpe, "ab ab ab")
    ([('a', 'b')], [3])
    """
    word_counts = _word_counts(training_text)
    words = [list(w) for w, _ in word_counts]
    freqs = [n for _, n in word_counts]
    where = defaultdict(set)          # pair -> indices of words that may contain it
    for w, symbols in enumerate(words):
        for pair in zip(symbols, symbols[1:]):
            where[pair].add(w)
    counts = []
    for pair in bpe.merges():
        total = 0
        for w in where.pop(pair, ()):
            symbols = words[w]
            found = sum(1 for p in zip(symbols, symbols[1:]) if p == pair)
            if not found:
                continue   # subtle: an earlier merge already used these symbols
            total += found * freqs[w]
            words[w] = _merge_pair(symbols, pair)
            for new_pair in zip(words[w], words[w][1:]):
                where[new_pair].add(w)
        counts.append(total)
    return counts
