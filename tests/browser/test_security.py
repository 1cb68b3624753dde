"""Security in a real browser: what a learner types, uploads or names is only ever shown as
text. The payload goes into the first text box of every registry page that has one, into an
upload's file name and into a training text (so it comes back in tokens and samples)."""
import pytest

from lessons import registry
from tests.browser.helpers import ARTIFACTS, full_screenshot, page_problems, wait_for_app
from tests.cases import payload_cases

PAYLOAD = ('<img src=x onerror="document.title=\'pwned\'">'
           '<script>document.title="pwned"</script>[x](javascript:document.title="pwned")')


def _assert_payload_inert(pg):
    for frame in pg.frames:           # bertviz draws in an iframe: check every frame
        assert frame.evaluate("document.title") != "pwned", frame.url
        assert frame.locator('img[src="x"]').count() == 0, frame.url
        assert frame.locator('a[href^="javascript"]').count() == 0, frame.url


@pytest.mark.parametrize("view, box", payload_cases())
def test_payload_typed_into_a_page_is_shown_as_text(live_app, page, view, box):
    page.goto(f"{live_app}/{registry.lesson(view).url_path}?lang=en")
    wait_for_app(page)
    field = page.locator(f'[data-testid="stMain"] {box}').first
    field.fill(PAYLOAD)
    field.press("Control+Enter" if box == "textarea" else "Enter")
    page.wait_for_timeout(1500)
    wait_for_app(page)
    bertviz = page.get_by_role("switch", name="Draw bertviz's views")
    if bertviz.count():               # the payload's tokens go into bertviz's frames too
        bertviz.check(force=True)
        wait_for_app(page)
        page.frame_locator("iframe").first.locator("svg").first.wait_for(
            state="attached", timeout=30_000)
    full_screenshot(page, ARTIFACTS / f"security-{view}.png")
    _assert_payload_inert(page)
    assert not page_problems(page), page_problems(page)


def test_payload_as_an_upload_name_and_in_its_tokens(live_app, page, tiny_checkpoint_bytes):
    """A checkpoint whose file name is the payload is loaded and named on the page as text;
    a training text full of the payload trains and its samples are shown as text."""
    page.goto(f"{live_app}/training?lang=en")
    wait_for_app(page)
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text=".safetensors")
    uploader.locator('input[type="file"]').set_input_files(files=[{
        "name": PAYLOAD.replace("/", "") + ".safetensors", "mimeType": "application/octet-stream",
        "buffer": tiny_checkpoint_bytes}])
    page.wait_for_selector("text=Loaded", timeout=30_000)
    page.locator('[data-testid="stRadio"]').first.get_by_text("My own text file").click()
    text_box = page.locator('[data-testid="stFileUploader"]').filter(has_text="UTF-8")
    text_box.locator('input[type="file"]').set_input_files(files=[{
        "name": PAYLOAD.replace("/", "") + ".txt", "mimeType": "text/plain",
        "buffer": (PAYLOAD + "\n").encode() * 40}])
    page.wait_for_timeout(2000)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Preset").click()
    page.get_by_role("option", name="Tiny (seconds; learns little)").click()
    page.wait_for_timeout(1500)
    # subtle: under load the upload and the preset's reruns can outlast the fixed waits; a
    # click on a Start button still disabled does nothing (seen once in a full CI run)
    start = page.get_by_role("button", name="Start training")
    from playwright.sync_api import expect   # here: the folder skips cleanly without playwright
    expect(start).to_be_enabled(timeout=60_000)
    wait_for_app(page)
    start.click()
    page.wait_for_selector("text=Finished 60 steps.", timeout=120_000)
    full_screenshot(page, ARTIFACTS / "security-upload-name.png")
    _assert_payload_inert(page)
    assert not page_problems(page), page_problems(page)
