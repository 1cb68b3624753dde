"""Fine-tuning in the browser, en and zh: train the four methods to the end on the built-in
set, see the scores table and the confusion matrix, and make the full fine-tune the model of
every page."""
import pytest

from lessons.i18n import t
from tests.browser.helpers import ARTIFACTS, full_screenshot, page_problems, wait_for_app


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_fine_tune_to_the_end_and_use_the_model(live_app, page, lang):
    page.goto(f"{live_app}/finetuning?lang={lang}")
    wait_for_app(page)
    steps = page.get_by_role("slider").first          # the four methods' steps
    steps.focus()
    steps.press("Home")                               # the fewest steps: a quick full run
    page.wait_for_timeout(1500)
    page.get_by_role("button", name=t("finetuning.start", lang)).click()
    use = page.get_by_role("button", name=t("finetuning.use_model", lang))
    use.wait_for(timeout=300_000)                     # shown once all four have finished
    assert page.get_by_text(t("finetuning.scores_title", lang)).count() >= 1
    assert page.get_by_text(t("evaluation.confusion_title", lang)).count() >= 1
    full_screenshot(page, ARTIFACTS / f"finetuning-run-{lang}.png")
    use.click()
    model_name = t("finetuning.method_full", lang)
    page.wait_for_selector(f'[data-testid="stSidebar"] >> text=/{model_name}/', timeout=30_000)
    assert not page_problems(page), page_problems(page)
