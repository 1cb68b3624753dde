"""What every tokenizer shares: one interface (``Tokenizer``), the token span, the byte tokens
and the special tokens.

A variant (char.py, bpe.py, word.py) says how ordinary text becomes ids and back, and what bytes
each id stands for. Everything else is here, once, for all of them: labels, the kind of a token,
and special tokens such as ``[MASK]`` that any tokenizer can take on after training -- appended
after the vocabulary it already has, so a trained model's ids keep their meaning.

>>> from lessons.engine.tokenizers import CharTokenizer
>>> tok = CharTokenizer.train("ab").with_special_tokens(MASK)
>>> tok.special_tokens()                  # 'a', 'b', then 256 byte tokens: [MASK] is id 258
{'[MASK]': 258}
>>> tok.encode("a[MASK]b"), tok.decode([0, 258, 1])
([0, 258, 1], 'a[MASK]b')
"""
from __future__ import annotations

import copy
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace

from lessons.display import byte_name, bytes_text, is_whole_text, visible


BYTE_TOKENS = [byte_name(b) for b in range(256)]
END_OF_TEXT = "<|endoftext|>"   # separates documents (BPE has it from training on)
MASK = "[MASK]"                 # a hidden token a masked model must guess
CLS = "[CLS]"                   # a sequence's summary position for a classifier head
PAD = "[PAD]"                   # filler that makes sequences of a batch the same length


class TokenizerError(ValueError):
    """A tokenizer description that cannot be loaded, or a request it cannot honour."""


@dataclass(frozen=True)
class TokenSpan:
    id: int
    text: str      # what the token stands for (Tokenizer.token_text), whitespace as it is
    start: int     # character offsets into the encoded text: text[start:end]
    end: int


class Tokenizer(ABC):
    """Text <-> ids, one interface for every variant; callers never ask which variant it is.

    A subclass implements ``_ordinary_vocab_size``, ``_ordinary_spans``, ``_decode_ordinary``
    and ``_ordinary_bytes`` for text without appended special tokens, and ``_fields`` for
    ``to_dict``; it may override ``_encode_ordinary`` for speed and ``is_byte_piece``. Its
    ``__init__`` sets up its own vocabulary first, then calls ``super().__init__``.
    """
    kind: str          # the name to_dict stores, e.g. "char"

    def __init__(self, special_tokens=()):
        self._added: dict[str, int] = {}          # appended special token -> id
        self._name_of: dict[int, str] = {}        # every special id -> its name
        self._finder: re.Pattern | None = None    # finds appended names inside text
        self._append(special_tokens)

    # ---- what a variant supplies ---------------------------------------------------------------
    @property
    @abstractmethod
    def _ordinary_vocab_size(self) -> int:
        """How many ids the variant itself has (its built-in special tokens included)."""

    @abstractmethod
    def _ordinary_spans(self, text: str) -> list[TokenSpan]:
        """The spans of text that holds no appended special token."""

    @abstractmethod
    def _decode_ordinary(self, ids: list[int]) -> str:
        """Text for ids none of which is an appended special token."""

    @abstractmethod
    def _ordinary_bytes(self, token_id: int) -> bytes:
        """The bytes of a token that is not special (b"" for one standing for none)."""

    @abstractmethod
    def _fields(self) -> dict:
        """What to_dict stores besides the kind and the appended special tokens."""

    def _builtin_special_tokens(self) -> dict[str, int]:
        """Special tokens the variant has inside its own vocabulary (BPE's <|endoftext|>)."""
        return {}

    def _encode_ordinary(self, text: str) -> list[int]:
        return [span.id for span in self._ordinary_spans(text)]

    # ---- text <-> ids --------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return self._ordinary_vocab_size + len(self._added)

    def encode(self, text: str) -> list[int]:
        """The ids of text; an appended special token typed in the text is one id."""
        if not self._added:
            return self._encode_ordinary(text)
        ids = []
        for start, end, special_id in self._pieces(text):
            if special_id is None:
                ids += self._encode_ordinary(text[start:end])
            else:
                ids.append(special_id)
        return ids

    def token_spans(self, text: str) -> list[TokenSpan]:
        """Every token of text with its id, its text and the characters it covers."""
        if not self._added:
            return self._ordinary_spans(text)
        spans = []
        for start, end, special_id in self._pieces(text):
            if special_id is not None:
                spans.append(TokenSpan(special_id, text[start:end], start, end))
                continue
            spans += [replace(s, start=s.start + start, end=s.end + start)
                      for s in self._ordinary_spans(text[start:end])]
        return spans

    def decode(self, ids) -> str:
        """Text for ids; a special token comes back as its name."""
        ids = [int(i) for i in ids]
        if not self._added:
            return self._decode_ordinary(ids)
        first_added = self._ordinary_vocab_size     # appended ids are this one and above
        out, run = [], []
        for i in ids:
            if i >= first_added and i in self._name_of:
                if run:   # subtle: a run of byte tokens becomes text only as a whole
                    out.append(self._decode_ordinary(run))
                    run = []
                out.append(self._name_of[i])
            else:
                run.append(i)
        if run:
            out.append(self._decode_ordinary(run))
        return "".join(out)

    def _pieces(self, text: str):
        """(start, end, special id or None) for the parts of text between appended names."""
        at = 0
        for match in self._finder.finditer(text) if self._finder else ():
            if match.start() > at:
                yield at, match.start(), None
            yield match.start(), match.end(), self._added[match.group()]
            at = match.end()
        if at < len(text):
            yield at, len(text), None

    # ---- one token -----------------------------------------------------------------------------
    def token_bytes(self, token_id: int) -> bytes:
        """The raw bytes the token stands for; b"" for a special token or an unknown word."""
        return b"" if self.is_special(token_id) else self._ordinary_bytes(int(token_id))

    def token_text(self, token_id: int) -> str:
        """What the token stands for as text: a special token's name, otherwise its bytes with
        any piece of a character as <0xNN> (whitespace as it is; token_label shows it)."""
        if self.is_special(token_id):
            return self._name_of[int(token_id)]
        return bytes_text(self.token_bytes(token_id))

    def token_label(self, token_id: int) -> str:
        """A readable label: token_text with invisible characters shown (␣ ↵ ⇥ ...)."""
        return visible(self.token_text(token_id))

    def is_byte_piece(self, token_id: int) -> bool:
        """Does the token hold bytes that are only part of a character?"""
        raw = self.token_bytes(token_id)
        return bool(raw) and not is_whole_text(raw)

    def is_unknown(self, token_id: int) -> bool:
        """Does the token stand for text the vocabulary could not spell (a word tokenizer's
        <unk>)? Byte fallback and byte-level BPE have none."""
        return False

    def token_kind(self, token_id: int) -> str:
        """'special', 'unknown', 'byte' (part of a character) or 'text'."""
        if self.is_special(token_id):
            return "special"
        if self.is_unknown(token_id):
            return "unknown"
        return "byte" if self.is_byte_piece(token_id) else "text"

    def id_to_token(self, token_id: int) -> str:
        """The same as token_text (the older name)."""
        return self.token_text(token_id)

    # ---- special tokens ------------------------------------------------------------------------
    def special_tokens(self) -> dict[str, int]:
        """{name: id} of every special token, built in or appended, in id order."""
        return {name: i for i, name in sorted(self._name_of.items())}

    def special_token_id(self, name: str) -> int:
        try:
            return self.special_tokens()[name]
        except KeyError:
            raise KeyError(f"no special token {name!r}; this tokenizer has "
                           f"{list(self.special_tokens()) or 'none'}") from None

    def is_special(self, token_id: int) -> bool:
        return int(token_id) in self._name_of

    def with_special_tokens(self, *names: str) -> "Tokenizer":
        """A copy with these special tokens appended after the vocabulary (ids vocab_size,
        vocab_size + 1, ...). A name it already has keeps its id; the original is unchanged,
        so a tokenizer shared between visitors is never altered under them."""
        clone = copy.copy(self)
        clone._added, clone._name_of = dict(self._added), dict(self._name_of)
        clone._append(names)
        return clone

    def _append(self, names) -> None:
        self._name_of.update({i: name for name, i in self._builtin_special_tokens().items()})
        for name in names:
            if not isinstance(name, str) or not name:
                raise TokenizerError(f"a special token is a non-empty string, not {name!r}")
            if name not in self.special_tokens():
                self._added[name] = self.vocab_size
                self._name_of[self._added[name]] = name
        # longest name first, so "[MASK]" inside "[MASK2]" never wins over "[MASK2]"
        names = sorted(self._added, key=len, reverse=True)
        self._finder = re.compile("|".join(map(re.escape, names))) if names else None

    # ---- saving --------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-able description that tokenizer_from_dict turns back into this tokenizer.
        The appended special tokens are listed only when there are some, so a tokenizer
        without them is described exactly as before special tokens existed."""
        data = {"kind": self.kind, **self._fields()}
        if self._added:
            data["special_tokens"] = list(self._added)
        return data
