"""A word-level tokenizer: the teaching foil that shows what subwords fix."""
from __future__ import annotations

import re
from collections import Counter

from .base import TokenSpan


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
