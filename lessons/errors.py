"""Errors a learner reads, in the learner's language.

Every message a page may show for bad input (a text, an upload, a setting) is a section of
``lessons/prose/<lang>/errors.md``. An error carries that section's key and the values for its
placeholders, so ``str(exc)`` is the English text (logs, the command line, tests) and a page
shows ``exc.in_language("zh")``.

>>> err = LessonError("file_empty")
>>> str(err)
'the file is empty'
>>> err.in_language("zh")
'文件是空的'
"""
from __future__ import annotations

from .i18n import DEFAULT_LANGUAGE, t


class LessonError(ValueError):
    def __init__(self, key: str, **values):
        self.key = key
        self.values = values
        super().__init__(self.in_language(DEFAULT_LANGUAGE))

    def in_language(self, lang: str) -> str:
        return t(f"errors.{self.key}", lang, **self.values)


def explain(exc: Exception, lang: str) -> str:
    """The message of any exception, translated when it is one of ours."""
    return exc.in_language(lang) if isinstance(exc, LessonError) else str(exc)
