"""Tokenisation page, section 6: one Chinese text by character, byte-level BPE and jieba's word
segmentation, tokens per character for each, and the BPE merges that rebuild characters."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app.ui import free_text, prose, shared, tr
from lessons.concepts.tokenization import chinese
from lessons.concepts.tokenization.compute import cap_text
from lessons.concepts.tokenization import figures as lesson_figures

NAMES = {"char": "tokenization.zh_name_char", "bpe": "tokenization.zh_name_bpe",
         "jieba": "tokenization.zh_name_jieba"}
ZH_CHAR_LIMIT = 2_000


def per_char_figure(cuts, title: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=[tr(NAMES[c.name]) for c in cuts], y=[c.tokens_per_char for c in cuts],
                           text=[f"{c.tokens_per_char:.2f}" for c in cuts], textposition="outside"))
    fig.update_layout(title=title, height=320, yaxis={"rangemode": "tozero"})
    return fig


def chinese_section() -> None:
    st.header(tr("tokenization.zh_heading"))
    prose("tokenization.zh_intro")
    st.session_state.setdefault("tok_zh_text", chinese.DEFAULT_CHINESE_TEXT)
    typed = free_text(st.text_area, tr("tokenization.zh_text_label"), key="tok_zh_text")
    # three rows of chips for a whole book would stall the page: compare the first part
    text, was_cut = cap_text(typed, ZH_CHAR_LIMIT)
    if was_cut:
        st.warning(tr("tokenization.capped", n=f"{len(typed):,}", limit=f"{ZH_CHAR_LIMIT:,}"))
    if not text.strip():
        st.info(tr("tokenization.zh_empty"))
        return
    cuts = shared(chinese.chinese_cuts, text, chinese.CHINESE_BPE_VOCAB)
    for cut in cuts:
        st.markdown(tr("tokenization.zh_row", name=tr(NAMES[cut.name]), tokens=cut.tokens,
                       per_char=f"{cut.tokens_per_char:.2f}"))
        st.html(lesson_figures.pieces_html(cut.pieces))
    st.plotly_chart(per_char_figure(cuts, tr("tokenization.zh_chart_title")), key="tok_zh_chart")
    prose("tokenization.zh_merges_intro", vocab=chinese.CHINESE_BPE_VOCAB)
    rows = shared(chinese.character_merges, chinese.CHINESE_BPE_VOCAB)
    st.dataframe(pd.DataFrame(rows).rename(columns={
        "step": tr("tokenization.col_step"), "pieces": tr("tokenization.zh_col_pieces"),
        "character": tr("tokenization.zh_col_character"), "bytes": tr("tokenization.zh_col_bytes")}),
        hide_index=True)
