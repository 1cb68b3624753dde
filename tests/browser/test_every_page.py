"""Every page of the registry opens in real headless Chromium, in both languages, with no
exception on the page, no console error, no widget label cut off and no serious or critical
accessibility problem (axe-core), in normal mode and, on three pages, in projector mode; its
screenshot lands in tests/artifacts/. The sidebar's language box switches the app to Chinese."""
import pytest

from lessons import registry
from tests.browser.helpers import (ARTIFACTS, AXE, full_screenshot, page_problems,
                                   serious_accessibility_problems, truncated_labels, wait_for_app)
from tests.cases import page_cases, screenshot_name

PROJECTOR = {"en": "Projector mode", "zh": "投影模式"}
# Projector mode's CSS grows every page alike: checked on the pages with the most kinds of
# element (charts, tables, bertviz frames, chips, the live view's controls), not all twenty
PROJECTOR_PAGES = {"attention", "tokenization", "training"}


@pytest.mark.parametrize("slug, lang", page_cases())
def test_every_page_opens(live_app, page, slug, lang):
    page.goto(f"{live_app}/{registry.lesson(slug).url_path}?lang={lang}")
    wait_for_app(page)
    full_screenshot(page, ARTIFACTS / screenshot_name(slug, lang))
    assert not page_problems(page), (slug, lang, page_problems(page))
    assert not truncated_labels(page), (slug, lang, truncated_labels(page))   # at 1400 px
    if not AXE.exists():
        pytest.skip("axe-core is not installed (make browser installs it from npm)")
    problems = serious_accessibility_problems(page)
    assert not problems, (slug, lang, problems)
    if slug not in PROJECTOR_PAGES:
        return
    page.get_by_text(PROJECTOR[lang], exact=True).click()       # larger text and charts
    wait_for_app(page)
    problems = serious_accessibility_problems(page)
    assert not problems, (slug, lang, "projector mode", problems)
    assert not page_problems(page), (slug, lang, page_problems(page))


def test_language_switch_in_the_sidebar(live_app, page):
    page.goto(live_app)
    wait_for_app(page)
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="简体中文").click()
    page.wait_for_selector("text=从这里开始")
    page.get_by_text("词元切分", exact=True).first.click()     # the nav link keeps the session
    wait_for_app(page)
    assert page.locator("h1").first.inner_text() == "词元切分"
    assert not page_problems(page), page_problems(page)
