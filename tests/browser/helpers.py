"""What browser tests do to a page: wait for Streamlit to finish, collect its problems, take a
picture of all of it."""
from __future__ import annotations

from pathlib import Path

from tests.helpers import ROOT

ARTIFACTS = ROOT / "tests" / "artifacts"      # screenshots; ignored by git


def watched_page(context):
    """A new page of a browser context whose errors are collected in page.errors."""
    pg = context.new_page()
    pg.errors = []
    pg.on("console", lambda m: m.type == "error" and pg.errors.append(m.text))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    # net::ERR_ABORTED is a request cut off by our own next navigation, not a fault
    pg.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED"
          and pg.errors.append(f"request failed ({r.failure}): {r.url}"))
    pg.on("response", lambda r: r.status >= 400 and pg.errors.append(f"HTTP {r.status}: {r.url}"))
    return pg


def wait_for_app(pg, timeout_ms: int = 60_000) -> None:
    """Streamlit keeps a websocket open, so never wait for network idle: wait until the
    page has a title, its script has finished, nothing is still running and no grey
    placeholder (a skeleton, drawn while elements are on their way) is left. Without the
    last two, a screenshot taken under load could catch the page half redrawn."""
    pg.wait_for_selector("h1", timeout=timeout_ms)
    pg.wait_for_function(DRAWN, timeout=timeout_ms)
    pg.wait_for_timeout(500)


DRAWN = """() => document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState
        === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-testid="stSkeleton"]')"""


def page_problems(pg) -> list[str]:
    """Exception boxes Streamlit draws on the page, plus console errors."""
    boxes = pg.locator('[data-testid="stException"]').all_inner_texts()
    return boxes + [e for e in pg.errors if not _benign(e)]


def truncated_labels(pg) -> list[str]:
    """The texts of widget labels the page cuts off (an ellipsis: some box inside the label
    is narrower than its text)."""
    return pg.evaluate("""() => [...document.querySelectorAll('[data-testid="stWidgetLabel"]')]
        .filter(label => [label, ...label.querySelectorAll('*')]
            .some(e => e.scrollWidth > e.clientWidth + 1))
        .map(label => label.textContent)""")


# axe-core, the accessibility checker, from the npm registry (`make browser` installs it here)
AXE = ROOT / "tests" / ".node" / "node_modules" / "axe-core" / "axe.min.js"

# Labels of disabled controls (e.g. top-p while greedy decoding is picked) are greyed on
# purpose: WCAG 1.4.3 exempts inactive components, so they are left out of the check.
_AXE_RUN = """async () => {
    const inactive = [...document.querySelectorAll('.stElementContainer')].filter(c =>
        c.querySelector('input:disabled, button:disabled, [aria-disabled="true"]'));
    const found = await axe.run({include: [document], exclude: inactive},
                                {resultTypes: ['violations']});
    return found.violations.filter(v => ['serious', 'critical'].includes(v.impact))
        .map(v => `${v.id} (${v.impact}, ${v.nodes.length}x): ` +
             v.nodes.slice(0, 3).map(n => n.html.slice(0, 100)).join(' | '));
}"""


def serious_accessibility_problems(pg) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    pg.add_script_tag(path=str(AXE))
    return pg.evaluate(_AXE_RUN)


def _benign(message: str) -> bool:
    # Opened at /<page>, Streamlit's frontend first probes /<page>/_stcore/health and
    # host-config, gets 404, then finds the server root. The console line "Failed to load
    # resource" repeats a response already recorded with its URL.
    probe = message.startswith("HTTP 404") and message.endswith(
        ("/_stcore/health", "/_stcore/host-config"))
    return probe or message.startswith("Failed to load resource")


def download(pg, button: str, save_to=None, tries: int = 3) -> Path:
    """Click a download button; the file's path (``save_to`` if given, else Playwright's own
    copy, kept while the page's context is open). The file is made for one drawing of the
    page: when the Training page's live view redraws (every second) between the click and the
    fetch, the download is cancelled or the click swallowed, and the old file answers HTTP 404
    (then Streamlit's "Download Button source error"). A learner clicks again; so does this,
    and the errors of the superseded file are not the page's problems."""
    for attempt in range(tries):
        errors_before = len(pg.errors)
        try:
            with pg.expect_download(timeout=20_000) as started:
                pg.get_by_role("button", name=button).click()
            if save_to is not None:
                started.value.save_as(save_to)
            path = Path(save_to) if save_to is not None else Path(started.value.path())
        except Exception:        # "Download.save_as: canceled", or a click a redraw swallowed
            _forget_superseded_download(pg, errors_before)
            if attempt == tries - 1:
                raise
            continue
        if not _forget_superseded_download(pg, errors_before):
            return path
    raise AssertionError(f"every click on {button!r} met a redraw")


def _forget_superseded_download(pg, since: int) -> bool:
    """Drop the errors a superseded download file left since ``pg.errors[since]``; True if
    there were any."""
    stale = [e for e in pg.errors[since:]
             if ("HTTP 404" in e and "/media/" in e) or "Download Button source error" in e]
    pg.errors[:] = [e for e in pg.errors if e not in stale]
    return bool(stale)


def full_screenshot(pg, path) -> None:
    """Streamlit scrolls inside its own container, so full_page=True shows only one screen:
    grow the viewport to the content's height for the picture, then put it back."""
    size = pg.viewport_size
    height = pg.evaluate("""() => Math.max(800, ...['stMain', 'stAppViewContainer', 'stMainBlockContainer']
        .map(id => document.querySelector(`[data-testid="${id}"]`))
        .filter(Boolean).map(e => e.scrollHeight))""")
    pg.set_viewport_size({"width": size["width"], "height": min(int(height) + 100, 12000)})
    pg.wait_for_timeout(800)
    pg.screenshot(path=str(path))
    pg.set_viewport_size(size)
