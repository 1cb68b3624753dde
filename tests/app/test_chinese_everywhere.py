"""Chinese on every page (issue 18): with Chinese typed into every text box of every registry
page, no byte label (<0xE7>) is shown where a character could be, on the English model (which
spells Chinese in byte tokens) and on the Chinese one. The reference is the text itself: a
label that names a character's byte is the failure, whatever element carries it."""
from __future__ import annotations

import re

import pytest

from lessons import registry
from lessons.engine.checkpoint import SHIPPED_MODELS, load_shipped_model
from tests.helpers import open_app, open_view

# 鲸 and 猫 are in neither shipped model's vocabulary: byte tokens on both
CHINESE = "床前明月光，疑是地上霜。鲸猫"
# plotly and Streamlit may escape < and > in the JSON they send
BYTE_LABEL = re.compile(r"(<|\\u003c|&lt;)0x[0-9A-Fa-f]{2}(>|\\u003e|&gt;)")
# where bytes are the lesson: the tokenisation page's byte chips and vocabulary table, and
# the embeddings page's table of the whole vocabulary (a row is a token, not a character)
SHOWS_BYTES = {"tokenization", "embeddings"}
# One guessed token, marked right or wrong (the forward pass's logit lens through training): an
# early model guesses lone bytes, and one byte spells no character. As the table's protobuf
# prints it: ✓ or ✗ in octal-escaped UTF-8, then a space.
GRADED_GUESS = ("\\342\\234\\223 ", "\\342\\234\\227 ")


def _pages():
    return [entry for entry in registry.PAGES if entry.text_boxes and entry.slug not in SHOWS_BYTES]


def _byte_labels(at) -> list[str]:
    """Every element of the page whose content names a byte, as 'element type: excerpt'."""
    hits = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        text = str(proto)
        for found in BYTE_LABEL.finditer(text):
            if text[:found.start()].endswith(GRADED_GUESS):
                continue
            hits.append(f"{node.type}: ...{text[max(found.start() - 60, 0):found.end() + 20]}")
            break
    return hits


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


# the English model (Chinese as byte tokens) and every model of another text (the poems)
MODELS = ["classroom"] + [key for key, m in SHIPPED_MODELS.items() if m.text != "python_reference"]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("entry", _pages(), ids=lambda entry: entry.slug)
def test_chinese_typed_everywhere_shows_characters_not_bytes(entry, model):
    at = open_view(entry.slug, "zh", checkpoint=load_shipped_model(model))
    for box in entry.text_boxes:
        getattr(at, box.kind)(key=box.key).set_value(CHINESE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert _byte_labels(at) == []


# ---- which shipped model a session shows -------------------------------------------------------

def _sidebar_model(at) -> str:
    return at.session_state["shipped_model"]


def test_the_chinese_interface_opens_on_the_poems_model():
    at = open_app("zh")
    assert _sidebar_model(at) == "poems"
    assert any("古诗模型" in c.value for c in at.sidebar.caption)
    assert _sidebar_model(open_app("en")) == "classroom"


def test_switching_to_chinese_follows_the_language_unless_the_learner_picked_a_model():
    at = open_app("en")
    at.selectbox(key="lang").set_value("zh").run()
    assert not at.exception and _sidebar_model(at) == "poems"
    at = open_app("en")
    at.selectbox(key="shipped_model").set_value("masked").run()
    at.selectbox(key="lang").set_value("zh").run()
    assert not at.exception and _sidebar_model(at) == "masked"     # their pick stands
