import pytest
from tokenizers import Tokenizer

from lessons.engine.tokenizers import (BPETokenizer, CharTokenizer, TokenizerError,
                                  tokenizer_from_dict)

SAMPLES = ["", "Hello, world!", "大语言模型如何工作？", "emoji 👩🏽‍💻 and 🇨🇳 flags",
           "mixed שלום мир 你好\tTabs\nnewlines", "\x00 control \x07 chars"]


@pytest.fixture(scope="module")
def bpe(tiny_text):
    return BPETokenizer.train(tiny_text, vocab_size=300)


@pytest.fixture(scope="module")
def char(tiny_text):
    return CharTokenizer.train(tiny_text)


@pytest.mark.parametrize("text", SAMPLES)
def test_round_trip_exact(text, bpe, char):
    for tok in (bpe, char):
        assert tok.decode(tok.encode(text)) == text


def test_char_tokenizer_hand_checked():
    tok = CharTokenizer.train("hello")
    assert tok.chars == "ehlo" and tok.encode("hole") == [1, 3, 2, 0]
    # 'é' is unseen: its two UTF-8 bytes 0xC3 0xA9 become byte tokens
    assert [tok.id_to_token(i) for i in tok.encode("é")] == ["<0xC3>", "<0xA9>"]
    assert tok.vocab_size == 4 + 256


def test_spans_cover_the_text(bpe, char):
    text = "the cat 猫 sat 👩🏽‍💻"
    for tok in (bpe, char):
        spans = tok.token_spans(text)
        assert [s.id for s in spans] == tok.encode(text)
        assert spans[0].start == 0 and spans[-1].end == len(text)
        for s in spans:
            assert 0 <= s.start < s.end <= len(text)


def test_bpe_agrees_with_tokenizers_own_encoding(bpe):
    text = "the dog sat on the 垫子"
    reference = Tokenizer.from_str(bpe.tokenizer.to_str()).encode(text)
    spans = bpe.token_spans(text)
    assert [s.id for s in spans] == reference.ids
    assert [(s.start, s.end) for s in spans] == list(reference.offsets)


def test_bpe_learns_frequent_words(bpe):
    # 256 bytes + <|endoftext|> + merges; the tiny text runs out of repeated pairs just before 300
    assert 257 + 20 < bpe.vocab_size <= 300
    # "the" appears hundreds of times: it must have become one token (with its leading space)
    assert len(bpe.encode(" the")) == 1
    assert bpe.merges()[0] and len(bpe.merges()) > 10


def test_unseen_chinese_character_becomes_three_byte_tokens(bpe):
    # '鲸' never occurs in the training text, so no merge applies to its UTF-8 bytes E9 B2 B8
    spans = bpe.token_spans("鲸")
    assert [s.text for s in spans] == ["<0xE9>", "<0xB2>", "<0xB8>"]
    assert all((s.start, s.end) == (0, 1) for s in spans)
    assert bpe.decode([s.id for s in spans]) == "鲸"


@pytest.mark.parametrize("make", [lambda t: CharTokenizer.train(t), lambda t: BPETokenizer.train(t, 280)])
def test_save_and_restore(make, tiny_text):
    tok = make(tiny_text)
    again = tokenizer_from_dict(tok.to_dict())
    assert again.encode(tiny_text[:200]) == tok.encode(tiny_text[:200])
    assert again.vocab_size == tok.vocab_size


def test_damaged_description_is_refused():
    with pytest.raises(TokenizerError):
        tokenizer_from_dict({"kind": "bpe", "json": "{not json"})
    with pytest.raises(TokenizerError):
        tokenizer_from_dict({"kind": "word"})
