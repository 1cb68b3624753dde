"""The training page's settings form: a preset copied into the widgets, every setting the
learner may change, kept across visits to other pages, and read back as the two configs."""
from __future__ import annotations

import math
from dataclasses import replace

import streamlit as st

from app.state import runs, session
from app.ui import tr
from lessons.engine.config import PRESET_TEXTS, PRESETS, ModelConfig, TrainConfig
from lessons.hosting.limits import upload_widget_mb

# option -> the full prose key of its label
PAGE_PRESETS = {"quick-demo": "training.preset_quick_demo", "tiny": "training.preset_tiny",
                "baby": "training.preset_baby", "speedrun-cpu": "training.preset_speedrun_cpu",
                "classroom": "training.preset_classroom",
                "shakespeare-char": "training.preset_shakespeare_char",
                "poet": "training.preset_poet", "poems": "training.preset_poems"}
# "embedded" is the default built-in text; any other built-in text goes by its BUILTIN_TEXTS key
CORPORA = {"embedded": "training.corpus_embedded", "poems_zh": "training.corpus_poems_zh",
           "upload": "training.corpus_upload"}
TOKENIZERS = {"char": "training.tokenizer_char", "bpe": "training.tokenizer_bpe"}
OBJECTIVES = {"next": "training.objective_next", "masked": "training.objective_masked"}
BATCH_SIZES = [1, 2, 4, 8, 12, 16, 32, 64, 96, 128]
LEARNING_RATES = [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 4e-3, 5e-3, 1e-2, 3e-2, 1e-1, 1.0, 10.0]
# widget key -> (which config, field)
FIELDS = {"tr_layers": ("model", "n_layer"), "tr_heads": ("model", "n_head"),
          "tr_width": ("model", "n_embd"), "tr_block": ("model", "block_size"),
          "tr_dropout": ("model", "dropout"), "tr_batch": ("train", "batch_size"),
          "tr_lr": ("train", "learning_rate"), "tr_warmup": ("train", "warmup_iters"),
          "tr_steps": ("train", "max_iters")}
SETTING_KEYS = ["tr_preset", "tr_corpus", "tr_tokenizer", "tr_bpe_vocab", "tr_objective", *FIELDS]


def option_labels(keys: dict) -> dict:
    """Option -> translated label, made now: a format_func must not look up the language
    later (AppTest calls it outside the script run)."""
    return {option: tr(key) for option, key in keys.items()}


def chosen_preset() -> str:
    """The preset box's value. A crafted client can send any string for it (issue #22: an
    unknown name was a KeyError); one that names no preset counts as the first."""
    name = st.session_state.get("tr_preset")
    return name if name in PAGE_PRESETS else next(iter(PAGE_PRESETS))


def apply_preset() -> None:
    """Copy the chosen preset into the widgets (called when the preset box changes)."""
    model, train = PRESETS[chosen_preset()]
    configs = {"model": model, "train": train}
    for key, (which, name) in FIELDS.items():
        st.session_state[key] = getattr(configs[which], name)
    st.session_state.tr_lr = min(LEARNING_RATES, key=lambda v: abs(math.log(v / train.learning_rate)))
    st.session_state.tr_tokenizer = train.tokenizer
    if st.session_state.tr_preset in PRESET_TEXTS:     # the poet preset brings its poems
        st.session_state.tr_corpus = PRESET_TEXTS[st.session_state.tr_preset]


def chosen_configs() -> tuple[ModelConfig, TrainConfig]:
    """The preset with the learner's changes; ConfigError for settings that cannot work."""
    model, train = PRESETS[chosen_preset()]
    values = {which: {n: st.session_state[k] for k, (w, n) in FIELDS.items() if w == which}
              for which in ("model", "train")}
    model = replace(model, **values["model"])
    # keep the preset's schedule shape when the learner changes the length of the run
    steps = values["train"]["max_iters"]
    train = replace(train, **values["train"], tokenizer=st.session_state.tr_tokenizer,
                    bpe_vocab_size=st.session_state.tr_bpe_vocab,
                    min_lr=values["train"]["learning_rate"] / 10,
                    eval_interval=max(1, min(train.eval_interval, steps // 4 or 1)))
    return model, train


def remember_settings() -> None:
    """Streamlit forgets a widget's value when its page is left; keep a copy under another
    key so the learner's settings are still there when they come back."""
    for key in SETTING_KEYS:
        if key in st.session_state:
            st.session_state["saved_" + key] = st.session_state[key]


def restore_settings() -> None:
    for key in SETTING_KEYS:
        if key not in st.session_state and "saved_" + key in st.session_state:
            st.session_state[key] = st.session_state["saved_" + key]


def setup_form() -> None:
    restore_settings()
    # on the Chinese poems model the page suggests training a poet on the same poems
    poems = session.active_model_text() == PRESET_TEXTS["poet"]
    st.session_state.setdefault("tr_preset", "poet" if poems else "quick-demo")
    if "tr_layers" not in st.session_state:
        apply_preset()
    st.selectbox(tr("training.preset"), list(PAGE_PRESETS), key="tr_preset", on_change=apply_preset,
                 format_func=option_labels(PAGE_PRESETS).get)
    left, right = st.columns(2)
    with left:
        st.radio(tr("training.corpus"), list(CORPORA), key="tr_corpus", horizontal=True,
                 format_func=option_labels(CORPORA).get)
        if st.session_state.tr_corpus == "upload":
            cap = runs.limits().max_upload_bytes
            st.file_uploader(tr("training.upload_text", mb=cap / 1e6), type=["txt"],
                             key="tr_upload", max_upload_size=upload_widget_mb(cap))
        st.radio(tr("training.tokenizer"), list(TOKENIZERS), key="tr_tokenizer", horizontal=True,
                 format_func=option_labels(TOKENIZERS).get)
        st.session_state.setdefault("tr_bpe_vocab", 512)
        st.slider(tr("training.bpe_vocab"), 260, 4096, step=4, key="tr_bpe_vocab",
                  disabled=st.session_state.tr_tokenizer != "bpe")
        st.slider(tr("training.layers"), 1, 8, key="tr_layers")
        st.slider(tr("training.heads"), 1, 8, key="tr_heads")
        st.select_slider(tr("training.width"), [16, 32, 48, 64, 96, 128, 192, 256, 384], key="tr_width")
    with right:
        st.select_slider(tr("training.block"), [8, 16, 32, 64, 128, 256], key="tr_block")
        st.select_slider(tr("training.batch"), BATCH_SIZES, key="tr_batch")
        st.select_slider(tr("training.lr"), LEARNING_RATES, key="tr_lr", help=tr("training.lr_help"))
        st.number_input(tr("training.warmup"), 0, 5000, step=10, key="tr_warmup")
        st.number_input(tr("training.steps"), 10, runs.limits().max_steps, step=50, key="tr_steps")
        st.slider(tr("training.dropout"), 0.0, 0.5, step=0.05, key="tr_dropout")
        st.session_state.setdefault("tr_objective", "next")
        st.radio(tr("training.objective"), list(OBJECTIVES), key="tr_objective", horizontal=True,
                 format_func=option_labels(OBJECTIVES).get, help=tr("training.objective_help"))
    remember_settings()
