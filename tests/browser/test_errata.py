"""The errata in Chromium, en and zh: on the home page every post's box opens onto its list, on
the attention page the box under the W_a example is open from the start on its two entries; the bold claims
render as bold (no stray asterisks), no page problems, a picture of each."""
import pytest

from lessons import errata
from lessons.i18n import t
from tests.browser.helpers import ARTIFACTS, full_screenshot, page_problems, wait_for_app


def open_box(page, label: str):
    """Click an expander open by its label; return its content element."""
    box = page.locator('[data-testid="stExpander"]').filter(has_text=label).first
    box.locator("summary").click()
    page.wait_for_timeout(300)
    return box


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_home_page_errata(live_app, page, lang):
    page.goto(f"{live_app}/?lang={lang}")
    wait_for_app(page)
    for post, found in errata.by_post().items():
        box = open_box(page, t(f"errata.post_{post}", lang))
        bold = box.locator("strong").all_inner_texts()
        for entry in found:
            assert entry.claim(lang).replace("`", "") in bold, (post, entry.key)   # code as code
        assert "**" not in box.inner_text()
    full_screenshot(page, ARTIFACTS / f"errata-home-{lang}.png")
    assert not page_problems(page), page_problems(page)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_attention_page_errata(live_app, page, lang):
    page.goto(f"{live_app}/attention?lang={lang}")
    wait_for_app(page)
    # open from the start: it carries the caveat of the W_a weights just above it
    box = page.locator('[data-testid="stExpander"]').filter(has_text=t("errata.expander", lang)).first
    assert box.locator("details").get_attribute("open") is not None
    bold = box.locator("strong").all_inner_texts()
    assert [entry.claim(lang).replace("`", "") for entry in errata.for_slug("attention")] == bold
    assert "**" not in box.inner_text()
    box.screenshot(path=str(ARTIFACTS / f"errata-attention-{lang}.png"))
    assert not page_problems(page), page_problems(page)
