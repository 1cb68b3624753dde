"""The softmax page in Chromium: huge logits typed in, the four tables drawn."""
import pytest

from tests.browser.helpers import ARTIFACTS, page_problems, wait_for_app


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_in_a_real_browser(live_app, page, lang):
    page.goto(f"{live_app}/softmax?lang={lang}")
    wait_for_app(page)
    logits = page.get_by_role("textbox", name="Logits" if lang == "en" else "Logit（").first
    logits.fill("1000, 999, 998")
    logits.press("Enter")
    wait_for_app(page)
    page.set_viewport_size({"width": 1400, "height": 7000})   # Streamlit scrolls inside a div
    wait_for_app(page)
    page.screenshot(path=str(ARTIFACTS / f"softmax-{lang}.png"), full_page=True)
    assert page.locator('[data-testid="stDataFrame"]').count() == 3   # shift, overflow, targets
    assert page.locator('[data-testid="stTable"]').count() == 1       # the worked numbers
    assert not page_problems(page), page_problems(page)
