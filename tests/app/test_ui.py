"""app/ui.py, the one idiom of every page: tr() and prose() in the session's language with full
keys, show_code() with the real source, explain() in the learner's language; and the rules
that keep the pages in that idiom (read from their syntax trees, so a new page that strays
fails here)."""
from __future__ import annotations

import ast
import inspect
import re

import pytest
from streamlit.testing.v1 import AppTest

from lessons.concepts.softmax.compute import log_softmax, softmax
from lessons.i18n import LANGUAGES, t, topics
from tests.conftest import ROOT

APP = ROOT / "app"
TOPICS = set(topics())
FULL_KEY = re.compile(r"^([a-z_]+)\.([a-z0-9_]+)$")


def ui_script():
    """A page that uses every helper of app/ui.py (AppTest runs this function's body)."""
    import streamlit as st

    from app.ui import explain, lang, prose, show_code, tr
    from lessons.concepts.softmax.compute import log_softmax, softmax
    from lessons.errors import LessonError

    st.title(tr("app.language"))
    prose("softmax.intro")
    prose("app.model_summary", name="m", params="1,234", layers=2, heads=4, tokenizer="char",
          vocab=65)
    st.caption(lang())
    st.error(explain(LessonError("file_empty")))
    st.warning(explain(ValueError("not ours")))
    show_code(softmax, log_softmax, label="softmax.show_code")
    try:
        tr("title")
    except KeyError as exc:
        st.info(str(exc))


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_helper_speaks_the_sessions_language(lang):
    at = AppTest.from_function(ui_script, default_timeout=60)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == t("app.language", lang)
    markdown = [m.value for m in at.markdown]
    assert t("softmax.intro", lang) in markdown
    assert t("app.model_summary", lang, name="m", params="1,234", layers=2, heads=4,
             tokenizer="char", vocab=65) in markdown
    assert at.caption[0].value == lang
    assert at.error[0].value == t("errors.file_empty", lang)
    assert at.warning[0].value == "not ours"              # not one of ours: shown as it is
    assert at.expander[0].label == t("softmax.show_code", lang)
    assert [c.value.strip() for c in at.code] == [inspect.getsource(fn).strip()
                                                  for fn in (softmax, log_softmax)]
    assert "full key" in at.info[0].value


def test_the_language_follows_the_sidebar_choice():
    at = AppTest.from_function(ui_script, default_timeout=60)
    at.run()
    assert at.title[0].value == "Language"               # no choice yet: English
    at.session_state["lang"] = "zh"
    at.run()
    assert at.title[0].value == "语言"


# ---- the idiom, checked in the source ----------------------------------------------------------

def _app_sources():
    for path in sorted(APP.rglob("*.py")):
        yield path, ast.parse(path.read_text("utf-8"))


def _called_name(call: ast.Call) -> str:
    return ast.unparse(call.func)


def test_every_key_a_page_names_exists_in_both_languages():
    """Keys are written out in full, so every one of them is a string in the source: each
    "topic.key" string in app/ must be a section of that topic in every language."""
    found = 0
    for path, tree in _app_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                match = FULL_KEY.match(node.value)
                # a string ending in "_" is the prefix a key is built from ("training.status_")
                if match and match.group(1) in TOPICS and not node.value.endswith("_"):
                    found += 1
                    for lang in LANGUAGES:
                        try:
                            t(node.value, lang)
                        except KeyError:
                            pytest.fail(f"{path.name}:{node.lineno}: no {node.value!r} in {lang}")
    assert found > 300, "the scan found too few keys: did the pages stop using full keys?"


def _leading_texts(node: ast.AST) -> list[str | None]:
    """The literal start of each key an expression can give: "training.status_" of
    "training.status_" + status, both keys of `"a.x" if ok else "a.y"`."""
    if isinstance(node, ast.IfExp):
        return _leading_texts(node.body) + _leading_texts(node.orelse)
    if isinstance(node, ast.BinOp):
        return _leading_texts(node.left)
    if isinstance(node, ast.JoinedStr):
        return _leading_texts(node.values[0]) if node.values else [None]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    return [None]


def test_tr_and_prose_get_full_keys():
    """tr / prose get a literal full key, a variable holding one (from a table of full keys,
    checked above), or, where a key is built, one that starts with its full "topic." prefix
    so that grep finds it. Never a bare "title" that some page-local helper completes."""
    for path, tree in _app_sources():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _called_name(node) in ("tr", "prose", "ui.tr",
                                                                          "ui.prose")):
                continue
            key = node.args[0]
            if isinstance(key, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)):
                continue
            for text in _leading_texts(key):
                topic = (text or "").partition(".")[0]
                assert text and "." in text and topic in TOPICS, \
                    f"{path.name}:{node.lineno}: {ast.unparse(node)} does not name its topic"


def _panels():
    """app/panels/*.py: the parts of the longer pages, functions a page calls."""
    panels = sorted(p for p in (APP / "panels").glob("*.py") if p.name != "__init__.py")
    assert panels, "app/panels/ has no panel modules"
    return panels


def _pages_and_panels():
    return sorted((APP / "views").glob("*.py")) + _panels()


def test_pages_use_the_one_helper_module():
    """No page or panel defines its own tr / prose / show_code / lang, or keeps the language
    in a page-level variable (one that a function's parameter of the same name then shadows)."""
    helpers = {"tr", "T", "T_", "prose", "show_code", "lang", "explain", "shared"}
    for path in _pages_and_panels():
        tree = ast.parse(path.read_text("utf-8"))
        for node in tree.body:
            targets = []
            if isinstance(node, ast.Assign):
                targets = [ast.unparse(target) for target in node.targets]
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                targets = [node.name]
            assert not helpers & set(targets), f"{path.name}:{node.lineno} defines {targets}"
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                shadowed = helpers & {a.arg for a in node.args.args + node.args.kwonlyargs}
                assert not shadowed, f"{path.name}: {node.name}() shadows {shadowed}"
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert "app.ui" in imported, f"{path.name} does not use app/ui.py"
        assert not {"lessons.i18n", "inspect"} & imported, \
            f"{path.name}: text and source go through app/ui.py"


def test_one_cache_and_no_lazy_imports():
    """shared() is the only cache of results: no page uses st.cache_data / st.cache_resource
    (app/state keeps its few server-wide objects with cache_resource); and no import hides in a
    function (there is no cycle to break), but for the warm-up's server preparation: the
    point of app/state/warmup.py is to answer health checks before torch is imported."""
    lazy_on_purpose = {("warmup.py", "_prepare_server")}
    for path, tree in _app_sources():
        in_state = path.parent.name == "state"
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("cache_data", "cache_resource",
                                                                  "experimental_memo"):
                assert in_state and node.attr == "cache_resource", f"{path.name}:{node.lineno}"
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = [n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]
                assert not inner or (path.name, node.name) in lazy_on_purpose, \
                    f"{path.name}: {node.name}() imports inside itself"


VIEW_LINES = 150


def test_pages_are_short():
    """A page is widgets -> lessons calls -> figures + prose (DESIGN.md): at most 150 lines;
    what computes or draws lives in lessons/, the parts of a longer page in app/panels/."""
    for path in sorted((APP / "views").glob("*.py")):
        lines = len(path.read_text("utf-8").splitlines())
        assert lines <= VIEW_LINES, f"{path.name} has {lines} lines (at most {VIEW_LINES})"


def test_panels_are_not_pages():
    """A panel module only defines things (a page calls them): a statement that draws at
    import time would draw once per server, not once per visit."""
    drawing = (ast.Expr, ast.With, ast.For, ast.While, ast.If, ast.Try)
    for path in _panels():
        tree = ast.parse(path.read_text("utf-8"))
        assert ast.get_docstring(tree), f"{path.name} does not say what it is"
        for node in tree.body[1:]:                     # [0]: the module's docstring
            assert not isinstance(node, drawing), f"{path.name}:{node.lineno} runs at import"


def test_the_live_training_view_redraws_itself_every_second():
    """The training page's live view is a fragment rerun once a second (the load test polls
    it as such): decorated st.fragment(run_every=1.0) in its panel, and called by the page."""
    panel = ast.parse((APP / "panels" / "training_live.py").read_text("utf-8"))
    live = next(n for n in panel.body if isinstance(n, ast.FunctionDef) and n.name == "live_view")
    # guarded: its reruns skip main.py's guard, so it carries its own (issue #22)
    assert [ast.unparse(d) for d in live.decorator_list] == ["st.fragment(run_every=1.0)",
                                                             "guarded"]
    page = ast.parse((APP / "views" / "training.py").read_text("utf-8"))
    assert "live_view" in {ast.unparse(n.func) for n in ast.walk(page) if isinstance(n, ast.Call)}
