"""Home: what the course is, a link to each lesson, and the model behind them."""
import streamlit as st

from app import state
from lessons import registry

st.title(state.tr("app.home_heading"))
state.prose("app", "home_intro")
state.prose("app", "home_how")

st.subheader(state.tr("app.home_pages"))
for entry in registry.LESSONS:
    st.page_link(entry.page, label=state.tr(entry.title_key), icon=entry.icon)
    st.caption(state.tr(entry.summary_key))
st.caption(state.tr("app.home_notebooks"))

st.subheader(state.tr("app.home_model_heading"))
checkpoint = state.active_checkpoint()
val_losses = [row["val_loss"] for row in checkpoint.metrics if row.get("val_loss") is not None]
config = checkpoint.model.config
st.markdown(state.tr("app.home_model", params=f"{checkpoint.model.num_parameters():,}",
                     layers=config.n_layer, heads=config.n_head, block=config.block_size,
                     val_loss=f"{val_losses[-1]:.3f}" if val_losses else "–"))
