"""The forward-pass page's last part: post 003's feed-forward z = f(Wy + b) and its next-word
example, as written and done right, both rows of the one worked-numbers source."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.ui import lang, prose, tr
from lessons.concepts.attention.compute import DOCUMENT_WORDS
from lessons.worked_numbers import VERDICTS, worked_number


def document_section() -> None:
    """The two 003 §4.3 rows: what each computes, our numbers, the verdict and why."""
    st.header(tr("forward_pass.doc_heading"))
    prose("forward_pass.doc_intro")
    as_written, done_right = worked_number("next_word_document"), worked_number("next_word_fixed")
    features = [tr("attention.doc_feature_thing"), tr("attention.doc_feature_action"),
                tr("attention.doc_feature_glue")]           # the word vectors' three features
    for row, labels in ((as_written, features), (done_right, DOCUMENT_WORDS)):
        st.markdown(f"**{row.source} · {row.what(lang())}**")
        st.dataframe(pd.DataFrame({tr("forward_pass.doc_output"): labels,
                                   tr("forward_pass.col_probability"): [round(p, 4) for p in row.ours]}),
                     hide_index=True)
        getattr(st, VERDICTS[row.verdict].tone)(f"{row.label(lang())} · {row.why(lang())}")
