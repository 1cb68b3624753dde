"""The embeddings page in Chromium: the timeline's last step redraws the page."""
import pytest

from lessons.engine.checkpoint import load_shipped_model, shipped_for_language
from tests.browser.helpers import ARTIFACTS, page_problems, wait_for_app


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_in_a_real_browser(live_app, page, lang):
    page.goto(f"{live_app}/embeddings?lang={lang}")
    wait_for_app(page)
    timeline = page.locator('[data-testid="stSlider"]').last
    timeline.locator('input[type="range"]').wait_for(state="attached", timeout=60_000)
    timeline.scroll_into_view_if_needed()
    timeline.locator('input[type="range"]').focus()
    page.keyboard.press("End")                      # the timeline's last step
    last = max(load_shipped_model(shipped_for_language(lang)).snapshots)   # zh: the poems model
    caption = f"Step {last}:" if lang == "en" else f"第 {last} 步："
    page.wait_for_function(         # the page reran with the new step
        f"() => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
        f".some(e => e.innerText.startsWith('{caption}'))", timeout=60_000)
    wait_for_app(page)
    assert page.locator(".js-plotly-plot").count() >= 5
    page.screenshot(path=str(ARTIFACTS / f"embeddings-{lang}.png"), full_page=True)
    assert not page_problems(page), page_problems(page)
