"""Byte-level byte-pair encoding, trained live with Hugging Face ``tokenizers``: start from the
256 bytes and repeatedly merge the most frequent pair.

Ids: 0 is <|endoftext|>, 1 .. 256 the bytes, 257 + i the token merge i made, then any
appended special tokens.

>>> bpe = BPETokenizer.train("low lower lowest " * 30, vocab_size=262)
>>> [bpe.token_label(i) for i in bpe.encode("lower 低")]
['low', 'e', 'r', '␣', '<0xE4>', '<0xBD>', '<0x8E>']
>>> bpe.special_tokens()
{'<|endoftext|>': 0}
"""
from __future__ import annotations

import json
import re
from functools import lru_cache

import tokenizers as hf
from tokenizers import decoders, models, pre_tokenizers, trainers

from .base import END_OF_TEXT, Tokenizer, TokenSpan


LONGEST_RUN = 256   # characters; no real word is this long
_LONG_RUN = re.compile(r"\S{%d,}|\s{%d,}" % (LONGEST_RUN + 1, LONGEST_RUN + 1))


def short_runs(text: str) -> list[str]:
    """The text in pieces, cutting only runs without a space (or of spaces only) that are
    longer than LONGEST_RUN characters; every ordinary word stays whole.

    Why: the BPE trainer works word by word, and one giant "word" (1 MB of letters with no
    space) makes every merge redo the whole of it: 100 KB took 5 s, 1 MB many minutes
    (issue #22). In pieces the cost grows with the text's length only. Training and the
    lesson's merge counts (concepts/tokenization/bpe_replay.py) both cut this way.

    >>> [len(p) for p in short_runs("ab " + "x" * 600 + " cd")]
    [3, 256, 256, 88, 3]
    """
    pieces, done = [], 0
    for match in _LONG_RUN.finditer(text):
        pieces.append(text[done:match.start()])
        run = match.group()
        pieces.extend(run[i:i + LONGEST_RUN] for i in range(0, len(run), LONGEST_RUN))
        done = match.end()
    pieces.append(text[done:])
    return [p for p in pieces if p]


class BPETokenizer(Tokenizer):
    kind = "bpe"

    def __init__(self, tokenizer: hf.Tokenizer, special_tokens=()):
        self.tokenizer = tokenizer       # the Hugging Face tokenizer that does the work
        self._merges: list[tuple[str, str]] | None = None   # read on first use (merges())
        self._size = tokenizer.get_vocab_size()            # asked once: a call into Rust
        super().__init__(special_tokens)

    @classmethod
    def train(cls, texts, vocab_size: int = 512) -> "BPETokenizer":
        """Learn merges from an iterable of strings until the vocabulary has vocab_size tokens."""
        if isinstance(texts, str):
            texts = [texts]
        texts = (piece for text in texts for piece in short_runs(text))
        tok = hf.Tokenizer(models.BPE())
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

    @classmethod
    def from_fields(cls, data: dict) -> "BPETokenizer":
        return cls(hf.Tokenizer.from_str(data["json"]))

    def _fields(self) -> dict:
        return {"json": self.tokenizer.to_str()}

    @property
    def _ordinary_vocab_size(self) -> int:
        return self._size

    def _builtin_special_tokens(self) -> dict[str, int]:
        return {added.content: i for i, added in self.tokenizer.get_added_tokens_decoder().items()
                if added.special}

    def _encode_ordinary(self, text: str) -> list[int]:
        return self.tokenizer.encode(text).ids if text else []

    def _decode_ordinary(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=False)

    def _ordinary_spans(self, text: str) -> list[TokenSpan]:
        if not text:
            return []
        enc = self.tokenizer.encode(text)
        return [TokenSpan(i, self.token_text(i), s, e) for i, (s, e) in zip(enc.ids, enc.offsets)]

    def _ordinary_bytes(self, token_id: int) -> bytes:
        """ByteLevel spells each byte as one printable character: map them back."""
        byte_of = _unicode_to_bytes()
        return bytes(byte_of[c] for c in self.tokenizer.id_to_token(token_id))

    def merges(self) -> list[tuple[str, str]]:
        """The learned merges in the order they were learned (GPT-2 byte-to-char alphabet).
        Read once: the library only hands them out inside its whole JSON dump, and a trained
        tokenizer never changes."""
        if self._merges is None:
            self._merges = [tuple(m) if not isinstance(m, str) else tuple(m.split(" ", 1))
                            for m in json.loads(self.tokenizer.to_str())["model"]["merges"]]
        return list(self._merges)


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
