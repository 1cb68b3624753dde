"""Self-attention: the document's simple form -> scaled dot-product step by step -> the trained
model's heads -> bertviz -> attention forming during training."""
import inspect

import pandas as pd
import streamlit as st
import torch
import torch.nn.functional as F

from app import state
from lessons.concepts.attention import bertviz as bv
from lessons.concepts.attention import compute as A
from lessons.concepts.attention import figures as AF
from lessons.i18n import t
from lessons.worked_numbers import VERDICTS, worked_number, worst_verdict

T_ = "attention"
tr = lambda key, **kw: state.tr(f"{T_}.{key}", **kw)   # noqa: E731
lang = state.lang()


# Everything drawn from the model goes through state.shared(): most visitors look at the
# shipped model and the default text, so the server computes those pictures once.
def scaling_figure(lang: str):
    return AF.scaling_figure(A.scaling_experiment(seed=0), lang)


def model_pass(checkpoint, text: str, max_tokens: int):
    ids, tokens, cut = A.tokens_for(checkpoint.tokenizer, text, max_tokens)
    return ids, tokens, cut, (A.attention_maps(checkpoint.model, ids) if ids else None)


STEPS = ["step_x", "step_q", "step_k", "step_v", "step_scores", "step_scaled", "step_masked",
         "step_weights", "step_output"]


def head_steps(checkpoint, ids: list[int], tokens: list[str], layer: int, head: int,
               causal: bool, lang: str):
    """One head's matrices and their nine figures, kept as one shared result: one entry per
    (layer, head, mask) instead of ten, so the shared store holds many more of them."""
    inputs = A.head_inputs(checkpoint.model, ids, layer, head)
    steps = A.attention_steps(inputs.x, inputs.w_q, inputs.w_k, inputs.w_v,
                              inputs.b_q, inputs.b_k, inputs.b_v, causal=causal)
    matrices = [inputs.x, steps.q, steps.k, steps.v, steps.scores, steps.scaled, steps.masked,
                steps.weights, steps.output]
    figures = {key: AF.matrix_figure(m, tokens, tokens if m.shape[1] == len(tokens) else None,
                                    t(f"attention.{key}", lang), lang)
               for key, m in zip(STEPS, matrices)}
    return steps, figures


st.title(tr("title"))
st.markdown(tr("intro"))

# ---- 1. the document's simple attention ----------------------------------------------------
st.header(tr("doc_heading"))
st.markdown(tr("doc_intro"))
features = A.WORD_FEATURES     # stable column names; the labels are translated
defaults = pd.DataFrame(A.DEFAULT_WORD_VECTORS, columns=features, index=A.DOCUMENT_WORDS)
labels = {f: st.column_config.NumberColumn(tr(f"doc_feature_{f}"), step=0.1, format="%.2f")
          for f in features}
edited = st.data_editor(defaults, key="attention_vectors", width="stretch",
                        column_config={"_index": st.column_config.TextColumn(tr("doc_word")),
                                       **labels})
vectors = pd.DataFrame(edited, columns=features).apply(pd.to_numeric, errors="coerce")
if vectors.isna().any().any():
    st.warning(tr("doc_bad_vectors"))
    vectors = vectors.fillna(defaults)
use_query = st.checkbox(tr("doc_use_query"), key="attention_use_query")
x = torch.tensor(vectors.to_numpy(), dtype=torch.float32)
weights, y = A.simple_attention(x, A.DEMO_QUERY_MAP if use_query else None)
left, right = st.columns([3, 2])
left.plotly_chart(state.shared(AF.attention_heatmap, weights, A.DOCUMENT_WORDS, A.DOCUMENT_WORDS,
                              lang, tr("doc_weights_title")), key="attention_doc_heatmap")
right.markdown(f"**{tr('doc_output_title')}**")
right.dataframe(pd.DataFrame(y.numpy(), columns=[tr(f"doc_feature_{f}") for f in features],
                             index=A.DOCUMENT_WORDS).round(3))
on_diagonal = A.diagonal_is_row_max(weights)
right.info(tr("doc_self_max", count=sum(on_diagonal), total=len(on_diagonal)))
st.markdown(tr("doc_notice"))
st.markdown(tr("doc_qk_explain"))

# ---- 2. the document's W_a . h_t example ---------------------------------------------------
st.header(tr("wa_heading"))
scores, weights = worked_number("attention_scores"), worked_number("attention_weights")
fmt = lambda v: "[" + ", ".join(f"{n:g}" if isinstance(n, (int, float)) else fmt(n) for n in v) + "]"  # noqa: E731
st.markdown(tr("wa_body", w_a=fmt(scores.inputs["W_a"]), h_t=fmt(scores.inputs["h_t"]),
               scores=fmt(scores.ours), scores_document=scores.document_text(lang),
               ours="[" + ", ".join(f"{p:.6f}" for p in weights.ours) + "]",
               document=weights.document_text(lang)))
getattr(st, VERDICTS[worst_verdict([scores, weights])].tone)(   # st.success, st.error or st.info
    tr("wa_verdict", scores_verdict=scores.label(lang), weights_verdict=weights.label(lang)))

# ---- 3. scaled dot-product attention on the learner's text -------------------------------
st.header(tr("steps_heading"))
st.markdown(tr("steps_intro"))
checkpoint = state.active_checkpoint()
config = checkpoint.model.config
text = st.text_input(tr("text_label"), value="The cat sat on the mat.", key="attention_text",
                     help=tr("text_help"), max_chars=state.text_cap())
max_tokens = min(config.block_size, 48)
try:
    ids, tokens, cut, attn = state.shared(model_pass, checkpoint, text, max_tokens)
except Exception as exc:   # a damaged upload must not show a traceback
    st.error(tr("model_error", error=exc))
    st.stop()
if not ids:
    st.info(tr("text_empty"))
    st.stop()
if cut:
    st.warning(tr("text_cut", shown=max_tokens, total=len(checkpoint.tokenizer.encode(text))))

c1, c2, c3 = st.columns(3)
layer = c1.selectbox(tr("layer_label"), range(config.n_layer), key="attention_layer")
head = c2.selectbox(tr("head_label"), range(config.n_head), key="attention_head")
causal = c3.checkbox(tr("causal_label"), value=True, key="attention_causal")
steps, figures = state.shared(head_steps, checkpoint, ids, tokens, layer, head, causal, lang)
hs = config.head_size
values = {"step_x": dict(width=config.n_embd), "step_q": dict(hs=hs),
          "step_scaled": dict(hs=hs, sqrt=hs ** 0.5)}
for tab, key in zip(st.tabs([tr(k) for k in STEPS]), STEPS):
    tab.markdown(tr(f"{key}_text", **values.get(key, {})))
    tab.plotly_chart(figures[key], key=f"attention_{key}")
q, k, v = (m[None, None] for m in (steps.q, steps.k, steps.v))
sdpa = F.scaled_dot_product_attention(q, k, v, is_causal=causal)[0, 0]
sdpa_diff = f"{(sdpa - steps.output).abs().max().item():.1e}"
if causal:   # the model itself always masks, so only then can the weights be compared
    inspect_diff = (steps.weights - attn[layer, head]).abs().max().item()
    st.caption(tr("steps_check", inspect_diff=f"{inspect_diff:.1e}", sdpa_diff=sdpa_diff))
else:
    st.caption(tr("steps_check_no_mask", sdpa_diff=sdpa_diff))
with st.expander(tr("show_code")):
    st.code(inspect.getsource(A.attention_steps_from_qkv), language="python")

st.subheader(tr("scaling_heading"))
st.markdown(tr("scaling_body"))
st.plotly_chart(state.shared(scaling_figure, lang), key="attention_scaling")

# ---- 4. every layer and head -----------------------------------------------------------------
st.header(tr("heads_heading"))
st.markdown(tr("heads_intro", layers=config.n_layer, heads=config.n_head))
st.plotly_chart(state.shared(AF.attention_grid_figure, attn, tokens, lang, tr("grid_title")),
                key="attention_grid")
st.subheader(tr("detail_heading"))
st.plotly_chart(state.shared(AF.attention_heatmap, attn[layer, head], tokens, tokens, lang,
                             tr("detail_title", layer=layer, head=head)),
                key="attention_detail")
st.subheader(tr("summary_heading"))
st.markdown(tr("summary_intro"))
rows = state.shared(A.head_summaries, attn)
columns = ["layer", "head", "distance", "entropy", "previous", "first", "self", "pattern"]
table = pd.DataFrame([{tr(f"col_{c}"): (tr(f"pattern_{r[c]}") if c == "pattern" else r[c])
                       for c in columns} for r in rows])
st.dataframe(table.round(3), hide_index=True)
st.plotly_chart(state.shared(AF.head_summary_figure, rows, lang), key="attention_summary_chart")

# ---- 5. bertviz ---------------------------------------------------------------------------------
st.header(tr("bertviz_heading"))
st.markdown(tr("bertviz_intro"))
head_tab, model_tab = st.tabs([tr("bertviz_head_tab"), tr("bertviz_model_tab")])
try:
    head_page = state.shared(bv.head_view_html, attn, tokens, layer=layer,
                             layer_label=tr("bertviz_layer"))
    model_page = state.shared(bv.model_view_html, attn, tokens)
except (OSError, RuntimeError, ValueError) as exc:
    st.error(tr("bertviz_failed", error=exc))
else:
    with head_tab:
        st.iframe(head_page, height=min(bv.head_view_height(len(tokens)), 1200))
    with model_tab:
        st.iframe(model_page, height=min(bv.model_view_height(len(tokens), config.n_layer,
                                                              config.n_head), 1600))

# ---- 6. attention forming during training ------------------------------------------------------
st.header(tr("timeline_heading"))
st.markdown(tr("timeline_intro"))
timeline = state.shared(A.attention_through_training, checkpoint, ids) if checkpoint.snapshots else []
if not timeline:
    st.info(tr("timeline_none"))
else:
    steps_kept = [s for s, _ in timeline]
    step = st.select_slider(tr("timeline_slider"), options=steps_kept, value=steps_kept[-1],
                            key="attention_timeline_step")
    st.plotly_chart(state.shared(AF.attention_grid_figure, dict(timeline)[step], tokens, lang,
                                 tr("timeline_grid_title", step=step)),
                    key="attention_timeline_grid")
    st.plotly_chart(state.shared(AF.training_entropy_figure, timeline, lang),
                    key="attention_timeline_entropy")
