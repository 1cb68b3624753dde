"""One translation function for every user-facing string, in English and Simplified Chinese.

Strings and lesson prose live in ``lessons/prose/<lang>/<topic>.md``. Each ``## key`` heading
starts a section; its body (trimmed) is the text. ``t("topic.key", lang)`` returns it, with
``str.format`` placeholders filled from keyword arguments.

    ## title
    Tokenisation

A missing key is a bug, so it raises instead of quietly showing something else; a test checks
that both languages have exactly the same keys.

>>> t("app.language", "en")
'Language'
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE = "en"


def parse_sections(markdown: str) -> dict[str, str]:
    """'## a\\nx\\n## b\\ny' -> {'a': 'x', 'b': 'y'}. Text before the first heading is ignored."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in markdown.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return {k: "\n".join(v).strip() for k, v in sections.items()}


@lru_cache(maxsize=None)
def topic_sections(topic: str, lang: str) -> dict[str, str]:
    path = resources.files("lessons").joinpath("prose", lang, f"{topic}.md")
    return parse_sections(path.read_text("utf-8"))


def topics(lang: str = DEFAULT_LANGUAGE) -> list[str]:
    folder = resources.files("lessons").joinpath("prose", lang)
    return sorted(p.name[:-3] for p in folder.iterdir() if p.name.endswith(".md"))


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values) -> str:
    """Look up 'topic.key' in the given language and fill in {placeholders}."""
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    topic, _, name = key.partition(".")
    sections = topic_sections(topic, lang)
    if name not in sections:
        raise KeyError(f"no text for {key!r} in {lang}")
    text = sections[name]
    return text.format(**values) if values else text
