"""Training: set up a run, start it, watch it live, compare runs, keep and share models.

The parts live in app/panels/ (a page is one file Streamlit runs; its parts are functions):
training_setup (the form), training_start (estimate and Start), training_live (the view that
redraws itself every second), training_compare and training_share (upload a checkpoint)."""
from __future__ import annotations

import streamlit as st

from app.panels.errata import show_errata
from app.panels.training_compare import compare_section
from app.panels.training_live import live_view
from app.panels.training_setup import setup_form
from app.panels.training_share import upload_checkpoint
from app.panels.training_start import start_run
from app.ui import prose, tr
from app.panels.quiz import quiz_section

st.title(tr("training.title"))
prose("training.intro")
with st.expander(tr("training.lesson_heading")):
    prose("training.lesson")

st.header(tr("training.setup_heading"))
setup_form()
start_run()
st.header(tr("training.live_heading"))
live_view()
st.header(tr("training.compare_heading"))
compare_section()
st.header(tr("training.share_heading"))
upload_checkpoint()
show_errata("training")
quiz_section("training")
