"""What every tokenizer shares: the token span, the byte tokens, the special end-of-text token."""
from __future__ import annotations

from dataclasses import dataclass


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
