"""The decoding page in Chromium, en and zh: run to the end, beam search's tree, one guess of
the guessing game; no page problems, and a picture for the artifacts."""
import pytest

from tests.browser.helpers import ARTIFACTS, page_problems, wait_for_app

TO_END = {"en": "To the end", "zh": "到最后"}
GUESS = {"en": "Your guess for the next character", "zh": "你猜下一个字符是"}
GUESS_BUTTON = {"en": "Guess", "zh": "猜"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_in_a_real_browser(live_app, page, lang):
    page.goto(f"{live_app}/decoding?lang={lang}")
    wait_for_app(page)
    page.get_by_role("button", name=TO_END[lang]).click()
    wait_for_app(page)
    guess = page.get_by_role("textbox", name=GUESS[lang])
    guess.fill("x")
    page.get_by_role("button", name=GUESS_BUTTON[lang], exact=True).click()
    wait_for_app(page)
    page.set_viewport_size({"width": 1400, "height": 7000})   # Streamlit scrolls inside a div
    wait_for_app(page)
    page.screenshot(path=str(ARTIFACTS / f"decoding-{lang}.png"), full_page=True)
    assert page.locator(".js-plotly-plot").count() >= 2        # the step and the road
    assert page.locator('[data-testid="stAlert"]').count() >= 1  # "not that one"
    assert not page_problems(page), page_problems(page)
