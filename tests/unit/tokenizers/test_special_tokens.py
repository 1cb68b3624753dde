"""Special tokens on any tokenizer: appended after the vocabulary, one id when typed, back to
their name, kept by to_dict and checkpoints. BPE's are checked against Hugging Face
`tokenizers` adding the same special tokens itself."""
import json

import pytest
import torch
from safetensors import safe_open
from tokenizers import AddedToken
from tokenizers import Tokenizer as HFTokenizer

from lessons.engine.checkpoint import checkpoint_bytes, load_checkpoint
from lessons.engine.config import ModelConfig
from lessons.engine.model import GPT
from lessons.engine.tokenizers import (CLS, END_OF_TEXT, MASK, PAD, BPETokenizer, CharTokenizer,
                                       TokenizerError, WordTokenizer, tokenizer_from_dict)
from tests.conftest import ROOT

SHIPPED = ROOT / "lessons" / "assets" / "classroom.safetensors"
MAKERS = {"char": lambda text: CharTokenizer.train(text),
          "bpe": lambda text: BPETokenizer.train(text, 300),
          "word": lambda text: WordTokenizer.train(text)}


@pytest.fixture(scope="module", params=list(MAKERS))
def plain(request, tiny_text):
    return MAKERS[request.param](tiny_text)


@pytest.fixture(scope="module")
def special(plain):
    return plain.with_special_tokens(MASK, CLS, PAD)


def test_appended_after_the_vocabulary_and_old_ids_unchanged(plain, special, tiny_text):
    n = plain.vocab_size
    assert special.vocab_size == n + 3
    assert [special.special_token_id(name) for name in (MASK, CLS, PAD)] == [n, n + 1, n + 2]
    assert plain.vocab_size == n and not plain.is_special(n)     # the original is untouched
    sample = tiny_text[:300]
    assert special.encode(sample) == plain.encode(sample)         # a trained model's ids hold
    assert [special.token_label(i) for i in range(n)] == [plain.token_label(i) for i in range(n)]


def test_typed_in_text_it_is_one_token(plain, special):
    text = "the cat [MASK] on [CLS]the mat[PAD][PAD]"
    ids = special.encode(text)
    m, c, p = (special.special_token_id(name) for name in (MASK, CLS, PAD))
    # reference: the ordinary pieces between the names, encoded by the plain tokenizer
    assert ids == (plain.encode("the cat ") + [m] + plain.encode(" on ") + [c]
                   + plain.encode("the mat") + [p, p])
    spans = special.token_spans(text)
    assert [s.id for s in spans] == ids
    mask_span = next(s for s in spans if s.id == m)
    assert (mask_span.start, mask_span.end) == (text.index(MASK), text.index(MASK) + len(MASK))
    assert text[mask_span.start:mask_span.end] == mask_span.text == MASK


def test_each_one_reads_as_its_name_and_stands_for_no_bytes(special):
    for name, i in special.special_tokens().items():
        assert special.is_special(i) and special.token_kind(i) == "special"
        assert special.token_bytes(i) == b"" and special.token_label(i) == name
        assert special.decode([i]) == name
    assert not special.is_special(0) or special.token_text(0) == END_OF_TEXT


@pytest.mark.parametrize("kind", ["char", "bpe"])     # a word tokenizer keeps no spaces
def test_round_trip_with_special_tokens(kind, tiny_text):
    tok = MAKERS[kind](tiny_text).with_special_tokens(MASK, CLS, PAD)
    for text in ["a[MASK]b", "猫[MASK]鲸[PAD]", "[CLS]", "é[MASK]é", "[MASK", "x[PAD]\n"]:
        assert tok.decode(tok.encode(text)) == text


def test_word_tokenizer_treats_them_as_words(tiny_text):
    word = WordTokenizer.train(tiny_text).with_special_tokens(MASK)
    m = word.special_token_id(MASK)
    assert word.encode("the[MASK]cat") == [word.encode("the")[0], m, word.encode("cat")[0]]
    assert word.decode(word.encode("the [MASK] cat")) == "the [MASK] cat"


def test_bpe_agrees_with_the_library_adding_the_same_tokens(tiny_text):
    ours = BPETokenizer.train(tiny_text, 300).with_special_tokens(MASK, CLS)
    theirs = HFTokenizer.from_str(ours.tokenizer.to_str())
    theirs.add_special_tokens([AddedToken(MASK, special=True), AddedToken(CLS, special=True)])
    for text in ["the cat [MASK] sat", "[CLS]猫坐在[MASK]上。", "[MASK][MASK]x<|endoftext|>[CLS]"]:
        enc = theirs.encode(text)
        spans = ours.token_spans(text)
        assert [s.id for s in spans] == enc.ids
        assert [(s.start, s.end) for s in spans] == list(enc.offsets)
        assert ours.decode(enc.ids) == theirs.decode(enc.ids, skip_special_tokens=False)
    assert ours.vocab_size == theirs.get_vocab_size()


def test_a_name_already_there_keeps_its_id(tiny_text):
    bpe = BPETokenizer.train(tiny_text, 300)
    assert bpe.special_tokens() == {END_OF_TEXT: 0}
    again = bpe.with_special_tokens(END_OF_TEXT, MASK, MASK)
    assert again.special_tokens() == {END_OF_TEXT: 0, MASK: bpe.vocab_size}
    char = CharTokenizer.train("ab").with_special_tokens(END_OF_TEXT)   # where it is used
    assert char.encode("a<|endoftext|>b") == [0, 258, 1]


def test_the_longest_name_wins():
    tok = CharTokenizer.train("ab").with_special_tokens("[M]", "[M]2")
    assert tok.encode("[M]2[M]") == [259, 258]


def test_missing_and_bad_names():
    tok = CharTokenizer.train("ab")
    with pytest.raises(KeyError, match="MASK"):
        tok.special_token_id(MASK)
    with pytest.raises(TokenizerError):
        tok.with_special_tokens("")
    with pytest.raises(TokenizerError):
        tokenizer_from_dict({**tok.to_dict(), "special_tokens": "[MASK]"})


def test_to_dict_keeps_them_and_the_old_format_is_unchanged(plain, special):
    assert "special_tokens" not in plain.to_dict()        # described exactly as before
    again = tokenizer_from_dict(json.loads(json.dumps(special.to_dict())))
    assert type(again) is type(special)
    assert again.special_tokens() == special.special_tokens()
    text = "the cat[MASK] sat [PAD]"
    assert again.encode(text) == special.encode(text) and again.vocab_size == special.vocab_size


def test_older_descriptions_load_unchanged(tiny_text):
    old_char = {"kind": "char", "chars": "ab"}            # before byte_fallback was stored
    assert tokenizer_from_dict(old_char).vocab_size == 2 + 256
    bpe = BPETokenizer.train(tiny_text, 300)
    old_bpe = {"kind": "bpe", "json": bpe.tokenizer.to_str()}
    assert tokenizer_from_dict(old_bpe).encode(tiny_text[:200]) == bpe.encode(tiny_text[:200])


def test_the_shipped_model_loads_and_describes_itself_the_same():
    with safe_open(str(SHIPPED), "pt") as f:
        stored = json.loads(f.metadata()["tokenizer"])
    checkpoint = load_checkpoint(str(SHIPPED))
    assert checkpoint.tokenizer.to_dict() == stored
    assert checkpoint.tokenizer.special_tokens() == {}
    assert checkpoint.tokenizer.vocab_size == checkpoint.model.config.vocab_size


def test_a_checkpoint_keeps_them(tiny_text):
    tok = CharTokenizer.train(tiny_text).with_special_tokens(MASK)
    torch.manual_seed(0)
    model = GPT(ModelConfig(vocab_size=tok.vocab_size, block_size=8, n_layer=1, n_head=1,
                            n_embd=8))
    loaded = load_checkpoint(checkpoint_bytes(model, tok)).tokenizer
    assert loaded.special_tokens() == {MASK: tok.vocab_size - 1}
    assert loaded.encode("the [MASK].") == tok.encode("the [MASK].")
