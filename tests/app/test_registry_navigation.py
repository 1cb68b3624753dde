"""A lesson added to lessons/registry.py is in the app's navigation and on the home page with
its title and summary, in both languages, with nothing in app/ to edit (the case lists of the
suites: tests/unit/test_registry_cases.py)."""
from dataclasses import dataclass

import pytest

from lessons import i18n, registry
from tests.cases import DUMMY, add_to_registry
from tests.helpers import open_app

DUMMY_PROSE = {"en": {"title": "Dummy lesson", "summary": "A lesson only this test knows."},
               "zh": {"title": "虚构的课", "summary": "只有这个测试知道的一课。"}}
DUMMY_PAGE = 'import streamlit as st\nst.title("The dummy lesson\'s own page")\n'


@dataclass(frozen=True)
class LessonWithScript(registry.Lesson):
    """A registry entry whose page script lies outside app/views/ (the test's own folder)."""
    script: str = ""

    @property
    def page(self) -> str:
        return self.script


@pytest.fixture
def dummy(monkeypatch, tmp_path):
    script = tmp_path / "dummy_lesson.py"
    script.write_text(DUMMY_PAGE, "utf-8")
    entry = LessonWithScript(**{**DUMMY.__dict__, "script": str(script)})
    real_sections = i18n.topic_sections

    def sections(topic, lang):
        return DUMMY_PROSE[lang] if topic == entry.prose else real_sections(topic, lang)
    monkeypatch.setattr(i18n, "topic_sections", sections)
    return add_to_registry(monkeypatch, entry)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_new_lesson_is_in_the_navigation_and_on_the_home_page(dummy, lang):
    at = open_app(lang)
    assert not at.exception, [e.value for e in at.exception]
    assert DUMMY_PROSE[lang]["title"] in [link.value for link in at.get("page_link")]
    assert DUMMY_PROSE[lang]["summary"] in [c.value for c in at.caption]
    at.switch_page(dummy.page).run()           # only a page in the navigation can be opened
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["The dummy lesson's own page"]
