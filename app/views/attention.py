"""Self-attention: the document's simple form -> scaled dot-product step by step -> the trained
model's heads -> bertviz -> attention forming during training."""
import pandas as pd
import streamlit as st

from app.panels.attention_bertviz import bertviz_section
from app.panels.attention_document import simple_attention_section, worked_example_section
from app.panels.byte_pieces import byte_pieces_note
from app.state import session
from app.ui import explain, free_text, lang, model_default, prose, shared, show_code, tr
from lessons.concepts.attention import compute as A
from lessons.concepts.attention import figures as AF
from app.panels.errata import show_errata
from app.panels.quiz import quiz_section

DISPLAY_TOKENS = 48   # the pictures stop here to stay readable; the model reads its block size
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

st.title(tr("attention.title"))
prose("attention.intro")

# ---- 1 and 2. the document's simple attention and its W_a . h_t example -------------------
simple_attention_section()
worked_example_section()
show_errata("attention")     # 003 on its cost, 004 on the W_a example just shown

# ---- 3. scaled dot-product attention on the learner's text -------------------------------
# Everything drawn from the model goes through shared(): most visitors look at the shipped
# model and the default text, so the server computes those pictures once.
st.header(tr("attention.steps_heading"))
prose("attention.steps_intro")
checkpoint = session.active_checkpoint()
config = checkpoint.model.config
text = free_text(st.text_input, tr("attention.text_label"),
                 value=model_default("attention.text_default", "attention.text_default_poems"),
                 key="attention_text", help=tr("attention.text_help"))
max_tokens = min(config.block_size, DISPLAY_TOKENS)
try:
    ids, tokens, cut, attn = shared(A.model_pass, checkpoint, text, max_tokens)
except Exception as exc:   # a damaged upload must not show a traceback
    st.error(tr("attention.model_error", error=explain(exc)))
    st.stop()
if not ids:
    st.info(tr("attention.text_empty"))
    st.stop()
if cut:
    st.warning(tr("attention.text_cut", shown=max_tokens, block=config.block_size,
                  total=len(checkpoint.tokenizer.encode(text))))
byte_pieces_note(checkpoint.tokenizer, ids)

c1, c2, c3 = st.columns(3)
layer = c1.selectbox(tr("attention.layer_label"), range(config.n_layer), key="attention_layer")
head = c2.selectbox(tr("attention.head_label"), range(config.n_head), key="attention_head")
# starts on the model's own mask: a BERT-style model attends both ways
causal = c3.checkbox(tr("attention.causal_label"), value=config.causal, key="attention_causal",
                     help=tr("attention.causal_help"))
titles = tuple(tr(title_key) for _, title_key, _ in STEPS)
steps, figures = shared(AF.head_steps, checkpoint, ids, tokens, layer, head, causal, titles, lang())
hs = config.head_size
values = {"attention.step_x_text": dict(width=config.n_embd), "attention.step_q_text": dict(hs=hs),
          "attention.step_scaled_text": dict(hs=hs, sqrt=hs ** 0.5)}
for tab, (chart_key, _, text_key), figure in zip(
        st.tabs(list(titles), key="attention_step_tab", on_change="rerun"), STEPS, figures):
    tab.markdown(tr(text_key, **values.get(text_key, {})))
    if tab.open:   # the open step's chart only: nine at once put the first view over 2 s
        tab.plotly_chart(figure, key=chart_key)
difference = A.differences_from_references(steps, attn[layer, head], causal, config.causal)
if difference["model"] is not None:
    st.caption(tr("attention.steps_check", inspect_diff=f"{difference['model']:.1e}",
                  sdpa_diff=f"{difference['sdpa']:.1e}"))
else:   # the box differs from the model's own mask
    st.caption(tr("attention.steps_check_no_mask" if config.causal else
                  "attention.steps_check_bidirectional", sdpa_diff=f"{difference['sdpa']:.1e}"))
show_code(A.attention_steps_from_qkv, label="attention.show_code")

st.subheader(tr("attention.scaling_heading"))
prose("attention.scaling_body")
st.plotly_chart(shared(AF.scaling_experiment_figure, lang()), key="attention_scaling")

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

# ---- 5. bertviz, drawn when asked -------------------------------------------------------------
bertviz_section(attn, tokens, layer, config)

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
quiz_section("attention")
