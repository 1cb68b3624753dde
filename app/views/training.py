"""training: placeholder until its lesson lands."""
import streamlit as st

from app import state

st.title(state.tr("training.title"))
st.markdown(state.tr("training.summary"))
st.info(state.tr("training.coming_soon"))
