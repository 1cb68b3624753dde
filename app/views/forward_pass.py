"""Inside the model: one prompt through the whole network, step by step, with real values ->
one position followed through the stack -> the residual stream (logit lens, direct logit
attribution) -> interventions -> where the parameters and the compute are -> over training."""
import pandas as pd
import streamlit as st

from app.panels.byte_pieces import byte_pieces_note
from app.panels.forward_pass_cuts import ablation_section, parameters_section
from app.panels.forward_pass_document import document_section
from app.panels.forward_pass_stream import stream_section, training_section
from app.panels.errata import show_errata
from app.state import session
from app.ui import explain, free_text, lang, model_default, prose, shared, show_code, tr
from app.panels.quiz import quiz_section
from lessons.concepts.forward_pass import compute as C
from lessons.concepts.forward_pass import figures as FF
from lessons.engine.checkpoint import Checkpoint

# the steps in the order the model computes them: name in compute.step_tensors -> the prose
# keys of its title and of its explanation
STEP_KEYS = {
    "token_embedding": ("forward_pass.step_token_embedding", "forward_pass.step_token_embedding_text"),
    "position_embedding": ("forward_pass.step_position_embedding", "forward_pass.step_position_embedding_text"),
    "residual_before": ("forward_pass.step_residual_before", "forward_pass.step_residual_before_text"),
    "attn_input": ("forward_pass.step_attn_input", "forward_pass.step_attn_input_text"),
    "attn_weights": ("forward_pass.step_attn_weights", "forward_pass.step_attn_weights_text"),
    "head_outputs": ("forward_pass.step_head_outputs", "forward_pass.step_head_outputs_text"),
    "concat": ("forward_pass.step_concat", "forward_pass.step_concat_text"),
    "attn_out": ("forward_pass.step_attn_out", "forward_pass.step_attn_out_text"),
    "residual_after_attn": ("forward_pass.step_residual_after_attn", "forward_pass.step_residual_after_attn_text"),
    "mlp_input": ("forward_pass.step_mlp_input", "forward_pass.step_mlp_input_text"),
    "mlp_pre_gelu": ("forward_pass.step_mlp_pre_gelu", "forward_pass.step_mlp_pre_gelu_text"),
    "mlp_post_gelu": ("forward_pass.step_mlp_post_gelu", "forward_pass.step_mlp_post_gelu_text"),
    "mlp_out": ("forward_pass.step_mlp_out", "forward_pass.step_mlp_out_text"),
    "residual_after": ("forward_pass.step_residual_after", "forward_pass.step_residual_after_text"),
    "final_ln": ("forward_pass.step_final_ln", "forward_pass.step_final_ln_text"),
    "logits": ("forward_pass.step_logits", "forward_pass.step_logits_text"),
    "probabilities": ("forward_pass.step_probabilities", "forward_pass.step_probabilities_text")}

st.title(tr("forward_pass.title"))
prose("forward_pass.intro")

checkpoint = session.active_checkpoint()
if checkpoint.snapshots:      # every view below can look at the model as it was mid-training
    kept = ["final", *checkpoint.snapshots]
    step_names = {s: tr("forward_pass.snapshot_final") if s == "final"
             else tr("forward_pass.snapshot_step", step=s) for s in kept}
    when = st.select_slider(tr("forward_pass.snapshot_label"), kept, value="final",
                            format_func=step_names.get, key="forward_snapshot",
                            help=tr("forward_pass.snapshot_help"))
    if when != "final":
        checkpoint = shared(Checkpoint.at_step, checkpoint, when)
model, config = checkpoint.model, checkpoint.model.config
text = free_text(st.text_input, tr("forward_pass.text_label"),
                 model_default("forward_pass.text_default", "forward_pass.text_default_poems"),
                 key="forward_text", help=tr("forward_pass.text_help"))
max_tokens = min(config.block_size, 32)
try:
    run = shared(C.model_pass, checkpoint, text, max_tokens)   # the one inspection pass
except Exception as exc:   # a damaged upload must not show a traceback
    st.error(tr("forward_pass.model_error", error=explain(exc)))
    st.stop()
if not run.ids:
    st.info(tr("forward_pass.text_empty"))
    st.stop()
if run.cut:
    st.warning(tr("forward_pass.text_cut", shown=max_tokens))
byte_pieces_note(checkpoint.tokenizer, run.ids)
inspection, tokens = run.inspection, run.tokens
positions = list(range(len(tokens)))
c1, c2 = st.columns(2)
layer = c1.selectbox(tr("forward_pass.layer_label"), range(config.n_layer), key="forward_layer")
position = c2.selectbox(tr("forward_pass.position_label"), positions, index=len(tokens) - 1,
                        format_func=lambda i: f"{i}: {tokens[i]}", key="forward_position")

# ---- 1. step by step ------------------------------------------------------------------------
st.header(tr("forward_pass.steps_heading"))
prose("forward_pass.steps_intro", layers=config.n_layer, heads=config.n_head,
      width=config.n_embd, hidden=4 * config.n_embd, vocab=config.vocab_size)
steps = C.step_tensors(model, inspection, layer)
names = [name for name, _, _ in steps]
name = st.select_slider(tr("forward_pass.step_label"), options=names, value="attn_out",
                        format_func=lambda n: tr(STEP_KEYS[n][0]), key="forward_step")
_, formula, tensor = steps[names.index(name)]
st.markdown(tr("forward_pass.step_caption", formula=formula,
               shape=" × ".join(str(s) for s in tensor.shape)))
st.markdown(tr(STEP_KEYS[name][1], width=config.n_embd, hs=config.head_size, heads=config.n_head,
               hidden=4 * config.n_embd, vocab=config.vocab_size))
st.plotly_chart(FF.step_figure(tensor, tokens, tr(STEP_KEYS[name][0]), lang()), key="forward_step_chart")
if name in ("mlp_pre_gelu", "mlp_post_gelu"):
    fired = C.firing_neurons(inspection, layer)
    st.dataframe(pd.DataFrame([{tr("forward_pass.col_neuron"): r["neuron"],
                                tr("forward_pass.col_activation"): round(r["max"], 3),
                                tr("forward_pass.col_token"): f"{r['position']}: {tokens[r['position']]}"}
                               for r in fired]), hide_index=True)
rebuilt = C.rebuild_logits(model, inspection)
st.caption(tr("forward_pass.rebuild_check",
              diff=f"{float((rebuilt - inspection.logits).abs().max()):.1e}"))
top = C.top_tokens(checkpoint.tokenizer, inspection.logits[position])
st.markdown(tr("forward_pass.top_heading", token=tokens[position]))
if not config.causal:          # a masked model's output at a position is about that position
    st.info(tr("forward_pass.masked_note"))
st.dataframe(pd.DataFrame([{tr("forward_pass.col_token"): label,
                            tr("forward_pass.col_probability"): round(p, 4)} for label, p in top]),
             hide_index=True)
show_code(C.rebuild_logits, label="forward_pass.show_code")

# ---- 1b. follow one position ----------------------------------------------------------------
st.subheader(tr("forward_pass.follow_heading"))
prose("forward_pass.follow_intro")
stages = C.follow_position(inspection, position)
st.plotly_chart(FF.follow_figure(stages, lang()), key="forward_follow_chart")
lens = C.logit_lens(model, inspection)
st.dataframe(pd.DataFrame([
    {tr("forward_pass.col_stage"): stage, tr("forward_pass.col_norm"): round(float(v.norm()), 3)}
    for stage, (_, _, v) in zip(FF.stage_names(stages, lang()), stages)]), hide_index=True)

stream_section(checkpoint, inspection, tokens, lens, position)
ablation_section(checkpoint, run.ids, tokens, position, int(inspection.logits[position].argmax()))
parameters_section(model)
training_section(checkpoint, run.ids, position)
document_section()
show_errata("forward_pass")
quiz_section("forward_pass")
