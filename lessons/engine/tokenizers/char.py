"""One token per character seen in the training text, with a UTF-8 byte fallback.

>>> tok = CharTokenizer.train("hello")
>>> tok.encode("hole")
[1, 3, 2, 0]
>>> tok.decode(tok.encode("hé")) == "hé"   # 'é' was never seen: two byte tokens
True
"""
from __future__ import annotations

from .base import BYTE_TOKENS, TokenSpan


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
