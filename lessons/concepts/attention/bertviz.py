"""bertviz's head view and model view as one self-contained HTML page that works offline.

bertviz (``head_view(..., html_action='return')``) emits HTML that fetches require.js, d3 v5
and jQuery from a CDN, so with no network it draws nothing. Here the page is built from files
of *installed* packages, read at run time and inlined:

- d3 v5         from ``mpld3/js/d3.v5.min.js``
- jQuery        from ``xstatic/pkg/jquery/data/jquery.min.js`` (XStatic-jQuery)
- the views     from ``bertviz/head_view.js`` and ``bertviz/model_view.js``

bertviz's scripts start with ``require.config({...CDN paths...})`` and then
``requirejs(['jquery', 'd3'], function ($, d3) {...})``. We drop the config block and give
them a five-line ``requirejs`` that hands over the globals d3 and jQuery already set.

Safety: the tokens travel as JSON inside a <script>. ``<``, ``>`` and ``&`` in that JSON are
written as ``\\u003c`` ... so a token like ``</script><img src=x onerror=alert(1)>`` stays a
string; bertviz then draws it with d3's ``.text()``, never as HTML.

We find the packages with ``importlib.util.find_spec`` so that bertviz's ``__init__`` (which
imports IPython) never runs: this module stays free of any notebook dependency.

>>> page = head_view_html(torch.ones(1, 1, 2, 2) / 2, ["a", "b"])
>>> "http://" in page or "https://" in page
False
"""
from __future__ import annotations

import html
import importlib.util
import json
import re
import uuid
from functools import lru_cache
from pathlib import Path

import torch

from lessons.palettes import CATEGORICAL


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the package {name!r} is not installed (pip install -e . installs it)")
    return Path(list(spec.submodule_search_locations)[0])


@lru_cache(maxsize=None)
def _library(name: str) -> str:
    """The JavaScript of one library, read from its installed package."""
    path = {
        "d3": _package_dir("mpld3") / "js" / "d3.v5.min.js",
        "jquery": _package_dir("xstatic.pkg.jquery") / "data" / "jquery.min.js",
        "head_view": _package_dir("bertviz") / "head_view.js",
        "model_view": _package_dir("bertviz") / "model_view.js",
    }[name]
    return _safe_colours(_offline_script(path.read_text("utf-8")))


def _safe_colours(js: str) -> str:
    """bertviz colours its heads and layers with d3's category10; use the Okabe-Ito palette
    every other figure uses (lessons/palettes.py), which colour-blind readers can tell apart.

    >>> _safe_colours("x = d3.schemeCategory10;")[:6]
    'x = ["'
    """
    return js.replace("d3.schemeCategory10", json.dumps(list(CATEGORICAL)))


def _offline_script(js: str) -> str:
    """Remove every web address from a script without changing what it does."""
    # bertviz: the header comment (it cites a GitHub file) and the CDN require.config block
    js = re.sub(r"\A\s*/\*\*.*?\*\*/", "", js, count=1, flags=re.S)
    js = re.sub(r"require\.config\(\{.*?\}\);", "", js, count=1, flags=re.S)
    # d3: its licence line names its web site; keep the notice, drop the scheme
    js = js.replace("// https://d3js.org", "// d3js.org")
    # d3's XML namespace names ("http://www.w3.org/2000/svg") are identifiers, never fetched;
    # inside a JS string "\/" is "/", so the same string is written without a literal URL
    js = re.sub(r'"(https?):/', r'"\1:\\/', js)
    js = js.replace(":\\//", ":\\/\\/")
    # subtle: "</script" or "<!--" in a library would end or confuse the <script> element
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.I).replace("<!--", "<\\!--")
    if re.search(r"https?://", js):
        raise RuntimeError("a web address is left in a bertviz script; the page would not be "
                           "offline (has a library been updated?)")
    return js


# bertviz's scripts call requirejs(['jquery', 'd3'], callback); d3 and jQuery are already
# loaded as globals (no AMD `define` exists when they run), so this is all require.js did.
REQUIRE_SHIM = """
window.requirejs = window.require = function (names, callback) {
  var modules = {jquery: window.jQuery, d3: window.d3};
  callback.apply(null, names.map(function (n) { return modules[n]; }));
};
window.require.config = function () {};
"""


def safe_json(value) -> str:
    """JSON that can sit inside a <script> element: no '<', '>' or '&' left as themselves.

    >>> safe_json(["</script>"])
    '["\\\\u003c/script\\\\u003e"]'
    """
    text = json.dumps(value, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def _attention_list(attention) -> list:
    """(L, H, T, T) tensor or list of (H, T, T) -> nested lists rounded to 4 decimals."""
    attn = torch.stack(list(attention)) if not torch.is_tensor(attention) else attention
    return torch.round(attn.float(), decimals=4).tolist()


def _page(view: str, params: dict, controls: str) -> str:
    script = _library(view).replace("PYTHON_PARAMS", safe_json(params))
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>bertviz</title>
<style>body{{margin:8px 8px 40px;background:white;font-family:'Helvetica Neue',Helvetica,Arial,sans-serif}}
#vis svg{{overflow:visible}}</style>
</head><body>
<div id="{params['root_div_id']}">
<span style="user-select:none">{controls}</span>
<div id="vis"></div>
</div>
<script>{_library('d3')}</script>
<script>{_library('jquery')}</script>
<script>{REQUIRE_SHIM}</script>
<script>{script}</script>
</body></html>"""


def head_view_html(attention, tokens: list[str], layer: int = 0,
                   layer_label: str = "Layer") -> str:
    """bertviz's head view (lines from each token to the ones it attends to, a colour per
    head) as a self-contained offline page. attention: (L, H, T, T) or a list of (H, T, T)."""
    attn = _attention_list(attention)
    _check(attn, tokens)
    layers = list(range(len(attn)))
    params = {"attention": [{"name": None, "attn": attn, "left_text": list(tokens),
                             "right_text": list(tokens)}],
              "default_filter": "0", "root_div_id": f"bertviz-{uuid.uuid4().hex}",
              "layer": layer, "heads": None, "include_layers": layers}
    controls = f'{html.escape(layer_label)}: <select id="layer"></select>'
    return _page("head_view", params, controls)


def model_view_html(attention, tokens: list[str]) -> str:
    """bertviz's model view (a thumbnail per layer and head; click one to enlarge) as a
    self-contained offline page."""
    attn = _attention_list(attention)
    _check(attn, tokens)
    params = {"attention": [{"name": None, "attn": attn, "left_text": list(tokens),
                             "right_text": list(tokens)}],
              "default_filter": "0", "display_mode": "light",
              "root_div_id": f"bertviz-{uuid.uuid4().hex}",
              "include_layers": list(range(len(attn))), "include_heads": list(range(len(attn[0]))),
              "total_heads": _thumbnail_columns(len(attn[0]))}
    return _page("model_view", params, "")


def _check(attn: list, tokens: list[str]) -> None:
    if not attn or len(attn[0][0]) != len(tokens):
        raise ValueError(f"the attention covers {len(attn[0][0]) if attn else 0} positions "
                         f"but there are {len(tokens)} tokens")


def head_view_height(n_tokens: int) -> int:
    """Pixels the head view needs (bertviz: 22.5 px a token, plus its controls)."""
    return int(n_tokens * 22.5 + 130)


def _thumbnail_columns(n_heads: int) -> int:
    # bertviz sizes each thumbnail as if the row held total_heads of them; a small model's 1-4
    # heads would each get a thumbnail hundreds of pixels tall, so size them as for 6 or more
    return max(n_heads, 6)


def model_view_height(n_tokens: int, n_layers: int, n_heads: int) -> int:
    """Pixels the model view needs (bertviz: a thumbnail row per layer)."""
    box = 7 * (12 / _thumbnail_columns(n_heads))
    detail = n_tokens * 18 + 2 * 15 + 25
    return int(max(n_layers * (n_tokens * box + 10) + 38, detail) + 40)


def iframe_html(page: str, height: int) -> str:
    """The page inside an <iframe srcdoc=...>, for a notebook cell (JupyterLab runs the
    scripts in their own document, so nothing leaks into the notebook's page)."""
    # the <div> keeps IPython's HTML() from suggesting its IFrame (which wants a URL)
    return (f'<div><iframe srcdoc="{html.escape(page, quote=True)}" '
            f'style="width:100%;height:{int(height)}px;border:0"></iframe></div>')
