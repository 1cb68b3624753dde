"""tokenization: placeholder until its lesson lands."""
import streamlit as st

from app import state

st.title(state.tr("tokenization.title"))
st.markdown(state.tr("tokenization.summary"))
st.info(state.tr("tokenization.coming_soon"))
