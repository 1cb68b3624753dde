"""Tokenizers behind one interface (``Tokenizer`` in base.py): text <-> list of integer ids.

- ``CharTokenizer``: one token per character seen in the training text; an unseen character
  falls back to one token per UTF-8 byte (``<0xE4>`` ...), so any text round-trips exactly, or,
  trained with ``min_count``, rare and unseen characters share one unknown token (□).
- ``BPETokenizer``: byte-level BPE trained live with Hugging Face ``tokenizers``.
- ``WordTokenizer``: one token per whitespace word (the lesson's foil).

Any of them takes special tokens (``MASK``, ``CLS``, ``PAD``, ``END_OF_TEXT``) with
``with_special_tokens``, and survives ``to_dict`` / ``tokenizer_from_dict``.

>>> tok = tokenizer_from_dict(CharTokenizer.train("hi").with_special_tokens(MASK, PAD).to_dict())
>>> tok.special_tokens(), tok.vocab_size
({'[MASK]': 258, '[PAD]': 259}, 260)
"""
from __future__ import annotations

from .base import (BYTE_TOKENS, CLS, END_OF_TEXT, MASK, PAD, Tokenizer, TokenizerError,
                   TokenSpan)
from .bpe import BPETokenizer
from .char import CharTokenizer
from .word import WordTokenizer

__all__ = ["BYTE_TOKENS", "CLS", "END_OF_TEXT", "MASK", "PAD", "Tokenizer", "TokenizerError",
           "TokenSpan", "BPETokenizer", "CharTokenizer", "WordTokenizer", "tokenizer_from_dict",
           "train_tokenizer"]

VARIANTS = {cls.kind: cls for cls in (CharTokenizer, BPETokenizer, WordTokenizer)}


def tokenizer_from_dict(data: dict) -> Tokenizer:
    """Rebuild a tokenizer saved with ``to_dict``; raise TokenizerError on anything else.
    Descriptions written before special tokens existed have no "special_tokens" and load
    unchanged."""
    variant = VARIANTS.get(data.get("kind")) if isinstance(data, dict) else None
    if variant is None:
        kind = data.get("kind") if isinstance(data, dict) else data
        raise TokenizerError(f"unknown tokenizer kind {kind!r}")
    names = data.get("special_tokens", [])
    if not isinstance(names, list):
        raise TokenizerError(f"special_tokens must be a list of names, not {names!r}")
    try:
        return variant.from_fields(data).with_special_tokens(*names)
    except Exception as exc:   # KeyError, TypeError, or the plain Exception tokenizers raises
        raise TokenizerError(f"the tokenizer description is damaged: {exc}") from exc


def train_tokenizer(kind: str, text: str, vocab_size: int = 512, min_count: int = 1) -> Tokenizer:
    """One entry point for both kinds a model trains with (vocab_size only matters for BPE,
    min_count, the fewest sightings a character needs for a token of its own, for char)."""
    trainers = {"char": lambda: CharTokenizer.train(text, min_count=min_count),
                "bpe": lambda: BPETokenizer.train(text, vocab_size)}
    if kind not in trainers:
        raise TokenizerError(f"unknown tokenizer kind {kind!r}; use 'char' or 'bpe'")
    return trainers[kind]()
