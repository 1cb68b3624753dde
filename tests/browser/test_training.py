"""Training in the browser: pick a preset, train, watch the live chart grow, download the
metrics, use the model on every page."""
import pytest

from tests.browser.helpers import (ARTIFACTS, download, full_screenshot, page_problems,
                                   wait_for_app)


TRAINING_WORDS = {
    "en": {"preset": "Preset", "tiny": "Tiny (seconds; learns little)", "steps": "Training steps",
           "start": "Start training", "use": "Use this model on every page",
           "finished": "Finished 600 steps.", "run": "Run 1 (lr 0.003)", "csv": "Download metrics (CSV)"},
    "zh": {"preset": "预设", "tiny": "迷你（几秒钟，学到的很少）", "steps": "训练步数",
           "start": "开始训练", "use": "在所有页面使用这个模型",
           "finished": "已完成 600 步。", "run": "第 1 次训练（学习率 0.003）", "csv": "下载训练指标（CSV）"},
}


# _fullData: the traces as plotly drew them (numpy data arrives as base64, decoded there)
POINTS_IN_FIRST_CHART = """() => {
    const plot = document.querySelector('.js-plotly-plot');
    return plot && plot._fullData ? Math.max(0, ...plot._fullData.map(t => t._length || 0)) : 0; }"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_train_in_the_browser_and_use_the_model(live_app, page, lang):
    """Pick a preset, type a number of steps, start the run, watch the live chart gain points
    while it trains, then make the run the active model for every page."""
    words = TRAINING_WORDS[lang]
    page.goto(f"{live_app}/training?lang={lang}")
    wait_for_app(page)
    page.locator('[data-testid="stSelectbox"]').filter(has_text=words["preset"]).click()
    page.get_by_role("option", name=words["tiny"]).click()
    page.wait_for_timeout(1500)
    steps = page.get_by_role("spinbutton", name=words["steps"])
    steps.fill("600")
    steps.press("Enter")
    page.wait_for_timeout(1500)
    page.get_by_role("button", name=words["start"]).click()
    page.wait_for_function(f"() => ({POINTS_IN_FIRST_CHART})() > 0", timeout=60_000)
    before = page.evaluate(POINTS_IN_FIRST_CHART)
    page.wait_for_timeout(4000)
    after = page.evaluate(POINTS_IN_FIRST_CHART)
    assert after > before > 0, (before, after)      # the chart updated by itself
    page.wait_for_selector(f"text={words['finished']}", timeout=180_000)
    full_screenshot(page, ARTIFACTS / f"training-run-{lang}.png")
    rows = download(page, words["csv"]).read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("step,train_loss,val_loss") and rows[-1].startswith("600,")
    # the live view redraws every second; a click that lands in a redraw can be lost (seen once
    # in a fresh-clone run): a learner clicks again, and so does this test, once
    for attempt in range(2):
        page.get_by_role("button", name=words["use"]).click()
        try:
            page.wait_for_selector(f'[data-testid="stSidebar"] >> text={words["run"]}',
                                   timeout=20_000)
            break
        except Exception:                        # noqa: BLE001 -- raised on the second try
            if attempt == 1:
                raise
    assert not page_problems(page), page_problems(page)
