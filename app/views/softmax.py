"""softmax: placeholder until its lesson lands."""
import streamlit as st

from app import state

st.title(state.tr("softmax.title"))
st.markdown(state.tr("softmax.summary"))
st.info(state.tr("softmax.coming_soon"))
