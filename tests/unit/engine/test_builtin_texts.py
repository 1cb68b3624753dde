"""The built-in training texts: each reads, is in its stated language, and the Chinese book of
poems is whole (408 poems, each a title, an author and verse lines)."""
import re

import pytest

from lessons.engine.corpus import BUILTIN_TEXTS, builtin_text, embedded_corpus


def test_default_text_is_the_embedded_corpus():
    assert next(iter(BUILTIN_TEXTS)) == "python_reference"
    assert builtin_text() == embedded_corpus()


@pytest.mark.parametrize("key", list(BUILTIN_TEXTS))
def test_each_text_is_in_its_language(key):
    text = builtin_text(key)
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    share = han / len(text)
    assert (share > 0.6) if BUILTIN_TEXTS[key].language == "zh" else (share == 0)


def test_poems_are_whole_and_clean():
    poems = builtin_text("poems_zh").strip().split("\n\n")
    assert len(poems) == 313 + 95
    for poem in poems:
        title, author, *verses = poem.split("\n")
        assert title.startswith("《") and author.startswith("作者：") and verses, poem
    assert "\x1b" not in builtin_text("poems_zh")


def test_unknown_text_names_the_known_ones():
    with pytest.raises(KeyError, match="poems_zh"):
        builtin_text("klingon")
