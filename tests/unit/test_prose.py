"""Both languages have the same lesson files and the same keys, none empty, and every
placeholder used in English is also used in Chinese; every registry entry has its prose (title
and summary) and its notebook."""
import re
import string

import pytest

from lessons.i18n import LANGUAGES, parse_sections, t, topic_sections, topics
from tests.cases import notebook_cases, prose_cases
from tests.helpers import ROOT


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


# ---- the registry's prose and notebooks -------------------------------------------------------

@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize("topic, title_key, summary_key", prose_cases())
def test_every_registry_entry_has_its_prose(topic, title_key, summary_key, lang):
    assert topic in topics(lang), f"lessons/prose/{lang}/{topic}.md is missing"
    assert t(title_key, lang).strip()
    if summary_key is not None:
        assert t(summary_key, lang).strip()


@pytest.mark.parametrize("name", notebook_cases())
def test_every_registry_notebook_exists(name):
    assert (ROOT / "notebooks" / name).is_file(), f"notebooks/{name} is missing"


def test_every_notebook_belongs_to_a_registry_entry():
    on_disk = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert on_disk == sorted(notebook_cases())
