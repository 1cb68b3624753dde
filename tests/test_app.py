"""Every page in app/main.py's navigation list runs in both languages without an exception."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lessons import registry

MAIN = str(Path(__file__).resolve().parent.parent / "app" / "main.py")


def open_app(lang="en"):
    at = AppTest.from_file(MAIN, default_timeout=120)
    at.session_state["lang"] = lang
    return at.run()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page", [entry.page for entry in registry.PAGES])
def test_page_runs_without_exception(page, lang):
    at = open_app(lang)
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, "every page has a title"


def test_home_lists_every_lesson_and_the_model():
    at = open_app()
    text = " ".join(m.value for m in at.markdown)
    assert "validation loss" in text
    assert at.selectbox(key="lang").value == "en"


def test_language_switch_translates_the_sidebar():
    at = open_app()
    at.selectbox(key="lang").set_value("zh").run()
    assert not at.exception
    assert at.selectbox(key="lang").label == "语言"
