"""Teacher links: an address that opens the same page with the same text in its boxes, the same
shipped model, language and widget settings, and optionally some controls hidden.

One mechanism for every page, because every page gives its widgets keys: Streamlit records the
keys of the widgets drawn in a run, and a widget whose key already holds a value in
``st.session_state`` when it is drawn starts from that value. So a link is the page's url path plus

    lang=zh  model=poems  w.<widget key>=<value as JSON> ...  hide=<key>,<key>

and opening it puts each ``w.`` value into ``st.session_state`` before the page is drawn. The
learner's id is never in a teacher link (it is this learner's work, not the class's).
``hide`` names widget keys (or ``sidebar``); Streamlit gives each keyed widget the CSS class
``st-key-<key>``, which one style rule hides. Hidden stays hidden: the list is kept for the
session and put back into the address on every page.
"""
from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.state import get_session_state

from app.state import session
from lessons.widget_keys import NAME as _NAME
from lessons.display import style_html
from lessons.widget_keys import SIDEBAR, hiding_css, settings_widget_keys  # noqa: F401 (SIDEBAR: for the link box)
from lessons.engine.checkpoint import SHIPPED_MODELS
from lessons.i18n import LANGUAGES

WIDGET_PREFIX = "w."
HIDE_PARAM = "hide"
HIDDEN_KEY = "link_hidden"
APPLIED_KEY = "link_applied"
MAX_VALUE_CHARS = 5_000           # one value in a link (the hosted text cap)
# value kinds a link can carry; buttons, uploads and downloads are not settings
_SETTING_KINDS = {"bool_value", "int_value", "double_value", "string_value",
                  "int_array_value", "double_array_value", "string_array_value"}
# never in a link: the language and model have their own parameters, the device is the
# visitor's machine, and the link box's own widgets are not part of the view
_NOT_LINKED = {session.LANG_KEY, session.SHIPPED_KEY, session.DEVICE_KEY}
_OWN_PREFIXES = ("link_", "work_", "tour_")


def _json_scalar_or_list(value) -> bool:
    scalars = (str, int, float, bool)
    return isinstance(value, scalars) or (isinstance(value, (list, tuple)) and len(value) <= 64
                                          and all(isinstance(v, scalars) for v in value))


def widget_settings_this_run() -> dict[str, object]:
    """{key: value} of the keyed settings widgets drawn in this run so far (text boxes,
    sliders, select boxes, ...), in the order Streamlit recorded them."""
    kinds = _widget_kinds()
    found = {}
    for key in widget_keys_this_run():
        if key in _NOT_LINKED or key not in widget_keys_in_code() or key not in st.session_state \
                or kinds.get(key) not in _SETTING_KINDS:
            continue
        value = st.session_state[key]
        if _json_scalar_or_list(value) and len(json.dumps(value, ensure_ascii=False)) <= MAX_VALUE_CHARS:
            found[key] = list(value) if isinstance(value, tuple) else value
    return found


def widget_keys_this_run() -> list[str]:
    """The keys of every widget drawn in this run so far, but the link's and the work box's
    own (names a teacher can hide)."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return []
    keys = ctx.shared.widget_user_keys_this_run.snapshot()
    return sorted(k for k in keys if _NAME.fullmatch(k) and not k.startswith(_OWN_PREFIXES))


def _widget_kinds() -> dict[str, str]:
    """{widget key: the kind of value it holds}, e.g. "string_value" for a text box and
    "trigger_value" for a button. Streamlit's internals: where they differ, no widget's value
    goes into a link (the link still opens the page, language and model)."""
    try:
        state = get_session_state()._state
        metadata = state._new_widget_state.widget_metadata
        return {key: metadata[wid].value_type
                for key, wid in state._key_id_mapper._key_id_mapping.items() if wid in metadata}
    except AttributeError:
        return {}


def link_params(settings: dict[str, object], hidden: list[str]) -> dict[str, str]:
    """The query parameters of a teacher link.

    >>> link_params({"tok_text": "猫", "temp": 0.5}, ["shipped_model"])
    {'w.tok_text': '"猫"', 'w.temp': '0.5', 'hide': 'shipped_model'}
    """
    params = {WIDGET_PREFIX + key: json.dumps(value, ensure_ascii=False)
              for key, value in settings.items()}
    if hidden:
        params[HIDE_PARAM] = ",".join(hidden)
    return params


def view_link(url_path: str, hidden: list[str]) -> str:
    """The address of this view, as a teacher sends it (no learner id)."""
    params = {"lang": session.lang()}
    if not session.has_own_model():   # a model of one's own is not the class's to open
        params["model"] = session.chosen_shipped()
    params.update(link_params(widget_settings_this_run(), hidden))
    return f"{app_base_url(url_path)}{url_path}?{urlencode(params)}"


def app_base_url(url_path: str) -> str:
    """The app's root address as the browser sees it (behind a proxy too), ending in '/'."""
    here = st.context.url or ""
    parts = urlsplit(here)
    path = parts.path
    if url_path and path.rstrip("/").endswith("/" + url_path):
        path = path.rstrip("/")[: -len(url_path)]
    if not path.endswith("/"):
        path += "/"
    return f"{parts.scheme}://{parts.netloc}{path}" if parts.netloc else path


# ---- opening a link -------------------------------------------------------------------------

def widget_keys_in_code() -> frozenset[str]:
    """The keys of the settings widgets the app's code declares: the only names a link may set.

    subtle: a link must not set any other session-state name. ``w.work_learner=<someone's id>``
    would otherwise make a victim's work go to an attacker's store, ``w.run_book=1`` break the
    page, ``w.tr_start=true`` press a button."""
    return frozenset(k for k in settings_widget_keys() if not k.startswith(_OWN_PREFIXES))


def parse_hidden(text: str | None) -> list[str]:
    """The names of a ``hide`` parameter that can be widget keys; the rest are dropped.

    >>> parse_hidden("shipped_model,../x,tok_text")
    ['shipped_model', 'tok_text']
    """
    return [name for name in (text or "").split(",") if _NAME.fullmatch(name)][:64]


def apply_params(params: dict[str, str]) -> None:
    """Put a link's settings into this session (before any widget is drawn). Bad values are
    skipped: a link someone edited by hand opens the page with its defaults instead."""
    if params.get("model") in SHIPPED_MODELS:
        st.session_state[session.SHIPPED_KEY] = params["model"]
        st.session_state[session.SHIPPED_PICKED_KEY] = True
    if params.get("lang") in LANGUAGES:
        st.session_state[session.LANG_KEY] = params["lang"]
    for name, raw in params.items():
        key = name[len(WIDGET_PREFIX):]
        if not name.startswith(WIDGET_PREFIX) or key in _NOT_LINKED or \
                key not in widget_keys_in_code():
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        if _json_scalar_or_list(value) and len(raw) <= MAX_VALUE_CHARS * 2:
            st.session_state[key] = value
    if HIDE_PARAM in params:
        st.session_state[HIDDEN_KEY] = parse_hidden(params[HIDE_PARAM])


def apply_link_once() -> None:
    """A link's settings apply once, on the session's first run; after that the learner's own
    changes stand. What it hides stays hidden for the whole session."""
    if st.session_state.get(APPLIED_KEY):
        return
    st.session_state[APPLIED_KEY] = True
    apply_params(st.query_params.to_dict())


def hidden() -> list[str]:
    return st.session_state.get(HIDDEN_KEY, [])


def hide_controls() -> None:
    """One style rule for the hidden controls, and the list kept in the address."""
    names = hidden()
    css = hiding_css(names)
    if not css:
        return
    st.query_params[HIDE_PARAM] = ",".join(names)
    st.html(style_html(css))
