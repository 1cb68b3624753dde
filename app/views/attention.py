"""Self-attention: the document's simple form -> scaled dot-product step by step -> the trained
model's heads -> bertviz -> attention forming during training."""
import pandas as pd
import streamlit as st
import torch

from app.state import runs, session
from app.ui import explain, lang, prose, shared, show_code, tr
from lessons.concepts.attention import bertviz as bv
from lessons.concepts.attention import compute as A
from lessons.concepts.attention import figures as AF
from lessons.worked_numbers import VERDICTS, worked_number, worst_verdict

# the nine steps of one head: (chart key, prose key of its tab and title, of its text)
STEPS = (
    ("attention_step_x", "attention.step_x", "attention.step_x_text"),
    ("attention_step_q", "attention.step_q", "attention.step_q_text"),
    ("attention_step_k", "attention.step_k", "attention.step_k_text"),
    ("attention_step_v", "attention.step_v", "attention.step_v_text"),
    ("attention_step_scores", "attention.step_scores", "attention.step_scores_text"),
    ("attention_step_scaled", "attention.step_scaled", "attention.step_scaled_text"),
    ("attention_step_masked", "attention.step_masked", "attention.step_masked_text"),
    ("attention_step_weights", "attention.step_weights", "attention.step_weights_text"),
    ("attention_step_output", "attention.step_output", "attention.step_output_text"),
)
SUMMARY_COLUMNS = {"layer": "attention.col_layer", "head": "attention.col_head",
                   "distance": "attention.col_distance", "entropy": "attention.col_entropy",
                   "previous": "attention.col_previous", "first": "attention.col_first",
                   "self": "attention.col_self", "pattern": "attention.col_pattern"}
PATTERNS = {"previous": "attention.pattern_previous", "first": "attention.pattern_first",
            "self": "attention.pattern_self", "spread": "attention.pattern_spread"}


# Everything drawn from the model goes through shared(): most visitors look at the shipped
# model and the default text, so the server computes those pictures once.
def scaling_figure(language: str):
    return AF.scaling_figure(A.scaling_experiment(seed=0), language)


def model_pass(checkpoint, text: str, max_tokens: int):
    ids, tokens, cut = A.tokens_for(checkpoint.tokenizer, text, max_tokens)
    return ids, tokens, cut, (A.attention_maps(checkpoint.model, ids) if ids else None)


def head_steps(checkpoint, ids: list[int], tokens: list[str], layer: int, head: int,
               causal: bool, titles: tuple, language: str):
    """One head's matrices and their nine figures (titled ``titles``), kept as one shared
    result: one entry per (layer, head, mask) instead of ten."""
    inputs = A.head_inputs(checkpoint.model, ids, layer, head)
    steps = A.attention_steps(inputs.x, inputs.w_q, inputs.w_k, inputs.w_v,
                              inputs.b_q, inputs.b_k, inputs.b_v, causal=causal)
    matrices = [inputs.x, steps.q, steps.k, steps.v, steps.scores, steps.scaled, steps.masked,
                steps.weights, steps.output]
    figures = [AF.matrix_figure(m, tokens, tokens if m.shape[1] == len(tokens) else None, title,
                                language)
               for m, title in zip(matrices, titles)]
    return steps, figures


def list_text(values) -> str:
    """[0.5, [1.0, 2.0]] -> '[0.5, [1, 2]]': the document's vectors as it prints them."""
    return "[" + ", ".join(f"{v:g}" if isinstance(v, (int, float)) else list_text(v)
                           for v in values) + "]"


st.title(tr("attention.title"))
prose("attention.intro")

# ---- 1. the document's simple attention ----------------------------------------------------
st.header(tr("attention.doc_heading"))
prose("attention.doc_intro")
features = A.WORD_FEATURES     # stable column names; the labels are translated
feature_labels = {"thing": tr("attention.doc_feature_thing"),
                  "action": tr("attention.doc_feature_action"),
                  "glue": tr("attention.doc_feature_glue")}
defaults = pd.DataFrame(A.DEFAULT_WORD_VECTORS, columns=features, index=A.DOCUMENT_WORDS)
edited = st.data_editor(defaults, key="attention_vectors", width="stretch", column_config={
    "_index": st.column_config.TextColumn(tr("attention.doc_word")),
    **{f: st.column_config.NumberColumn(feature_labels[f], step=0.1, format="%.2f")
       for f in features}})
vectors = pd.DataFrame(edited, columns=features).apply(pd.to_numeric, errors="coerce")
if vectors.isna().any().any():
    st.warning(tr("attention.doc_bad_vectors"))
    vectors = vectors.fillna(defaults)
use_query = st.checkbox(tr("attention.doc_use_query"), key="attention_use_query")
x = torch.tensor(vectors.to_numpy(), dtype=torch.float32)
weights, y = A.simple_attention(x, A.DEMO_QUERY_MAP if use_query else None)
left, right = st.columns([3, 2])
left.plotly_chart(shared(AF.attention_heatmap, weights, A.DOCUMENT_WORDS, A.DOCUMENT_WORDS,
                         lang(), tr("attention.doc_weights_title")), key="attention_doc_heatmap")
right.markdown(f"**{tr('attention.doc_output_title')}**")
right.dataframe(pd.DataFrame(y.numpy(), columns=[feature_labels[f] for f in features],
                             index=A.DOCUMENT_WORDS).round(3))
on_diagonal = A.diagonal_is_row_max(weights)
right.info(tr("attention.doc_self_max", count=sum(on_diagonal), total=len(on_diagonal)))
prose("attention.doc_notice")
prose("attention.doc_qk_explain")

# ---- 2. the document's W_a . h_t example ---------------------------------------------------
st.header(tr("attention.wa_heading"))
scores, weights = worked_number("attention_scores"), worked_number("attention_weights")
prose("attention.wa_body", w_a=list_text(scores.inputs["W_a"]), h_t=list_text(scores.inputs["h_t"]),
      scores=list_text(scores.ours), scores_document=scores.document_text(lang()),
      ours="[" + ", ".join(f"{p:.6f}" for p in weights.ours) + "]",
      document=weights.document_text(lang()))
getattr(st, VERDICTS[worst_verdict([scores, weights])].tone)(   # st.success, st.error or st.info
    tr("attention.wa_verdict", scores_verdict=scores.label(lang()),
       weights_verdict=weights.label(lang())))

# ---- 3. scaled dot-product attention on the learner's text -------------------------------
st.header(tr("attention.steps_heading"))
prose("attention.steps_intro")
checkpoint = session.active_checkpoint()
config = checkpoint.model.config
text = st.text_input(tr("attention.text_label"), value="The cat sat on the mat.",
                     key="attention_text", help=tr("attention.text_help"),
                     max_chars=runs.text_cap())
max_tokens = min(config.block_size, 48)
try:
    ids, tokens, cut, attn = shared(model_pass, checkpoint, text, max_tokens)
except Exception as exc:   # a damaged upload must not show a traceback
    st.error(tr("attention.model_error", error=explain(exc)))
    st.stop()
if not ids:
    st.info(tr("attention.text_empty"))
    st.stop()
if cut:
    st.warning(tr("attention.text_cut", shown=max_tokens,
                  total=len(checkpoint.tokenizer.encode(text))))

c1, c2, c3 = st.columns(3)
layer = c1.selectbox(tr("attention.layer_label"), range(config.n_layer), key="attention_layer")
head = c2.selectbox(tr("attention.head_label"), range(config.n_head), key="attention_head")
causal = c3.checkbox(tr("attention.causal_label"), value=True, key="attention_causal")
titles = tuple(tr(title_key) for _, title_key, _ in STEPS)
steps, figures = shared(head_steps, checkpoint, ids, tokens, layer, head, causal, titles, lang())
hs = config.head_size
values = {"attention.step_x_text": dict(width=config.n_embd), "attention.step_q_text": dict(hs=hs),
          "attention.step_scaled_text": dict(hs=hs, sqrt=hs ** 0.5)}
for tab, (chart_key, _, text_key), figure in zip(st.tabs(list(titles)), STEPS, figures):
    tab.markdown(tr(text_key, **values.get(text_key, {})))
    tab.plotly_chart(figure, key=chart_key)
difference = A.differences_from_references(steps, attn[layer, head], causal)
if difference["model"] is not None:
    st.caption(tr("attention.steps_check", inspect_diff=f"{difference['model']:.1e}",
                  sdpa_diff=f"{difference['sdpa']:.1e}"))
else:
    st.caption(tr("attention.steps_check_no_mask", sdpa_diff=f"{difference['sdpa']:.1e}"))
show_code(A.attention_steps_from_qkv, label="attention.show_code")

st.subheader(tr("attention.scaling_heading"))
prose("attention.scaling_body")
st.plotly_chart(shared(scaling_figure, lang()), key="attention_scaling")

# ---- 4. every layer and head -----------------------------------------------------------------
st.header(tr("attention.heads_heading"))
prose("attention.heads_intro", layers=config.n_layer, heads=config.n_head)
st.plotly_chart(shared(AF.attention_grid_figure, attn, tokens, lang(), tr("attention.grid_title")),
                key="attention_grid")
st.subheader(tr("attention.detail_heading"))
st.plotly_chart(shared(AF.attention_heatmap, attn[layer, head], tokens, tokens, lang(),
                       tr("attention.detail_title", layer=layer, head=head)),
                key="attention_detail")
st.subheader(tr("attention.summary_heading"))
prose("attention.summary_intro")
rows = shared(A.head_summaries, attn)
table = pd.DataFrame([{tr(key): (tr(PATTERNS[r[c]]) if c == "pattern" else r[c])
                       for c, key in SUMMARY_COLUMNS.items()} for r in rows])
st.dataframe(table.round(3), hide_index=True)
st.plotly_chart(shared(AF.head_summary_figure, rows, lang()), key="attention_summary_chart")

# ---- 5. bertviz ---------------------------------------------------------------------------------
st.header(tr("attention.bertviz_heading"))
prose("attention.bertviz_intro")
head_tab, model_tab = st.tabs([tr("attention.bertviz_head_tab"), tr("attention.bertviz_model_tab")])
try:
    head_page = shared(bv.head_view_html, attn, tokens, layer=layer,
                       layer_label=tr("attention.bertviz_layer"))
    model_page = shared(bv.model_view_html, attn, tokens)
except (OSError, RuntimeError, ValueError) as exc:
    st.error(tr("attention.bertviz_failed", error=explain(exc)))
else:
    with head_tab:
        st.iframe(head_page, height=min(bv.head_view_height(len(tokens)), 1200))
    with model_tab:
        st.iframe(model_page, height=min(bv.model_view_height(len(tokens), config.n_layer,
                                                              config.n_head), 1600))

# ---- 6. attention forming during training ------------------------------------------------------
st.header(tr("attention.timeline_heading"))
prose("attention.timeline_intro")
timeline = shared(A.attention_through_training, checkpoint, ids) if checkpoint.snapshots else []
if not timeline:
    st.info(tr("attention.timeline_none"))
else:
    steps_kept = [s for s, _ in timeline]
    step = st.select_slider(tr("attention.timeline_slider"), options=steps_kept,
                            value=steps_kept[-1], key="attention_timeline_step")
    st.plotly_chart(shared(AF.attention_grid_figure, dict(timeline)[step], tokens, lang(),
                           tr("attention.timeline_grid_title", step=step)),
                    key="attention_timeline_grid")
    st.plotly_chart(shared(AF.training_entropy_figure, timeline, lang()),
                    key="attention_timeline_entropy")
