"""The case lists of every suite that goes lesson by lesson, all read from lessons/registry.py
at call time: a new registry entry becomes a case of each suite by itself, and
tests/unit/test_registry_cases.py proves it with a dummy entry.

Who uses what:
- page_cases ......... tests/app/test_every_page.py (AppTest), tests/browser/test_every_page.py
                       (Chromium + the screenshot named by screenshot_name)
- text_box_cases ..... the fault suite (empty, huge and capped text): tests/app/test_faults.py
- payload_cases ...... the security suite's script payload: tests/browser/test_security.py
- prose_cases, notebook_cases   tests/unit/test_prose.py, tests/notebooks/test_notebooks.py
- the load test's pages come from benchmarks/load.py's browse_pages(), the navigation from
  app/main.py (tests/app/test_registry_navigation.py)
"""
from __future__ import annotations

from lessons import registry
from lessons.i18n import LANGUAGES


def page_cases() -> list[tuple[str, str]]:
    """(slug, language) for every page of the navigation in every language."""
    return [(entry.slug, lang) for entry in registry.PAGES for lang in LANGUAGES]


def screenshot_name(slug: str, lang: str) -> str:
    """File name, in tests/artifacts/, of the browser's picture of a page as it opens (the
    lessons' own browser tests save their pages after interacting as <slug>-<lang>.png)."""
    return f"page-{slug}-{lang}.png"


def text_box_cases() -> list[tuple[str, str, str]]:
    """(slug, widget kind, widget key) for every free-text box of every page."""
    return [(entry.slug, box.kind, box.key) for entry in registry.PAGES for box in entry.text_boxes]


def payload_cases() -> list[tuple[str, str]]:
    """(slug, CSS selector of its first text box) for every page that has a text box."""
    return [(entry.slug, entry.text_boxes[0].selector) for entry in registry.PAGES
            if entry.text_boxes]


def prose_cases() -> list[tuple[str, str, str | None]]:
    """(prose topic, title key, summary key or None) for every page."""
    return [(entry.prose, entry.title_key, entry.summary_key) for entry in registry.PAGES]


def notebook_cases() -> list[str]:
    """File names, in notebooks/, of every page's notebooks."""
    return [name for entry in registry.PAGES for name in entry.notebooks]


# ---- a lesson no suite has heard of, to prove each suite's case list comes from the registry --

DUMMY = registry.Lesson("dummy-lesson", ":material/science:", prose="dummy_lesson",
                        notebook="99_dummy_lesson.ipynb",
                        text_boxes=(registry.TextBox("text_area", "dummy_text"),))


def add_to_registry(monkeypatch, entry: registry.Lesson = DUMMY) -> registry.Lesson:
    """Append a lesson to the registry for one test (monkeypatch undoes it)."""
    monkeypatch.setattr(registry, "LESSONS", [*registry.LESSONS, entry])
    monkeypatch.setattr(registry, "PAGES", [*registry.PAGES, entry])
    return entry
