"""Tokenizers behind one interface: text <-> list of integer ids.

- ``CharTokenizer``: one token per character seen in the training text; an unseen character
  falls back to one token per UTF-8 byte (``<0xE4>`` ...), so any text round-trips exactly.
- ``BPETokenizer``: byte-level BPE trained live with Hugging Face ``tokenizers``.
- ``WordTokenizer``: one token per whitespace word (the lesson's foil).
"""
from __future__ import annotations

from tokenizers import Tokenizer

from .base import BYTE_TOKENS, END_OF_TEXT, TokenizerError, TokenSpan
from .bpe import BPETokenizer
from .char import CharTokenizer
from .word import WordTokenizer

__all__ = ["BYTE_TOKENS", "END_OF_TEXT", "TokenizerError", "TokenSpan", "BPETokenizer",
           "CharTokenizer", "WordTokenizer", "tokenizer_from_dict", "train_tokenizer"]


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
