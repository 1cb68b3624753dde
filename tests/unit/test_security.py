"""Security, read from the source: app/ and lessons/ as syntax trees, so a new page that adds
``unsafe_allow_html=True``, ``torch.load`` or ``open(upload.name)`` fails here. (The payload
typed into the pages of a real browser: tests/browser/test_security.py; the threat model is in
the README.)"""
from __future__ import annotations

import ast

import pytest

from tests.helpers import ROOT


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
    (chips_html, pieces_html, head_view_html, model_view_html, copied_html; style_html for
    the app's own CSS, refusing '<'), never a string made on the page."""
    allowed = {"lesson_figures.chips_html", "lesson_figures.pieces_html", "bv.head_view_html",
               "bv.model_view_html", "dcf.copied_html", "style_html"}
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
            value = node.value
            if isinstance(value, ast.IfExp) and isinstance(value.orelse, ast.Constant) \
                    and value.orelse.value is None:
                value = value.body           # made only when wanted, else no HTML at all
            if isinstance(value, ast.Call):
                return _maker(value)
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
