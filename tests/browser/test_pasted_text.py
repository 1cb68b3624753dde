"""Issue #22 item 6, in Chromium against a hosted server (text cap 5,000 characters): what a
learner pastes into a text box arrives whole, or cut with a message, never silently lost."""
from __future__ import annotations

from lessons.hosting.limits import HOSTED
from lessons.i18n import t
from tests.browser.helpers import page_problems, wait_for_app

CAP = HOSTED.max_text_chars


def _paste(pg, box, text_js: str) -> None:
    """Replace the box's text as a paste does (the browser's own insertText, which honours a
    maxlength), then send it."""
    box.fill("")
    box.focus()
    pg.evaluate(f"() => document.execCommand('insertText', false, {text_js})")
    box.press("Enter")
    pg.wait_for_timeout(1500)
    wait_for_app(pg)


def _messages(pg) -> list[str]:
    return pg.locator('[data-testid="stAlert"]').all_inner_texts()


def test_pasted_text_is_counted_in_characters_cut_with_a_message_and_never_dropped(hosted_app,
                                                                                    page):
    page.goto(f"{hosted_app}/attention")
    wait_for_app(page)
    box = page.get_by_role("textbox").first

    # 3,000 emoji are 3,000 characters but 6,000 UTF-16 units: under the cap, all kept
    _paste(page, box, f"'🧠'.repeat({CAP * 3 // 5})")
    assert len(box.input_value()) == CAP * 3 // 5
    assert not any("5,000" in m for m in _messages(page))

    # a paste over the cap reaches the server, which cuts it and says so
    _paste(page, box, f"'a'.repeat({CAP + 1000})")
    cut = t("app.text_cut_to_cap", "en", n=f"{CAP + 1000:,}", cap=f"{CAP:,}")
    assert cut in _messages(page)

    # half of an emoji: the text arrives with U+FFFD in its place, and the page says why
    _paste(page, box, "'ab\\ud83e cd'")
    assert t("app.text_replacement_character", "en") in _messages(page)
    assert page.get_by_text("ab�").count() > 0       # the attention table's tokens
    assert page_problems(page) == []
