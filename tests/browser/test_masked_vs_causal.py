"""The BERT-and-GPT page in Chromium, en and zh: both heatmaps and every chart drawn, a blank
filled from the learner's sentence, unmasking left to right; no page problems, a picture."""
import pytest

from lessons.i18n import t
from tests.browser.helpers import ARTIFACTS, full_screenshot, page_problems, wait_for_app


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_in_a_real_browser(live_app, page, lang):
    page.goto(f"{live_app}/masked_vs_causal?lang={lang}")
    wait_for_app(page)
    # two masks, the guesses, positions, curves, accuracies (a cold page may still be drawing)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 6",
                           timeout=60_000)
    charts_at_start = page.locator(".js-plotly-plot").count()
    blank = page.get_by_role("textbox", name=t("masked_vs_causal.blank_label", lang))
    blank.fill("the ___ of the object")
    blank.press("Enter")
    wait_for_app(page)
    reading = page.get_by_text(t("masked_vs_causal.blank_reading", lang).split("{")[0].strip(" *")[:10])
    assert reading.count() >= 1
    page.get_by_text(t("masked_vs_causal.order_left_to_right", lang), exact=True).click()
    wait_for_app(page)
    assert "[MASK]" not in page.locator('[data-testid="stCode"]').last.inner_text()
    full_screenshot(page, ARTIFACTS / f"masked_vs_causal-{lang}.png")
    assert page.locator(".js-plotly-plot").count() == charts_at_start
    assert not page_problems(page), page_problems(page)
