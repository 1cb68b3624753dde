"""BERT and GPT: the same small transformer trained two ways on the same text, asked the
same questions: its attention mask, a blank to fill, text to write, where its loss comes
from and how often it guesses right."""
import streamlit as st

from app.panels.errata import show_errata
from app.panels.quiz import quiz_section
from app.panels.masked_sections import (accuracy_section, blank_section, loss_section,
                                        masks_section, writing_section)
from app.state import session
from app.ui import prose, tr
from lessons.concepts.masked_vs_causal.compute import is_masked_model

st.title(tr("masked_vs_causal.title"))
prose("masked_vs_causal.intro")

# the active model takes the side it belongs to; the other side is a shipped model
active = session.active_checkpoint()
own_masked = is_masked_model(active)
masked = active if own_masked else session.shipped_checkpoint("masked")
# both sides read the same sentences: a shipped model of another text (the Chinese poems)
# gives way to the classroom model, the shipped masked model's twin
same_text = session.active_model_text() in ("own", session.SHIPPED_MODELS["masked"].text)
causal = (active if active.model.config.causal and same_text
          else session.shipped_checkpoint("classroom"))
names = {"causal": session.active_model_name() if causal is active else
         session.shipped_model_name("classroom"),
         "masked": session.active_model_name() if own_masked else session.shipped_model_name("masked")}
st.caption(tr("masked_vs_causal.models_used", **names))

try:
    sentence = masks_section(causal, masked)
    blank_section(causal, masked)
    writing_section(causal, masked)
    loss_section(causal, masked, sentence)
    accuracy_section(causal, masked)
except Exception:              # a damaged or unusual model must not show a traceback
    st.error(tr("masked_vs_causal.model_failed"))
    st.stop()

st.header(tr("masked_vs_causal.document_heading"))
prose("masked_vs_causal.document_text")
show_errata("masked_vs_causal", expanded=True)
quiz_section("masked_vs_causal", masked, model_name=f"{names['masked']} + {names['causal']}",
             causal=causal)
