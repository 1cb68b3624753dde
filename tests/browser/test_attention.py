"""The attention lesson in Chromium: bertviz's views draw with the network cut, the page's
heatmap hover names its tokens, both bertviz tabs draw."""
import pytest
import torch

from lessons.concepts.attention import bertviz as bv
from tests.browser.helpers import ARTIFACTS, page_problems, truncated_labels, wait_for_app

EVIL = "<img src=x onerror=alert(1)>"


def test_bertviz_draws_in_chromium_with_the_network_cut(browser):
    tokens = ["T", "h", "e", EVIL]
    attn = torch.softmax(torch.randn(2, 2, 4, 4), -1)
    context = browser.new_context()
    requests, problems = [], []
    context.route("**/*", lambda route: (requests.append(route.request.url), route.abort()))
    pg = context.new_page()
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.on("dialog", lambda d: (problems.append("dialog: " + d.message), d.dismiss()))
    for page_html in (bv.head_view_html(attn, tokens), bv.model_view_html(attn, tokens)):
        pg.set_content(page_html)
        pg.wait_for_selector("svg line", state="attached", timeout=10_000)
        assert pg.locator("svg line").count() >= 2 * 4 * 4       # one line per pair and head
        assert pg.locator("img").count() == 0
    pg.set_content(bv.head_view_html(attn, tokens))
    pg.wait_for_selector("svg text", state="attached", timeout=10_000)
    assert EVIL in pg.locator("svg text").all_text_contents()    # drawn as text, never run
    context.close()
    assert not problems and not requests, (problems, requests)


# Page coordinates of cell (row, column) of the page's first heatmap, scrolled into view.
CELL_CENTRE = """([row, col]) => {
    const gd = document.querySelector('.js-plotly-plot');
    gd.scrollIntoView({block: 'center'});
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
    return [r.left + xa._offset + xa.l2p(col), r.top + ya._offset + ya.l2p(row)]; }"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_in_chromium_with_bertviz_visible(live_app, page, lang):
    page.goto(f"{live_app}/attention?lang={lang}")
    wait_for_app(page)
    # the hover box names the cell's tokens, read from the category axes (row cat, column sat)
    # plotly draws after the page reports done: wait until the first heatmap has its layout
    page.wait_for_function("() => document.querySelector('.js-plotly-plot')?._fullLayout",
                           timeout=30_000)
    hover = page.evaluate(CELL_CENTRE, [1, 2])
    page.mouse.move(*hover)
    box = page.locator(".hoverlayer .hovertext").first
    box.wait_for(state="attached", timeout=10_000)
    words = ("query: cat", "key: sat") if lang == "en" else ("查询：cat", "键：sat")
    assert all(w in box.text_content() for w in words), box.text_content()
    assert not truncated_labels(page), truncated_labels(page)     # at 1400 px, in both languages
    page.get_by_label("Causal mask" if lang == "en" else "因果掩码").first.uncheck(force=True)
    wait_for_app(page)
    assert page.locator("iframe").count() == 0       # bertviz waits until it is asked for
    page.get_by_role("switch", name="Draw bertviz's views" if lang == "en" else "显示 bertviz 视图").check(
        force=True)
    wait_for_app(page)
    frame = page.frame_locator("iframe").first
    frame.locator("svg line").first.wait_for(state="attached", timeout=30_000)
    assert frame.locator("svg line").count() > 0
    page.locator("iframe").first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"attention-bertviz-{lang}.png"))
    page.get_by_role("tab", name="Model view" if lang == "en" else "模型视图").click()
    model_frame = page.frame_locator("iframe").nth(1)
    model_frame.locator("svg").first.wait_for(state="visible", timeout=30_000)   # tab now shown
    assert model_frame.locator("svg line").count() > 0
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"attention-bertviz-model-{lang}.png"))
    page.screenshot(path=str(ARTIFACTS / f"attention-{lang}.png"), full_page=True)
    assert not page_problems(page), page_problems(page)
