"""attention: placeholder until its lesson lands."""
import streamlit as st

from app import state

st.title(state.tr("attention.title"))
st.markdown(state.tr("attention.summary"))
st.info(state.tr("attention.coming_soon"))
