"""A word-level tokenizer: the teaching foil that shows what subwords fix."""
from __future__ import annotations

import re
from collections import Counter

from .base import Tokenizer, TokenSpan


class WordTokenizer(Tokenizer):
    """One token per whitespace-separated word seen in training; any other word is ``<unk>``.

    It exists to show what subwords fix: the vocabulary is huge, a new word is lost, and
    the spaces between words are not kept (decode puts one space back between tokens).

    >>> tok = WordTokenizer.train("the cat and the dog")
    >>> tok.encode("the cow")          # 'the' is the most frequent word; 'cow' is unknown
    [1, 0]
    >>> tok.decode(tok.encode("the  cow"))
    'the <unk>'
    >>> tok.token_kind(0), tok.token_bytes(0)
    ('unknown', b'')
    """
    kind = "word"
    UNKNOWN = "<unk>"

    def __init__(self, words: list[str], special_tokens=()):
        self.words = [self.UNKNOWN] + [w for w in words if w != self.UNKNOWN]
        self.word_to_id = {w: i for i, w in enumerate(self.words)}
        super().__init__(special_tokens)

    @classmethod
    def train(cls, text: str) -> "WordTokenizer":
        counts = Counter(text.split())
        # most frequent first, ties alphabetical, so ids are the same every time
        return cls(sorted(counts, key=lambda w: (-counts[w], w)))

    @classmethod
    def from_fields(cls, data: dict) -> "WordTokenizer":
        return cls([str(w) for w in data["words"]])

    def _fields(self) -> dict:
        return {"words": self.words[1:]}

    @property
    def _ordinary_vocab_size(self) -> int:
        return len(self.words)

    def _ordinary_spans(self, text: str) -> list[TokenSpan]:
        spans = []
        for match in re.finditer(r"\S+", text):
            i = self.word_to_id.get(match.group(), 0)
            spans.append(TokenSpan(i, self.words[i], match.start(), match.end()))
        return spans

    def _decode_ordinary(self, ids: list[int]) -> str:
        return " ".join(self.words[i] for i in ids)

    def decode(self, ids) -> str:
        """Words (and special tokens) with one space between them."""
        return " ".join(self.token_text(i) for i in ids)

    def _ordinary_bytes(self, token_id: int) -> bytes:
        return b"" if token_id == 0 else self.words[token_id].encode("utf-8")

    def is_unknown(self, token_id: int) -> bool:
        return int(token_id) == 0

    def token_text(self, token_id: int) -> str:
        return self.UNKNOWN if self.is_unknown(token_id) else super().token_text(token_id)
