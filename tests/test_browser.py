"""Every page opens in real headless Chromium, in both languages, with no exception on the
page and no console error. Screenshots land in tests/artifacts/."""
import pytest

from app.main import PAGES
from tests.conftest import ARTIFACTS, full_screenshot, page_problems, wait_for_app

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_opens(live_app, page, lang):
    for path, _, _ in PAGES:
        slug = path.split("/")[-1][:-3]
        page.goto(f"{live_app}/{'' if slug == 'home' else slug}?lang={lang}")
        wait_for_app(page)
        full_screenshot(page, ARTIFACTS / f"{slug}-{lang}.png")
        assert not page_problems(page), (slug, lang, page_problems(page))


def test_language_switch_in_the_sidebar(live_app, page):
    page.goto(live_app)
    wait_for_app(page)
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="简体中文").click()
    page.wait_for_selector("text=从这里开始")
    page.get_by_text("分词", exact=True).first.click()     # the nav link keeps the session
    wait_for_app(page)
    assert page.locator("h1").first.inner_text() == "分词"
    assert not page_problems(page), page_problems(page)


def test_train_in_the_browser_and_use_the_model(live_app, page):
    """Start a tiny run, see the live curve appear and the step counter move, then make it
    the active model for every page."""
    page.goto(f"{live_app}/training?lang=en")
    wait_for_app(page)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Preset").click()
    page.get_by_role("option", name="Tiny (seconds; learns little)").click()
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_selector("text=Finished 60 steps.", timeout=120_000)
    assert page.locator(".js-plotly-plot").count() >= 1
    full_screenshot(page, ARTIFACTS / "training-run-en.png")
    page.get_by_role("button", name="Use this model on every page").click()
    page.wait_for_selector('[data-testid="stSidebar"] >> text=Run 1 (lr 0.003)', timeout=30_000)
    assert not page_problems(page), page_problems(page)
