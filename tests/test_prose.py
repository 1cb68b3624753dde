"""Both languages have the same lesson files and the same keys, none empty, and every
placeholder used in English is also used in Chinese."""
import re
import string

import pytest

from lessons.i18n import LANGUAGES, parse_sections, t, topic_sections, topics


def test_parse_sections_worked_example():
    assert parse_sections("intro\n## a\nx\n\n## b\ny\nz") == {"a": "x", "b": "y\nz"}


def test_same_topics_in_every_language():
    assert topics("en") == topics("zh")
    assert {"app", "tokenization", "embeddings", "attention", "training", "softmax"} <= set(topics("en"))


@pytest.mark.parametrize("topic", topics("en"))
def test_same_keys_and_placeholders(topic):
    en, zh = topic_sections(topic, "en"), topic_sections(topic, "zh")
    assert set(en) == set(zh), set(en) ^ set(zh)
    fields = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}
    for key in en:
        assert en[key] and zh[key], f"{topic}.{key} is empty"
        assert fields(en[key]) == fields(zh[key]), f"{topic}.{key} placeholders differ"


def test_chinese_text_is_chinese():
    assert re.search(r"[\u4e00-\u9fff]", t("app.home_intro", "zh"))
    assert t("app.language", "zh") == "语言" and set(LANGUAGES) == {"en", "zh"}


def test_missing_key_raises():
    with pytest.raises(KeyError):
        t("app.no_such_key")
