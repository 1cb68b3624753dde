"""Comparing this session's runs: their curves on one chart and their settings side by side."""
from __future__ import annotations

import streamlit as st

from app.panels.training_setup import option_labels
from app.state import runs
from app.ui import lang, tr
from lessons.concepts.training.figures import compare_runs

COMPARE_METRICS = {"val_loss": "training.val_loss", "train_loss": "training.train_loss"}


def compare_section() -> None:
    book = runs.run_book()
    if len(book.runs) < 2:
        st.caption(tr("training.compare_hint"))
        return
    ids = list(book.runs)
    chosen = st.multiselect(tr("training.compare_runs"), ids, default=ids[-3:], key="tr_compare",
                            placeholder=tr("app.choose_options"),
                            format_func=lambda i: book.runs[i].name)
    metric = st.radio(tr("training.compare_metric"), list(COMPARE_METRICS), horizontal=True,
                      key="tr_compare_metric", format_func=option_labels(COMPARE_METRICS).get)
    chosen_runs = {book.runs[i].name: book.runs[i].metrics for i in chosen if i in book.runs}
    st.plotly_chart(compare_runs(chosen_runs, metric, lang()))
    st.dataframe([book.runs[i].settings() for i in chosen if i in book.runs], hide_index=True)
