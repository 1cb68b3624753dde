"""Issue #22, item 4: a text without spaces must not keep the server busy for minutes. BPE
training and the lesson's merge counts now cost time in proportion to the text's length; the
counts still equal a brute-force replay of the merges."""
from __future__ import annotations

import random
import time

import pytest

from lessons.concepts.tokenization.bpe_replay import _word_counts, merge_counts
from lessons.concepts.tokenization.compute import bpe_lesson
from lessons.engine.tokenizers import BPETokenizer
from lessons.engine.tokenizers.bpe import LONGEST_RUN, short_runs


def _random_letters(n: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def brute_force_counts(bpe: BPETokenizer, text: str) -> list[int]:
    """Every merge, in order, applied to every piece by scanning it from the left."""
    words = [(list(word), n) for word, n in _word_counts(text, tuple(bpe.special_tokens()))]
    counts = []
    for left, right in bpe.merges():
        total = 0
        for k, (symbols, n) in enumerate(words):
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and symbols[i] == left and symbols[i + 1] == right:
                    out.append(left + right)
                    total += n
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            words[k] = (out, n)
        counts.append(total)
    return counts


@pytest.mark.parametrize("text", [
    "low lower lowest " * 40,
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaa aaaa aaa",           # overlapping pairs
    _random_letters(3_000),                              # one long run, cut into pieces
    "猫坐在垫子上。狗坐在木头上。" * 50,
    "x" * 1_000 + " " * 700 + "y" * 300,
])
def test_merge_counts_equal_a_brute_force_replay(text):
    bpe = BPETokenizer.train(text, vocab_size=300)
    assert merge_counts(bpe, text) == brute_force_counts(bpe, text)


def test_short_runs_keep_the_text_and_every_ordinary_word():
    text = "the cat " + _random_letters(1_000) + "  sat\\n" + " " * 600 + "on the mat"
    pieces = short_runs(text)
    assert "".join(pieces) == text
    assert all(len(run) <= LONGEST_RUN for p in pieces for run in p.split())
    assert pieces[0].startswith("the cat ") and pieces[-1].endswith("on the mat")


def test_a_long_text_without_spaces_is_quick():
    """300 KB of random letters with no space: before, the merge counter alone took 46 s per
    100 KB and the trainer 5 s per 100 KB, growing faster than the text."""
    text = _random_letters(300_000)
    started = time.perf_counter()
    lesson = bpe_lesson(text, 512)
    assert time.perf_counter() - started < 30
    assert len(lesson.merge_counts) == 512 - 257 and lesson.merge_counts[0] > 0
