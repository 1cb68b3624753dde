"""Starting a run: the settings read back, the text it learns from, its size and time
estimated before it starts, and the Start button."""
from __future__ import annotations

import streamlit as st

from app.panels.training_setup import chosen_configs
from app.state import runs, session
from app.ui import explain, lang, shared, tr
from lessons.concepts.training.compute import duration_text, run_estimate, vocabulary_size
from lessons.engine.config import ConfigError, ModelConfig, TrainConfig
from lessons.engine.corpus import (BUILTIN_TEXTS, CorpusError, builtin_text, check_training_text,
                                   decode_user_bytes, embedded_corpus)
from lessons.engine.training import measure_flops_per_second
from lessons.hosting.runs import RunRefused


HAD_RUNS = "had_runs"   # query parameter: this tab started a run on this server before


def training_text() -> tuple[str, str] | None:
    """(name, text) of the chosen corpus, or None after showing what is wrong."""
    if st.session_state.tr_corpus == "embedded":
        return tr("training.corpus_embedded"), check_training_text(embedded_corpus())
    if st.session_state.tr_corpus in BUILTIN_TEXTS:
        key = st.session_state.tr_corpus
        return tr(f"training.corpus_{key}"), check_training_text(builtin_text(key))
    upload = st.session_state.get("tr_upload")
    if upload is None:
        st.info(tr("training.upload_first"))
        return None
    try:
        return upload.name, decode_user_bytes(upload.getvalue(), runs.limits().max_upload_bytes)
    except CorpusError as exc:
        st.error(tr("training.bad_corpus", reason=explain(exc)))
        return None


def estimate(model: ModelConfig, train: TrainConfig, text: str) -> bool:
    """Show size and time estimates; False if the model is over this server's size cap."""
    # both shared: the vocabulary reads the whole corpus (keyed by its digest), and the
    # machine's speed is measured by timing a few training steps
    vocab = shared(vocabulary_size, train.tokenizer, text, train.bpe_vocab_size, train.min_count)
    guess = run_estimate(model, train, vocab, shared(measure_flops_per_second, session.device()))
    a, b, c = st.columns(3)
    a.metric(tr("training.parameters"), f"{guess.parameters:,}")
    b.metric(tr("training.time_per_step"), f"{guess.seconds_per_step * 1000:.0f} ms")
    c.metric(tr("training.time_total"), duration_text(guess.seconds_total, lang()))
    cap = runs.limits().max_parameters
    if guess.parameters > cap:
        st.error(tr("training.too_big", params=f"{guess.parameters:,}", cap=f"{cap:,}"))
    return guess.parameters <= cap


def start_run() -> None:
    try:
        model, train = chosen_configs()
    except ConfigError as exc:
        st.error(tr("training.bad_settings", reason=explain(exc)))
        return
    corpus = training_text()
    fits = corpus is not None and estimate(model, train, corpus[1])
    book = runs.run_book()
    refusal = start_refusal(book)
    if refusal:
        st.info(refusal)
    if st.button(tr("training.start"), type="primary", key="tr_start",
                 disabled=corpus is None or not fits or refusal is not None):
        name, text = corpus
        try:   # checked again: a crafted client can click a disabled button
            run = book.start(model, train, text, name, device=session.device(),
                             objective=st.session_state.get("tr_objective", "next"),
                             # {n}: the book numbers its runs, so no two share a name
                             name=tr("training.run_name", n="{n}", lr=train.learning_rate))
        except RunRefused as exc:
            st.error(explain(exc))
            return
        st.session_state.tr_current = run.id
        # in the address, which outlives the session: after a server restart the new session
        # has no runs, and the live view can say why instead of a bare "No run yet"
        st.query_params[HAD_RUNS] = "1"


def start_refusal(book) -> str | None:
    """Why Start is off now (this learner's run still waits for a slot, or every run they
    may keep is busy), or None."""
    try:
        book.check_can_start()
    except RunRefused as exc:
        return explain(exc)
    return None
