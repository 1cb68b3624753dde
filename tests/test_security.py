"""Security: what a learner types, uploads or names is only ever shown as text; only
safetensors are loaded; no user string becomes a path. (The threat model is in the README.)

The source checks read app/ and lessons/ as syntax trees, so a new page that adds
``unsafe_allow_html=True``, ``torch.load`` or ``open(upload.name)`` fails here."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, ROOT, full_screenshot, page_problems, wait_for_app

PAYLOAD = ('<img src=x onerror="document.title=\'pwned\'">'
           '<script>document.title="pwned"</script>[x](javascript:document.title="pwned")')


def _sources(folder: str):
    for path in sorted((ROOT / folder).rglob("*.py")):
        yield path, ast.parse(path.read_text("utf-8"))


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node, ast.unparse(node.func)


def test_no_page_turns_off_html_escaping():
    for path, tree in _sources("app"):
        for node, name in _calls(tree):
            flags = {k.arg: ast.unparse(k.value) for k in node.keywords}
            assert flags.get("unsafe_allow_html") not in ("True",), f"{path}: {ast.unparse(node)}"
            assert "components" not in name, f"{path}: use st.iframe/st.html with escaped input"


def test_raw_html_is_built_only_by_lessons_functions_that_escape():
    """st.html and st.iframe get HTML from a lessons function whose tests check escaping
    (chips_html, head_view_html, model_view_html), never a string made on the page."""
    allowed = {"lesson_figures.chips_html", "bv.head_view_html", "bv.model_view_html"}
    for path, tree in _sources("app"):
        for node, name in _calls(tree):
            if name in ("st.html", "st.iframe"):
                arg = node.args[0]
                made_by = _maker(arg) if isinstance(arg, ast.Call) else None
                if made_by is None:      # a variable: find what it was assigned from
                    made_by = _assigned_from(tree, ast.unparse(arg))
                assert made_by in allowed, f"{path}: {ast.unparse(node)} gets HTML from {made_by}"


def _assigned_from(tree, variable: str) -> str | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == variable:
            if isinstance(node.value, ast.Call):
                return _maker(node.value)
    return None


def _maker(call: ast.Call) -> str:
    """The function that made a value; shared(f, ...) (app/ui.py) computes f(...) (once per
    server)."""
    name = ast.unparse(call.func)
    if name in ("shared", "ui.shared") and call.args:
        return ast.unparse(call.args[0])
    return name


@pytest.mark.parametrize("folder", ["app", "lessons"])
def test_nothing_can_unpickle(folder):
    banned = {"torch.load", "pickle.load", "pickle.loads", "joblib.load", "dill.load",
              "torch.jit.load", "marshal.loads", "eval", "exec"}
    for path, tree in _sources(folder):
        for node, name in _calls(tree):
            assert name not in banned, f"{path}:{node.lineno} calls {name}"
            flags = {k.arg: ast.unparse(k.value) for k in node.keywords}
            assert flags.get("allow_pickle") != "True", f"{path}:{node.lineno}"


def test_pages_never_touch_the_filesystem():
    """Uploads are read with .getvalue() and handed over as bytes; downloads are built in
    memory with names the server chooses. The only path on a page is the app's own folder."""
    for path, tree in _sources("app"):
        for node, name in _calls(tree):
            assert name not in ("open", "os.open", "os.remove", "os.unlink", "shutil.rmtree",
                                "shutil.copy", "Path.write_bytes"), f"{path}:{node.lineno}"
            assert not name.endswith((".write_bytes", ".write_text", ".read_bytes",
                                      ".read_text", ".unlink", ".mkdir")), f"{path}:{node.lineno}"
            if name == "Path":
                assert ast.unparse(node.args[0]) == "__file__", f"{path}:{node.lineno}"


# ---- the payload in a real browser ------------------------------------------------------------

def _assert_payload_inert(pg):
    for frame in pg.frames:           # bertviz draws in an iframe: check every frame
        assert frame.evaluate("document.title") != "pwned", frame.url
        assert frame.locator('img[src="x"]').count() == 0, frame.url
        assert frame.locator('a[href^="javascript"]').count() == 0, frame.url


@pytest.mark.browser
@pytest.mark.parametrize("view, box", [
    ("tokenization", "textarea"),
    ("attention", 'input[type="text"]'),
    ("softmax", "textarea"),
])
def test_payload_typed_into_a_page_is_shown_as_text(live_app, page, view, box):
    page.goto(f"{live_app}/{view}?lang=en")
    wait_for_app(page)
    field = page.locator(f'[data-testid="stMain"] {box}').first
    field.fill(PAYLOAD)
    field.press("Control+Enter" if box == "textarea" else "Enter")
    page.wait_for_timeout(1500)
    wait_for_app(page)
    full_screenshot(page, ARTIFACTS / f"security-{view}.png")
    _assert_payload_inert(page)
    assert not page_problems(page), page_problems(page)


@pytest.mark.browser
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
    page.get_by_role("button", name="Start training").click()
    page.wait_for_selector("text=Finished 60 steps.", timeout=120_000)
    full_screenshot(page, ARTIFACTS / "security-upload-name.png")
    _assert_payload_inert(page)
    assert not page_problems(page), page_problems(page)
