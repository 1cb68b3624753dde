"""The one visual vocabulary (lessons.display) and the four places that show tokens with it:
the tokenisation chips, the embeddings table, the attention labels, the softmax bars."""
import pytest

from lessons import display
from lessons.concepts.attention import compute as attention
from lessons.concepts.embeddings import compute as embeddings
from lessons.concepts.softmax import compute as softmax
from lessons.concepts.tokenization import compute as tokenization
from lessons.concepts.tokenization import figures as tokenization_figures
from lessons.engine.tokenizers import MASK, BPETokenizer, CharTokenizer, WordTokenizer


@pytest.fixture(scope="module")
def trained(tiny_text):
    return {"char": CharTokenizer.train(tiny_text).with_special_tokens(MASK),
            "bpe": BPETokenizer.train(tiny_text, 300),
            "word": WordTokenizer.train(tiny_text)}


def test_one_glyph_per_invisible_character():
    # hand-checked against the Unicode charts: U+2400 + code is the control picture
    assert display.visible(" \n\t\r") == "␣↵⇥␍"
    assert display.visible("\x00\x1b\x7f") == "␀␛⟨U+007F⟩"
    assert display.visible("a\u200db\u200fc\u2028") == "a⟨U+200D⟩b⟨U+200F⟩c⟨U+2028⟩"
    assert display.visible("猫 cat") == "猫␣cat"


def test_bytes_label_marks_only_the_pieces_of_a_character():
    cat = "猫".encode("utf-8")                                  # E7 8C AB
    assert display.bytes_label(cat) == "猫"
    assert display.bytes_label(cat[:1]) == "<0xE7>"
    assert display.bytes_label(b" a" + cat[:2]) == "␣a<0xE7><0x8C>"
    assert display.bytes_label(cat[2:] + "好".encode()) == "<0xAB>好"
    assert display.is_whole_text(cat) and not display.is_whole_text(cat[1:])


def test_a_chinese_character_split_into_three_bpe_bytes_is_one_group(trained):
    bpe, text = trained["bpe"], "a 鲸"                     # '鲸' never occurs in tiny_text
    spans = bpe.token_spans(text)
    groups = display.group_by_character(spans)
    assert [len(g) for g in groups] == [1, 1, 3]
    whale = groups[-1]
    # reference: Python's own UTF-8 bytes of the character, one byte per token
    assert [bpe.token_bytes(s.id) for s in whale] == [bytes([b]) for b in "鲸".encode("utf-8")]
    assert [bpe.token_label(s.id) for s in whale] == ["<0xE9>", "<0xB2>", "<0xB8>"]
    assert display.group_label(whale, text) == "鲸"
    chips = tokenization_figures.chips_html(tokenization.token_views(bpe, text), text, "zh")
    assert chips.count("鲸") == 2                   # the group's caption and its hover text


def test_the_char_tokenizer_groups_its_fallback_bytes_too(trained):
    char, text = trained["char"], "猫鲸"                   # 猫 is known, 鲸 is not
    groups = display.group_by_character(tokenization.token_views(char, text))
    assert [[v.kind for v in g] for g in groups] == [["text"], ["byte"] * 3]
    assert display.group_label(groups[1], text) == "鲸"
    assert tokenization.characters_split_into_bytes(tokenization.token_views(char, text)) == 1


@pytest.mark.parametrize("kind", ["char", "bpe", "word"])
def test_the_four_places_show_a_token_the_same_way(trained, kind):
    """One label a token: the chips, the attention axes, the softmax bars and the embeddings
    table agree on every token that is whole text; a byte token that is only part of a
    character (which a bar or a table row can show only as bytes) is labelled in a sequence by
    the character it helps spell and its place in it (鲸·2/3)."""
    tok = trained[kind]
    text = "the cat\nsat [MASK] 猫鲸\t$"
    views = tokenization.token_views(tok, text)
    ids, labels, _ = attention.tokens_for(tok, text, max_tokens=100)
    table = embeddings.token_table(tok)
    assert [v.id for v in views] == ids
    assert labels == display.position_labels(tok, ids)
    grouped = set()
    for group in display.group_by_character(views):
        if len(group) > 1 or group[0].kind == "byte":   # reference: the text its span covers
            spelt = display.visible(text[group[0].start:group[-1].end])
            start = views.index(group[0])
            for k in range(len(group)):
                assert labels[start + k] == f"{spelt}·{k + 1}/{len(group)}"
                grouped.add(start + k)
    for i, (view, label) in enumerate(zip(views, labels)):
        if i in grouped:
            continue
        assert label == view.label == softmax.token_label(tok, view.id)
        # the table adds "#id" to a label it has seen before (plotly would merge the two)
        assert label == table[view.id].label.removesuffix(f"#{view.id}")
    assert not any(label.startswith("<0x") for label in labels)
    if kind != "word":
        assert "↵" in labels and not any("⏎" in label for label in labels)
    if kind == "char":                            # 鲸 is not in tiny_text: three byte tokens
        assert labels[-5:] == ["鲸·1/3", "鲸·2/3", "鲸·3/3", "⇥·1/1", "$·1/1"]


def test_no_other_glyph_for_a_newline_remains():
    """The old second glyph for a newline is gone from code, views and notebooks."""
    from tests.conftest import ROOT
    hits = [str(path.relative_to(ROOT)) for folder in ("lessons", "app", "notebooks")
            for path in (ROOT / folder).rglob("*") if path.suffix in (".py", ".ipynb")
            and "⏎" in path.read_text(encoding="utf-8")]
    assert hits == []
