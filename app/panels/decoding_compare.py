"""The decoding page's second and third parts: every strategy side by side on one prompt,
then the chosen strategy's text with the spans copied from the training text marked."""
from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from app.state import session
from app.ui import prose, shared, show_code, tr
from lessons.concepts.decoding import compute as dc
from lessons.concepts.decoding import figures as dcf
from lessons.display import visible


def compare_section(checkpoint, prompt: str, strategy: dc.Strategy, length: int) -> list[dict]:
    st.header(tr("decoding.compare_heading"))
    prose("decoding.compare_text")
    strategies = tuple(dataclasses.replace(strategy, name=name) for name in dc.STRATEGIES)
    rows = shared(dc.compare_view, checkpoint, prompt, strategies, length)
    training = session.active_training_text()
    names = {"greedy": "decoding.strategy_greedy", "sample": "decoding.strategy_sample",
             "top-k": "decoding.strategy_top_k", "top-p": "decoding.strategy_top_p",
             "beam": "decoding.strategy_beam"}
    st.dataframe(pd.DataFrame([{
        tr("decoding.col_strategy"): tr(names[row["strategy"].name]),
        tr("decoding.col_text"): row["text"],
        tr("decoding.col_logprob"): round(row["logprob"], 3),
        tr("decoding.col_mean_logprob"): round(row["mean_logprob"], 3),
        tr("decoding.col_perplexity"): round(row["perplexity"], 2),
        tr("decoding.col_distinct_1"): round(row["distinct_1"], 3),
        tr("decoding.col_distinct_2"): round(row["distinct_2"], 3),
        tr("decoding.col_copied"): round(shared(dc.copied_view, row["text"], training)["share"], 3)}
        for row in rows]),
        hide_index=True, key="decoding_compare_table")
    prose("decoding.compare_after")
    show_code(dc.measure, dc.distinct_n, label="decoding.show_compare_code")
    return rows


def copied_section(rows: list[dict], strategy: dc.Strategy) -> None:
    st.header(tr("decoding.copied_heading"))
    prose("decoding.copied_text")
    min_chars = st.slider(tr("decoding.min_chars_label"), 4, 40, 12, key="decoding_min_chars")
    text = next(row["text"] for row in rows if row["strategy"].name == strategy.name)
    if session.has_own_model():
        st.caption(tr("decoding.own_model_note"))
    found = shared(dc.copied_view, text, session.active_training_text(), min_chars)
    st.html(dcf.copied_html(text, found["spans"]))
    longest = visible(found["longest"]).replace("`", "'")
    prose("decoding.copied_result", share=f"{100 * found['share']:.0f}",
          chars=len(found["longest"]), longest=longest or "–")
    show_code(dc.longest_matches, dc.copied_spans, label="decoding.show_copied_code")
