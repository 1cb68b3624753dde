"""The tokenisation page in Chromium: HTML in the text shown as text, the merge slider moved."""
import pytest

from tests.browser.helpers import ARTIFACTS, full_screenshot, page_problems, wait_for_app


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_in_a_real_browser(live_app, page, lang):
    page.goto(f"{live_app}/tokenization?lang={lang}")
    wait_for_app(page)
    box = page.locator("textarea").first
    box.fill("Hello <b>world</b> 大模型 👩🏽‍💻 שלום")
    box.press("Control+Enter")
    wait_for_app(page)
    page.wait_for_selector("text=<b>world</b>", timeout=30_000)   # escaped, shown as text
    slider = page.get_by_role("slider").last
    slider.focus()
    slider.press("End")
    wait_for_app(page)
    full_screenshot(page, ARTIFACTS / f"tokenization-page-{lang}.png")
    assert not page_problems(page), page_problems(page)
