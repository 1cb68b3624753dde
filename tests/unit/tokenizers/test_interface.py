"""One interface for every tokenizer: bytes, labels and kinds checked against Python's own UTF-8
codec and Hugging Face `tokenizers`' decoding, never against our own helpers alone."""
import unicodedata

import pytest
from tokenizers import Tokenizer as HFTokenizer

from lessons.engine.tokenizers import (BYTE_TOKENS, END_OF_TEXT, VARIANTS, BPETokenizer,
                                       CharTokenizer, Tokenizer, WordTokenizer)

TEXTS = ["the cat sat on the mat.", "猫坐在垫子上。鲸", "emoji 👩🏽‍💻 and 🇨🇳", "tab\there\nnew $ ~",
         "\x00 nul \u200d zwj"]


@pytest.fixture(scope="module")
def trained(tiny_text):
    return {"char": CharTokenizer.train(tiny_text), "bpe": BPETokenizer.train(tiny_text, 300),
            "word": WordTokenizer.train(tiny_text)}


def test_every_variant_is_a_tokenizer_and_the_base_is_abstract(trained):
    assert set(VARIANTS) == {"char", "bpe", "word"}
    assert all(isinstance(tok, Tokenizer) for tok in trained.values())
    with pytest.raises(TypeError):
        Tokenizer()

    class Half(Tokenizer):            # forgets most of the interface: cannot be made
        kind = "half"

        def _fields(self):
            return {}
    with pytest.raises(TypeError):
        Half()


@pytest.mark.parametrize("kind", ["char", "bpe"])
@pytest.mark.parametrize("text", TEXTS)
def test_token_bytes_spell_the_texts_utf8(trained, kind, text):
    """Every character survives (byte fallback / byte-level BPE): the tokens' bytes, joined,
    are exactly what Python's UTF-8 encoder makes of the text."""
    tok = trained[kind]
    assert b"".join(tok.token_bytes(i) for i in tok.encode(text)) == text.encode("utf-8")


def test_bpe_token_bytes_agree_with_the_librarys_decoding(trained):
    bpe = trained["bpe"]
    reference = HFTokenizer.from_str(bpe.tokenizer.to_str())
    pieces = 0
    for i in range(bpe.vocab_size):
        theirs = reference.decode([i], skip_special_tokens=False)
        if bpe.is_special(i):
            assert theirs == bpe.token_text(i) == END_OF_TEXT and bpe.token_bytes(i) == b""
        elif "\ufffd" in theirs:      # the library can only show a piece of a character as �
            pieces += 1
            assert bpe.is_byte_piece(i) and bpe.token_kind(i) == "byte"
            assert "<0x" in bpe.token_label(i) and "\ufffd" not in bpe.token_label(i)
        else:
            assert bpe.token_bytes(i).decode("utf-8") == theirs == bpe.token_text(i)
            assert not bpe.is_byte_piece(i) and bpe.token_kind(i) == "text"
    assert pieces >= 128          # at least the bytes 0x80..0xFF, alone, are pieces


def test_char_byte_fallback_tokens(trained):
    char = trained["char"]
    fallback = [i for i in range(char.vocab_size) if char.is_byte_piece(i)]
    assert len(fallback) == 256 and fallback == list(range(len(char.chars), len(char.chars) + 256))
    assert [char.token_label(i) for i in fallback] == BYTE_TOKENS
    assert [char.token_bytes(i) for i in fallback] == [bytes([b]) for b in range(256)]
    # a known character is itself; even an unseen ASCII character is spelt by a byte token
    assert char.token_label(char.encode("c")[0]) == "c"
    assert [char.token_label(i) for i in char.encode("$")] == ["<0x24>"]


def test_word_unknown_token(trained):
    word = trained["word"]
    unk = word.encode("zebra")
    assert unk == [0] and word.is_unknown(0) and word.token_kind(0) == "unknown"
    assert word.token_bytes(0) == b"" and word.token_label(0) == "<unk>"
    the = word.encode("the")[0]
    assert word.token_bytes(the) == b"the" and word.token_kind(the) == "text"


def test_char_unknown_token_for_rare_characters():
    """min_count: characters seen fewer times share one unknown token (no byte tokens at all);
    counts checked by hand: 春 x3, 风 x2, 花 x1, ， x2."""
    from lessons.engine.tokenizers import tokenizer_from_dict
    tok = CharTokenizer.train("春风，春风，春花", min_count=2)
    assert tok.chars == "".join(sorted("春风，")) and tok.vocab_size == 3 + 1
    unk = tok.vocab_size - 1
    assert tok.encode("花月春") == [unk, unk, tok.encode("春")[0]]
    assert tok.decode(tok.encode("花，春")) == "□，春"
    assert tok.is_unknown(unk) and tok.token_kind(unk) == "unknown" and tok.token_bytes(unk) == b""
    assert not any(tok.is_byte_piece(i) for i in range(tok.vocab_size))
    assert [s.text for s in tok.token_spans("花春")] == ["□", "春"]
    again = tokenizer_from_dict(tok.to_dict())
    assert again.encode("花月春") == tok.encode("花月春") and again.vocab_size == 4
    # min_count 1 is the tokenizer as before: no unknown token, byte fallback, same description
    assert CharTokenizer.train("春风", min_count=1).to_dict() == CharTokenizer.train("春风").to_dict()


@pytest.mark.parametrize("kind", ["char", "bpe", "word"])
def test_labels_are_the_bytes_made_visible(trained, kind):
    """The label of a token that is whole text is its UTF-8 bytes decoded, with whitespace as
    the one glyph set and what str.isprintable calls unprintable spelt out -- checked with
    the standard library, not with lessons.display."""
    tok = trained[kind]
    for i in range(tok.vocab_size):
        if tok.token_kind(i) == "text":
            text = tok.token_bytes(i).decode("utf-8")
            assert tok.token_label(i) == "".join(_shown(c) for c in text)


def _shown(c: str) -> str:
    glyphs = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}
    if c in glyphs:
        return glyphs[c]
    if c.isprintable() or unicodedata.category(c) == "Zs":
        return c
    return chr(0x2400 + ord(c)) if ord(c) < 0x20 else f"⟨U+{ord(c):04X}⟩"


@pytest.mark.parametrize("kind", ["char", "bpe", "word"])
def test_spans_carry_the_token_text(trained, kind):
    tok = trained[kind]
    for text in TEXTS:
        spans = tok.token_spans(text)
        assert [s.id for s in spans] == tok.encode(text)
        assert [s.text for s in spans] == [tok.token_text(s.id) for s in spans]
        assert tok.id_to_token(spans[0].id) == spans[0].text    # the older name still answers
