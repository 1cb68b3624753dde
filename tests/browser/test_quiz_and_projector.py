"""In Chromium: answer a quiz question in English and in Chinese and see the grade; switch on
projector mode (larger text and charts) and keep axe-core happy in it; reach the page's main
controls with the Tab key alone, each with a visible focus ring."""
from __future__ import annotations

import pytest

from tests.browser.helpers import (ARTIFACTS, AXE, full_screenshot, page_problems,
                                   serious_accessibility_problems, wait_for_app)

TEXTS = {"en": dict(check="Check", right="Right!", wrong="Not this time", projector="Projector mode",
                    heading="Check what you understood", pick="Your prediction"),
         "zh": dict(check="核对", right="答对了！", wrong="这次没对", projector="投影模式",
                    heading="检验一下你的理解", pick="你的预测")}

# what document.activeElement is, and whether a focus ring shows on it or its nearest box
FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    // a ring counts only on a box one can see (a radio's real input is a 1 px hidden box)
    const ring = e => { const s = getComputedStyle(e), box = e.getBoundingClientRect();
        return box.width > 4 && box.height > 4 &&
            ((s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none'); };
    let shown = ring(el);
    for (let e = el.parentElement, n = 0; !shown && e && n < 4; e = e.parentElement, n++) shown = ring(e);
    return {tag: el.tagName, type: el.type || '', label: el.getAttribute('aria-label') || '',
            text: (el.innerText || '').slice(0, 40), ring: shown};
}"""


def answer_first_question(page, lang: str) -> str:
    """Pick the first choice of the page's first quiz question, press Check, return the grade."""
    texts = TEXTS[lang]
    group = page.get_by_role("radiogroup", name=texts["pick"]).first
    question = group.locator("xpath=ancestor::div[@data-testid='stVerticalBlock'][1]")
    group.scroll_into_view_if_needed()
    group.locator('[data-testid="stRadioOption"]').first.click()
    wait_for_app(page)
    question.get_by_role("button", name=texts["check"]).click()
    wait_for_app(page)
    graded = question.get_by_text(texts["right"]).or_(question.get_by_text(texts["wrong"]))
    graded.first.wait_for(timeout=30_000)
    return graded.first.inner_text()


def quiz_graded_on_softmax(page, live_app: str, lang: str) -> None:
    """Open the Softmax page in ``lang`` (a fresh session), answer its first question and see
    it graded, right or wrong; a picture of the quiz."""
    texts = TEXTS[lang]
    page.goto(f"{live_app}/softmax?lang={lang}")
    wait_for_app(page)
    grade = answer_first_question(page, lang)
    assert grade.startswith((texts["right"].rstrip("！"), texts["wrong"])), grade
    page.get_by_text(texts["heading"], exact=True).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"quiz-{lang}.png"))


def tab_through(page, presses: int = 120) -> list[dict]:
    page.locator("h1").first.click()                      # start from the page, not the URL bar
    seen = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused:
            seen.append(focused)
    return seen


def test_quiz_in_both_languages_projector_mode_and_keyboard(live_app, page):
    # English: the softmax page's quiz graded on the classroom model
    quiz_graded_on_softmax(page, live_app, "en")

    # the keyboard alone reaches the sidebar's toggle, the page's boxes, sliders and the quiz
    seen = tab_through(page)
    kinds = {(f["tag"], f["type"]) for f in seen}
    assert ("TEXTAREA", "textarea") in kinds and ("INPUT", "text") in kinds, kinds
    assert any(f["tag"] == "INPUT" and f["type"] == "radio" for f in seen), kinds
    assert any(f["tag"] == "BUTTON" and "Check" in f["text"] for f in seen), seen[-10:]
    assert any(f["type"] == "checkbox" for f in seen)            # the projector toggle
    no_ring = [f for f in seen if not f["ring"]]
    assert not no_ring, no_ring[:5]

    # projector mode: larger root font and taller charts
    before = page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    chart_before = chart.bounding_box()["height"]
    page.get_by_text("Projector mode", exact=True).click()
    wait_for_app(page)
    after = page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert after >= 1.25 * before, (before, after)
    # plotly draws the taller chart after the page says it is done (a busy machine: seconds)
    page.wait_for_function("""(least) => {
        const chart = document.querySelector('[data-testid="stPlotlyChart"]');
        return chart && chart.getBoundingClientRect().height >= least; }""",
                           arg=1.3 * chart_before, timeout=20_000)
    full_screenshot(page, ARTIFACTS / "projector-en.png")
    assert not page_problems(page), page_problems(page)
    if AXE.exists():
        assert not serious_accessibility_problems(page)

    # Chinese: a fresh session on the poems model
    quiz_graded_on_softmax(page, live_app, "zh")
    page.get_by_text("投影模式", exact=True).click()
    wait_for_app(page)
    full_screenshot(page, ARTIFACTS / "projector-zh.png")
    assert not page_problems(page), page_problems(page)
    if AXE.exists():
        assert not serious_accessibility_problems(page)
    else:
        pytest.skip("axe-core is not installed (make browser installs it from npm)")
