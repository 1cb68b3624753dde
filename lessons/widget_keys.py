"""The app's widget keys, read from its code, and the one CSS rule that hides some of them.

A teacher's link (app/state/links.py) may set only the settings widgets the code declares
(``st.slider(..., key="softmax_temperature")``): read here from the syntax of app/, so a new
page's widgets are linkable without a list to keep up to date. UI-free: it reads source text.

>>> "softmax_temperature" in settings_widget_keys(), "tr_start" in settings_widget_keys()
(True, False)
"""
from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from lessons import registry

NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")    # what a hidden or linked widget key may be
APP_FOLDER = Path(__file__).resolve().parent.parent / "app"
SIDEBAR = "sidebar"                          # hides the whole sidebar
# the widgets whose value is a setting (buttons, uploads and downloads are not)
SETTING_WIDGETS = {"text_input", "text_area", "slider", "select_slider", "selectbox", "radio",
                   "checkbox", "toggle", "number_input", "multiselect", "pills",
                   "segmented_control"}


@functools.lru_cache(maxsize=1)
def settings_widget_keys() -> frozenset[str]:
    """Every literal key given to a settings widget in app/ (``key="x"``, or ``key=X`` for a
    module's ``X = "x"``), and every text box of the registry (some keys are built at run time)."""
    found = {box.key for entry in registry.PAGES for box in entry.text_boxes}
    for path in sorted(APP_FOLDER.rglob("*.py")):
        found |= settings_keys_in_source(path.read_text("utf-8"))
    return frozenset(key for key in found if NAME.fullmatch(key))


def settings_keys_in_source(source: str) -> set[str]:
    """The settings-widget keys of one module's source (a button's key is not one).

    >>> src = 'K = "b"\\nst.slider("x", key="a")\\nc.radio("y", key=K)\\nst.button("z", key="c")'
    >>> sorted(settings_keys_in_source(src))
    ['a', 'b']
    """
    tree = ast.parse(source)
    constants = _string_constants(tree)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in SETTING_WIDGETS:
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "key" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.add(value.value)
                elif keyword.arg == "key" and isinstance(value, ast.Name) and value.id in constants:
                    found.add(constants[value.id])
    return found


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """A module's top-level names bound to strings: ``A = "x"`` and ``A, B = "x", "y"``."""
    found = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target, value = node.targets[0], node.value
        pairs = zip(target.elts, value.elts) if isinstance(target, ast.Tuple) and \
            isinstance(value, ast.Tuple) else [(target, value)]
        for name, text in pairs:
            if isinstance(name, ast.Name) and isinstance(text, ast.Constant) and isinstance(text.value, str):
                found[name.id] = text.value
    return found


def hiding_css(names: list[str]) -> str:
    """One CSS rule hiding the widgets of these keys (Streamlit gives a keyed widget the class
    ``st-key-<key>``); ``sidebar`` hides the sidebar. A name that is not a plain key is left
    out, so nothing in a link can end the rule (lessons.display.style_html wraps it).

    >>> hiding_css(["shipped_model", "x}</style><script>"])
    '.st-key-shipped_model { display: none !important; }'
    >>> hiding_css(["</style>"])
    ''
    """
    rules = [f".st-key-{name}" for name in names if name != SIDEBAR and NAME.fullmatch(name)]
    if SIDEBAR in names:
        rules += ['[data-testid="stSidebar"]', '[data-testid="stSidebarCollapsedControl"]',
                  '[data-testid="stExpandSidebarButton"]']
    return f"{', '.join(rules)} {{ display: none !important; }}" if rules else ""
