"""One browser session's choices: its language, the model every page shows, the device it
trains on. Kept in ``st.session_state``, which Streamlit never shares between sessions; the
keys live here only.
"""
from __future__ import annotations

import streamlit as st

from lessons.engine.checkpoint import (DEFAULT_SHIPPED, SHIPPED_MODELS, Checkpoint, load_shipped_model,
                                       shipped_for_language)
from lessons.engine.corpus import BUILTIN_TEXTS, builtin_text
from lessons.engine.devices import available_devices, pick_device
from lessons.i18n import DEFAULT_LANGUAGE, t

LANG_KEY = "lang"
MODEL_KEY = "active_model"        # (name, Checkpoint) chosen in this session, or absent
MODEL_TEXT_KEY = "active_model_text"   # what that model of one's own learned from (a name)
SHIPPED_KEY = "shipped_model"     # which shipped model the session shows when it has none of its own
SHIPPED_PICKED_KEY = "shipped_model_picked"   # True once the learner chose a shipped model
DEVICE_KEY = "device"             # "auto", "cpu", "cuda", ... as picked in the sidebar


def lang() -> str:
    return st.session_state.get(LANG_KEY, DEFAULT_LANGUAGE)


# ---- the active model ----------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def shipped_checkpoint(key: str = DEFAULT_SHIPPED) -> Checkpoint:
    """A shipped model, loaded once for the whole server and only ever read.

    Not a cache of results (those go through results.shared): it is one of the server-wide
    objects every session starts from, and its uid keys the shared pictures of it."""
    return load_shipped_model(key)


def chosen_shipped() -> str:
    """The shipped model this session shows when it has none of its own (a key of SHIPPED_MODELS)."""
    key = st.session_state.get(SHIPPED_KEY, DEFAULT_SHIPPED)
    return key if key in SHIPPED_MODELS else DEFAULT_SHIPPED


def follow_language() -> None:
    """After a language change, show that language's shipped model, unless the learner has
    picked one themselves (their pick stands; their own trained model stays active either way)."""
    if not st.session_state.get(SHIPPED_PICKED_KEY):
        st.session_state[SHIPPED_KEY] = shipped_for_language(lang())
    st.query_params["lang"] = lang()     # a reload (F5) keeps the language


def pick_shipped() -> None:
    """The sidebar's shipped-model box changed: remember it was a choice, and show that model."""
    st.session_state[SHIPPED_PICKED_KEY] = True
    use_shipped_model()


def shipped_model_name(key: str) -> str:
    return t(f"app.shipped_model_{key}", lang())


def active_checkpoint() -> Checkpoint:
    chosen = st.session_state.get(MODEL_KEY)
    return chosen[1] if chosen else shipped_checkpoint(chosen_shipped())


def active_model_name() -> str:
    chosen = st.session_state.get(MODEL_KEY)
    return chosen[0] if chosen else shipped_model_name(chosen_shipped())


def active_model_text() -> str:
    """The built-in text the active model learned from (a key of BUILTIN_TEXTS), or "own"."""
    return "own" if has_own_model() else SHIPPED_MODELS[chosen_shipped()].text


def active_training_text() -> str:
    """The built-in text the active model learned from; for a model of one's own (whose text
    the session does not keep) the default text."""
    key = active_model_text()
    return builtin_text(key) if key in BUILTIN_TEXTS else builtin_text()


def trained_on_text() -> str:
    """One sentence: what the active model learned from (the shipped text, or the name of the
    text a model of one's own was trained on, where known)."""
    if not has_own_model():
        return t(f"app.trained_on_{active_model_text()}", lang())
    named = own_model_text()
    return t("app.trained_on_own_named", lang(), text=named) if named else t("app.trained_on_own", lang())


def has_own_model() -> bool:
    """True when this session replaced the shipped model by one of its own."""
    return bool(st.session_state.get(MODEL_KEY))


def own_model_text() -> str | None:
    """The name of the text a model of one's own learned from, where known (a run's corpus)."""
    return st.session_state.get(MODEL_TEXT_KEY) if has_own_model() else None


def use_model(name: str, checkpoint: Checkpoint, trained_on: str | None = None) -> None:
    """Make a model the one every page shows (app/state/work.py keeps it for the learner).
    ``trained_on``: the name of the text it learned from, shown on the home page and sidebar."""
    st.session_state[MODEL_KEY] = (name, checkpoint)
    st.session_state[MODEL_TEXT_KEY] = trained_on


def use_shipped_model() -> None:
    """Show the chosen shipped model again (the learner's own models stay in their runs)."""
    st.session_state.pop(MODEL_KEY, None)


# ---- the device ----------------------------------------------------------------------------

def device() -> str:
    """The device this session trains on ('auto' resolved)."""
    return pick_device(st.session_state.get(DEVICE_KEY, "auto"))


def device_choices() -> list[str]:
    return ["auto"] + available_devices()


def forget_missing_device() -> str | None:
    """If this session chose a device this machine no longer has (a GPU that went away),
    fall back to auto and return the missing one's name so the sidebar can say so.
    Called before the device box is drawn: a widget's value cannot change after that."""
    chosen = st.session_state.get(DEVICE_KEY, "auto")
    if chosen in device_choices():
        return None
    st.session_state[DEVICE_KEY] = "auto"
    return str(chosen)
