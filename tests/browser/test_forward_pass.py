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


def test_page_on_a_freshly_trained_model(live_app, page, two_layer_checkpoint_bytes):
    """A model trained a moment ago (2 layers x 2 heads, with snapshots), uploaded on the
    training page and made the active model, then the page opened from the sidebar."""
    page.goto(f"{live_app}/training?lang=en")
    wait_for_app(page)
    box = page.locator('[data-testid="stFileUploader"]').filter(has_text=".safetensors")
    box.locator('input[type="file"]').set_input_files(files=[{
        "name": "fresh.safetensors", "mimeType": "application/octet-stream",
        "buffer": two_layer_checkpoint_bytes}])
    page.get_by_role("button", name="Use this model on every page").first.click(timeout=30_000)
    wait_for_app(page)
    page.get_by_role("link", name="Inside the model").first.click()
    wait_for_app(page)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 8",
                           timeout=30_000)
    assert not page_problems(page), page_problems(page)
    assert "layers: 2 · heads per layer: 2" in page.locator('[data-testid="stSidebar"]').inner_text()
    assert page.get_by_text("kept no weight snapshots").count() == 0     # its timeline shows
    full_screenshot(page, ARTIFACTS / "forward_pass-fresh.png")
