"""The attention page's first two parts, on the source document's own examples: attention
between six hand-made word vectors the learner can edit, and its worked softmax(W_a . h_t)."""
from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from app.ui import lang, prose, shared, tr
from lessons.concepts.attention import compute as A
from lessons.concepts.attention import figures as AF
from lessons.worked_numbers import VERDICTS, worked_number, worst_verdict


def simple_attention_section() -> None:
    """The document's simple attention on word vectors the learner edits in a table."""
    st.header(tr("attention.doc_heading"))
    prose("attention.doc_intro")
    features = A.WORD_FEATURES     # stable column names; the labels are translated
    feature_labels = {"thing": tr("attention.doc_feature_thing"),
                      "action": tr("attention.doc_feature_action"),
                      "glue": tr("attention.doc_feature_glue")}
    defaults = pd.DataFrame(A.DEFAULT_WORD_VECTORS, columns=features, index=A.DOCUMENT_WORDS)
    edited = st.data_editor(defaults, key="attention_vectors", width="stretch", column_config={
        "_index": st.column_config.TextColumn(tr("attention.doc_word")),
        **{f: st.column_config.NumberColumn(feature_labels[f], step=0.1, format="%.2f")
           for f in features}})
    vectors = pd.DataFrame(edited, columns=features).apply(pd.to_numeric, errors="coerce")
    if vectors.isna().any().any():
        st.warning(tr("attention.doc_bad_vectors"))
        vectors = vectors.fillna(defaults)
    use_query = st.checkbox(tr("attention.doc_use_query"), key="attention_use_query")
    x = torch.tensor(vectors.to_numpy(), dtype=torch.float32)
    weights, y = A.simple_attention(x, A.DEMO_QUERY_MAP if use_query else None)
    left, right = st.columns([3, 2])
    left.plotly_chart(shared(AF.attention_heatmap, weights, A.DOCUMENT_WORDS, A.DOCUMENT_WORDS,
                             lang(), tr("attention.doc_weights_title")), key="attention_doc_heatmap")
    right.markdown(f"**{tr('attention.doc_output_title')}**")
    right.dataframe(pd.DataFrame(y.numpy(), columns=[feature_labels[f] for f in features],
                                 index=A.DOCUMENT_WORDS).round(3))
    on_diagonal = A.diagonal_is_row_max(weights)
    right.info(tr("attention.doc_self_max", count=sum(on_diagonal), total=len(on_diagonal)))
    prose("attention.doc_notice")
    prose("attention.doc_qk_explain")


def worked_example_section() -> None:
    """The document's W_a . h_t scores and their softmax: its numbers, ours and the verdict."""
    st.header(tr("attention.wa_heading"))
    scores, weights = worked_number("attention_scores"), worked_number("attention_weights")
    prose("attention.wa_body", w_a=A.list_text(scores.inputs["W_a"]),
          h_t=A.list_text(scores.inputs["h_t"]), scores=A.list_text(scores.ours),
          scores_document=scores.document_text(lang()),
          ours="[" + ", ".join(f"{p:.6f}" for p in weights.ours) + "]",
          document=weights.document_text(lang()))
    getattr(st, VERDICTS[worst_verdict([scores, weights])].tone)(   # st.success, st.error or st.info
        tr("attention.wa_verdict", scores_verdict=scores.label(lang()),
           weights_verdict=weights.label(lang())))
