"""Generating text: every strategy step by step, the strategies side by side, and which
spans of a generated text are copied from the training text."""
import streamlit as st

from app.panels.decoding_compare import compare_section, copied_section
from app.panels.decoding_game import game_section
from app.panels.decoding_steps import steps_section, strategy_controls
from app.state import session
from app.ui import free_text, model_default, prose, tr
from app.panels.quiz import quiz_section

st.title(tr("decoding.title"))
prose("decoding.intro")

checkpoint = session.active_checkpoint()
if not checkpoint.model.config.causal:    # a masked model does not predict a next token
    st.warning(tr("errors.needs_causal_model"))
    st.stop()
st.header(tr("decoding.steps_heading"))
prose("decoding.steps_text")
prompt = free_text(st.text_area, tr("decoding.prompt_label"),
                   model_default("decoding.prompt_default", "decoding.prompt_default_poems"),
                   key="decoding_prompt")
prompt_tokens = len(checkpoint.tokenizer.encode(prompt))
if not prompt_tokens:
    st.info(tr("decoding.empty_prompt"))
elif prompt_tokens > checkpoint.model.config.block_size:
    st.caption(tr("decoding.prompt_cut", total=f"{prompt_tokens:,}",
                  block=checkpoint.model.config.block_size))
strategy, length = strategy_controls(checkpoint.tokenizer.vocab_size)
try:
    steps_section(checkpoint, prompt, strategy, length)
    rows = compare_section(checkpoint, prompt, strategy, length)
except Exception:              # a damaged or unusual model must not show a traceback
    st.error(tr("decoding.model_failed"))
    st.stop()
copied_section(rows, strategy)
game_section(checkpoint)
prose("decoding.outro")
quiz_section("decoding")
