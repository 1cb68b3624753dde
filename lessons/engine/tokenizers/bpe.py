"""Byte-level byte-pair encoding, trained live with Hugging Face ``tokenizers``: start from the
256 bytes and repeatedly merge the most frequent pair."""
from __future__ import annotations

import json
from functools import lru_cache

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from .base import BYTE_TOKENS, END_OF_TEXT, TokenSpan


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
