"""One token per character seen in the training text, with a UTF-8 byte fallback.

Ids: 0 .. len(chars) - 1 are the characters in sorted order, the next 256 the byte tokens
<0x00> .. <0xFF> (with byte fallback), then any appended special tokens.

Trained with ``min_count`` above 1, it keeps only the characters seen at least that often and
gives every other character one shared *unknown* token, shown as □ (the mark editions of old
texts print for a lost character), instead of byte tokens. On a small text with many rare
characters (the Chinese poems) this is what lets a model generalise: a character seen once
cannot teach it anything, but "some rare character" is a thing it can learn to expect.

>>> tok = CharTokenizer.train("hello")
>>> tok.encode("hole")
[1, 3, 2, 0]
>>> tok.decode(tok.encode("hé")) == "hé"   # 'é' was never seen: two byte tokens
True
>>> [tok.token_label(i) for i in tok.encode("hé")]
['h', '<0xC3>', '<0xA9>']
>>> rare = CharTokenizer.train("aab", min_count=2)     # 'b' is seen once: unknown
>>> rare.encode("abc"), rare.decode(rare.encode("abc")), rare.vocab_size
([0, 1, 1], 'a□□', 2)
>>> rare.token_kind(1)
'unknown'
"""
from __future__ import annotations

from collections import Counter

from .base import BYTE_TOKENS, Tokenizer, TokenSpan


class CharTokenizer(Tokenizer):
    kind = "char"

    UNKNOWN = "□"

    def __init__(self, chars: str, byte_fallback: bool = True, special_tokens=(),
                 unknown: bool = False):
        self.chars = chars
        # an unknown token replaces the byte fallback: one or the other spells what is missing
        self.unknown = unknown
        self.byte_fallback = byte_fallback and not unknown
        self.char_to_id = {c: i for i, c in enumerate(chars)}
        self.byte_offset = len(chars)   # id of <0x00>, or of the unknown token
        super().__init__(special_tokens)

    @classmethod
    def train(cls, text: str, byte_fallback: bool = True, min_count: int = 1) -> "CharTokenizer":
        """Every character of ``text``; with ``min_count`` > 1 only those seen that often,
        the rest sharing the unknown token."""
        if min_count <= 1:
            return cls("".join(sorted(set(text))), byte_fallback)
        counts = Counter(text)
        kept = sorted(ch for ch, n in counts.items() if n >= min_count)
        return cls("".join(kept), byte_fallback=False, unknown=True)

    @classmethod
    def from_fields(cls, data: dict) -> "CharTokenizer":
        return cls(str(data["chars"]), bool(data.get("byte_fallback", True)),
                   unknown=bool(data.get("unknown", False)))

    def _fields(self) -> dict:
        fields = {"chars": self.chars, "byte_fallback": self.byte_fallback}
        if self.unknown:   # only when set, so older descriptions stay exactly as they were
            fields["unknown"] = True
        return fields

    @property
    def _ordinary_vocab_size(self) -> int:
        return len(self.chars) + (256 if self.byte_fallback else 0) + (1 if self.unknown else 0)

    def is_unknown(self, token_id: int) -> bool:
        return self.unknown and int(token_id) == self.byte_offset

    def _ordinary_spans(self, text: str) -> list[TokenSpan]:
        return [TokenSpan(i, self.token_text(i), at, at + 1)
                for at, ch in enumerate(text) for i in self._ids_of(ch)]

    def _encode_ordinary(self, text: str) -> list[int]:
        """The ids of the spans, without making a span per character: a training run encodes
        its whole text here, and half a million span objects took over a second of the
        server's one Python thread."""
        ids, lookup = [], self.char_to_id
        for ch in text:
            i = lookup.get(ch)
            if i is not None:
                ids.append(i)
            else:
                ids.extend(self._ids_of(ch))
        return ids

    def _ids_of(self, ch: str) -> list[int]:
        """[id] of a known character; an unknown one as the unknown token or its UTF-8 byte
        tokens."""
        if ch in self.char_to_id:
            return [self.char_to_id[ch]]
        if self.unknown:
            return [self.byte_offset]
        if not self.byte_fallback:
            raise ValueError(f"character {ch!r} is not in the vocabulary")
        return [self.byte_offset + b for b in ch.encode("utf-8")]

    def _decode_ordinary(self, ids: list[int]) -> str:
        out, pending = [], bytearray()
        for i in ids:
            if self._is_fallback(i):
                pending.append(i - self.byte_offset)
                continue
            if pending:   # subtle: a run of byte tokens becomes text only as a whole
                out.append(pending.decode("utf-8", errors="replace"))
                pending = bytearray()
            out.append(self.UNKNOWN if self.is_unknown(i) else self.chars[i])
        if pending:
            out.append(pending.decode("utf-8", errors="replace"))
        return "".join(out)

    def _ordinary_bytes(self, token_id: int) -> bytes:
        if self.is_unknown(token_id):
            return b""    # stands for whichever rare character it replaced
        if self._is_fallback(token_id):
            return bytes([token_id - self.byte_offset])
        return self.chars[token_id].encode("utf-8")

    def _is_fallback(self, token_id: int) -> bool:
        return self.byte_fallback and self.byte_offset <= token_id < self.byte_offset + 256

    def is_byte_piece(self, token_id: int) -> bool:
        """A byte-fallback token spells a byte, never a character, even a one-byte one: it is
        only used for a character the vocabulary lacks, so its 256 ids are never trained."""
        return self._is_fallback(int(token_id))

    def token_text(self, token_id: int) -> str:
        """A byte-fallback token reads as <0xNN> even for an ASCII byte: its bytes b'A' would
        read 'A', and then two different ids would carry the same label."""
        token_id = int(token_id)
        if token_id < self.byte_offset:
            return self.chars[token_id]
        if self.is_unknown(token_id):
            return self.UNKNOWN
        if self._is_fallback(token_id):
            return BYTE_TOKENS[token_id - self.byte_offset]
        return super().token_text(token_id)
