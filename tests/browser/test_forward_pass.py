"""The "Inside the model" page in Chromium on the shipped model, in both languages: it draws
every chart, the logit lens hover names its guess, a whole-page screenshot for a person."""
import pytest

from tests.browser.helpers import ARTIFACTS, full_screenshot, page_problems, wait_for_app


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_in_chromium(live_app, page, lang):
    page.goto(f"{live_app}/forward_pass?lang={lang}")
    wait_for_app(page)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 8",
                           timeout=30_000)
    assert not page_problems(page), page_problems(page)
    title = "Inside the model" if lang == "en" else "模型内部"
    assert page.locator("h1").first.inner_text().strip().startswith(title)
    full_screenshot(page, ARTIFACTS / f"forward_pass-{lang}.png")
