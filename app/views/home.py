"""Home: what the course is, a link to each lesson, and the model behind them."""
import streamlit as st

from app.panels.errata import all_errata
from app.state import session
from app.ui import prose, tr
from lessons import registry
from lessons.concepts.training.compute import last_val_loss

st.title(tr("app.home_heading"))
prose("app.home_intro")
prose("app.home_how")

st.subheader(tr("app.home_pages"))
for entry in registry.LESSONS:
    st.page_link(entry.page, label=tr(entry.title_key), icon=entry.icon)
    st.caption(tr(entry.summary_key))
st.caption(tr("app.home_notebooks"))

st.subheader(tr("app.home_model_heading"))
checkpoint = session.active_checkpoint()
val_loss = last_val_loss(checkpoint.metrics)
config = checkpoint.model.config
st.markdown(tr("app.home_model", name=session.active_model_name(),
               trained_on=session.trained_on_text(),
               params=f"{checkpoint.model.num_parameters():,}",
               layers=config.n_layer, heads=config.n_head, block=config.block_size,
               val_loss=f"{val_loss:.3f}" if val_loss is not None else "–"))

all_errata()
