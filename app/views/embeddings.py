"""embeddings: placeholder until its lesson lands."""
import streamlit as st

from app import state

st.title(state.tr("embeddings.title"))
st.markdown(state.tr("embeddings.summary"))
st.info(state.tr("embeddings.coming_soon"))
