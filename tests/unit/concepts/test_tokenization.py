"""The tokenisation lesson: views against `tokenizers`' own encoding, the merge replay and merge
counts against a naive recount, the chips' escaping."""
from collections import Counter

import pytest
from tokenizers import Tokenizer, pre_tokenizers

from lessons.concepts.tokenization import compute as lesson
from lessons.concepts.tokenization import figures as lesson_figures
from lessons.concepts.tokenization.bpe_replay import (bpe_with_first_merges, merge_counts,
                                                     replay_merges)
from lessons.engine.tokenizers import BPETokenizer, CharTokenizer, WordTokenizer

TRICKY = ["", "The cat sat on the mat.", "大语言模型如何工作？", "emoji 👩🏽‍💻 and 🇨🇳 flags",
          "mixed שלום мир 你好\tTabs\nnewlines", "\x00 control \x07 chars\x7f",
          "a<|endoftext|>b", "<script>alert(1)</script>", "aaaaaaa  \n\n  end"]


@pytest.fixture(scope="module")
def bpe(tiny_text):
    return BPETokenizer.train(tiny_text, vocab_size=300)


def test_views_agree_with_tokenizers_own_encoding(bpe):
    reference = Tokenizer.from_str(bpe.tokenizer.to_str())
    for text in TRICKY[1:]:
        enc = reference.encode(text)
        views = lesson.token_views(bpe, text)
        assert [v.id for v in views] == enc.ids
        assert [(v.start, v.end) for v in views] == list(enc.offsets)
        # the bytes of all tokens, joined, are the text's UTF-8 bytes
        assert b"".join(v.raw for v in views) == text.encode("utf-8")


@pytest.mark.parametrize("text", TRICKY)
def test_replay_at_last_merge_equals_trained_tokenizer(bpe, text):
    assert replay_merges(bpe, text, len(bpe.merges())) == bpe.token_spans(text)


def test_replay_at_every_step_equals_tokenizer_cut_to_that_many_merges(bpe):
    text = "the cat sat on the log. 猫坐在垫子上。 a dog"
    for k in range(0, len(bpe.merges()) + 1, 3):
        assert replay_merges(bpe, text, k) == bpe_with_first_merges(bpe, k).token_spans(text)
    # no merges: one token per byte; every merge can only shorten the sequence
    lengths = [len(replay_merges(bpe, text, k)) for k in range(len(bpe.merges()) + 1)]
    assert lengths[0] == len(text.encode("utf-8"))
    assert all(a >= b for a, b in zip(lengths, lengths[1:]))


def test_merge_counts_hand_checked():
    text = "ab ab ab abc"
    bpe = BPETokenizer.train(text, vocab_size=258)
    # words: 'ab', 'Ġab' x2, 'Ġabc': the pair (a, b) occurs 4 times
    assert bpe.merges() == [("a", "b")] and merge_counts(bpe, text) == [4]


def test_each_merge_was_the_most_frequent_pair(bpe, tiny_text):
    """Recount every pair naively at each step: the learned pair has the top count."""
    split = pre_tokenizers.ByteLevel(add_prefix_space=False).pre_tokenize_str(tiny_text)
    words = Counter(tuple(piece) for piece, _ in split)
    counts = merge_counts(bpe, tiny_text)
    for (left, right), count in zip(bpe.merges(), counts):
        pairs = Counter()
        for word, freq in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += freq
        assert pairs[(left, right)] == count == max(pairs.values())
        merged = Counter()
        for word, freq in words.items():
            out, i = [], 0
            while i < len(word):
                if word[i:i + 2] == (left, right):
                    out.append(left + right)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += freq
        words = merged


def test_word_tokenizer_loses_unknown_words_and_spaces():
    tok = WordTokenizer.train("the cat and the dog")
    assert tok.words[:2] == ["<unk>", "the"] and tok.vocab_size == 5
    assert tok.encode("the cow") == [1, 0]
    assert tok.decode(tok.encode("the  cat\n")) == "the cat"
    assert not lesson.round_trips(tok, "the  cat")
    assert [(s.start, s.end) for s in tok.token_spans(" the  cow")] == [(1, 4), (6, 9)]


def test_chinese_character_is_grouped_from_its_bytes(bpe):
    views = lesson.token_views(bpe, "a 鲸")       # '鲸' (E9 B2 B8) never occurs in tiny_text
    groups = lesson.group_by_character(views)
    assert [len(g) for g in groups][-1] == 3
    assert [v.label for v in groups[-1]] == ["<0xE9>", "<0xB2>", "<0xB8>"]
    assert all(v.kind == "byte" for v in groups[-1])
    assert lesson.characters_split_into_bytes(views) == 1
    html = lesson_figures.chips_html(views, "a 鲸", "en")
    assert "鲸: one character, 3 byte tokens" in html
    assert "bytes E9 ·" in html and "bytes B8 ·" in html


def test_labels_make_invisible_characters_visible():
    assert lesson.visible("a b\n\t") == "a␣b↵⇥"
    assert lesson.visible("\x00\x07") == "␀␇"
    assert lesson.visible("\u200d\u202e") == "⟨U+200D⟩⟨U+202E⟩"
    assert lesson.bytes_label(b"\xe5\xa4") == "<0xE5><0xA4>"
    assert lesson.bytes_label("ok 大".encode()) == "ok␣大"


def test_chips_escape_the_users_text(bpe):
    text = '<script>alert("x")</script><img src=x onerror=1>'
    page = lesson_figures.chips_html(lesson.token_views(bpe, text), text, "zh")
    assert "<script" not in page and "<img" not in page
    assert "&lt;" in page and "编号" in page   # the hover text is translated


def test_chip_limit_and_display_cap(bpe):
    text = "x" * 50
    page = lesson_figures.chips_html(lesson.token_views(CharTokenizer.train("x"), text), text, limit=7)
    assert page.count("title=") == 7
    assert lesson.cap_text("abcdef", 4) == ("abcd", True) and lesson.cap_text("ab", 4) == ("ab", False)


def test_stats_of_an_empty_text():
    # (the module docstring's example, checked by tests/unit/test_doctests.py, covers "hi 你")
    tok = CharTokenizer.train("hi there")
    assert lesson.text_stats(tok, "") == {"characters": 0, "bytes": 0, "tokens": 0,
                                          "chars_per_token": 0.0}


def test_merge_table_and_compression_curve(bpe, tiny_text):
    counts = merge_counts(bpe, tiny_text)
    table = lesson.merge_table(bpe, counts)
    assert len(table) == len(bpe.merges())
    first = table[0]
    assert first["id"] == 257 and first["step"] == 1 and first["count"] == counts[0]
    assert bpe.tokenizer.id_to_token(first["id"]) == "".join(bpe.merges()[0])
    curve = lesson.compression_curve(bpe, tiny_text[:500], points=5)
    assert curve[0]["merges"] == 0 and curve[-1]["merges"] == len(bpe.merges())
    # no merges: one token per byte; with all merges: what the full tokenizer gives
    assert curve[0]["tokens"] == len(tiny_text[:500].encode())
    assert curve[-1]["tokens"] == len(bpe.encode(tiny_text[:500]))
    assert all(a["tokens"] >= b["tokens"] for a, b in zip(curve, curve[1:]))
    fig = lesson_figures.compression_figure(curve, "zh", {"按字符": (300, 1.0)})
    assert len(fig.data) == 2 and fig.layout.xaxis.type == "log"


def test_a_text_too_small_to_learn_any_merge():
    bpe = BPETokenizer.train("abcdef", vocab_size=300)     # no pair occurs twice
    assert bpe.merges() == [] and merge_counts(bpe, "abcdef") == []
    assert lesson.merge_table(bpe, []) == []
    assert [p["merges"] for p in lesson.compression_curve(bpe, "abc")] == [0]
    assert [s.text for s in replay_merges(bpe, "abc", 5)] == ["a", "b", "c"]
