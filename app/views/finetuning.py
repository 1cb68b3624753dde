"""Fine-tuning: the active (pre-trained) model turned into a classifier four ways, trained live
side by side and measured; what it forgets; how to measure a model; continued pre-training.

The parts live in app/panels/: finetuning_setup (data, steps, Start), finetuning_live (progress,
scores, curves, confusion matrix, misclassified texts, use this model) and finetuning_more
(forgetting, how to measure a model, continued pre-training)."""
from __future__ import annotations

import streamlit as st

from app.panels.finetuning_live import live_view
from app.panels.finetuning_more import continued_view, forgetting_view, measure_view
from app.panels.finetuning_setup import setup_and_start
from app.state import session
from app.ui import prose, tr
from app.panels.quiz import quiz_section

st.title(tr("finetuning.title"))
prose("finetuning.intro")
st.caption(tr("finetuning.starts_from", name=session.active_model_name()))
with st.expander(tr("finetuning.methods_heading")):
    prose("finetuning.methods_text")

st.header(tr("finetuning.data_heading"))
prose("finetuning.data_text")
setup_and_start()
st.header(tr("finetuning.live_heading"))
live_view()
st.header(tr("finetuning.forgetting_heading"))
forgetting_view()
st.header(tr("evaluation.title"))
measure_view()
st.header(tr("finetuning.continued_heading"))
continued_view()
quiz_section("finetuning")
