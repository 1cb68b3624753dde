"""Embeddings: the document's W · x example, the active model's token table (PCA, neighbours,
cosine heatmap), its position table, and the table forming across training snapshots."""
import streamlit as st

from app.state import session
from app.ui import lang, prose, shared, show_code, tr
from app.panels.quiz import quiz_section
from lessons.concepts.embeddings import compute as E
from lessons.concepts.embeddings import figures as EF
from lessons.concepts.embeddings import timeline as ET
from lessons.worked_numbers import worked_number

LOOKUP_COLUMNS = (("one_hot", "embeddings.lookup_one_hot"), ("matmul", "embeddings.lookup_matmul"),
                  ("embedding", "embeddings.lookup_embedding"))
# tokens the cosine heatmap starts with, where the vocabulary has them
COMPARE_FIRST = ("a", "e", "i", "o", "u", "A", "E", "1", "2", "3", ".", ",", "␣", "↵")


st.title(tr("embeddings.title"))
prose("embeddings.intro")

# ---- 1. the document's worked example ----------------------------------------------------------
st.header(tr("embeddings.worked_heading"))
prose("embeddings.worked_intro")
example = worked_number("embedding")          # the document's W, x, its value, ours, verdict
W, x = example.inputs["W"], example.inputs["x"]
st.latex(r"W = " + E.latex_matrix(W) + r",\quad x = " + E.latex_vector(x))
prose("embeddings.worked_steps")
st.latex(r"W \cdot x = " + E.latex_steps(W, x))
left, right = st.columns(2)
left.markdown(f"**{tr('embeddings.document_value')}**")
left.latex(E.latex_vector(example.document))
right.markdown(f"**{tr('embeddings.our_value')}**")
right.latex(E.latex_vector(example.ours))
verdict = example.label(lang())
if example.differing_entries:
    entry = example.differing_entries[0]
    text = tr("embeddings.worked_wrong", verdict=verdict, entry=entry + 1,
              distance=f"{example.distance:g}", difference=f"{example.differences[entry]:g}")
    if not example.facts["printed_is_a_column_or_row"]:
        text += "\n\n" + tr("embeddings.worked_not_a_lookup")
else:
    text = tr("embeddings.worked_right", verdict=verdict)
getattr(st, example.tone)(text)              # tone: st.success, st.error or st.info

st.subheader(tr("embeddings.lookup_heading"))
prose("embeddings.lookup_intro")
index = st.radio(tr("embeddings.lookup_index"), [0, 1, 2], horizontal=True,
                 key="embeddings_lookup_index")
demo = E.embedding_lookup_demo(index, W)
for column, (name, title_key) in zip(st.columns(3), LOOKUP_COLUMNS):
    column.markdown(f"**{tr(title_key)}**")
    column.latex(E.latex_vector([round(v) for v in demo[name]]))
if demo["same"]:
    st.success(tr("embeddings.lookup_same", index=index))
else:
    st.error(tr("embeddings.lookup_differs"))
show_code(E.embedding_lookup_demo, label="embeddings.show_code")

# ---- 2. the active model's token table --------------------------------------------------------
# The model's pictures go through shared(): most visitors look at the shipped model, so the
# server draws each of them once.
checkpoint = session.active_checkpoint()
model = checkpoint.model
table = model.token_embedding.weight.detach()          # (V, C)
st.header(tr("embeddings.table_heading"))
prose("embeddings.table_intro", vocab=checkpoint.tokenizer.vocab_size, width=table.shape[1])

c1, c2 = st.columns(2)
dims = c1.radio(tr("embeddings.dims"), [2, 3], horizontal=True, key="embeddings_dims",
                format_func=lambda d: f"{d}-D")
show_bytes = c2.checkbox(tr("embeddings.show_bytes"), value=False, key="embeddings_show_bytes",
                         help=tr("embeddings.show_bytes_help"))
tokens, ids = shared(E.visible_tokens, checkpoint, show_bytes)
shown = [tokens[i] for i in ids]
label = {tok.id: tok.label for tok in tokens}

preferred = next((tok.id for tok in shown if tok.label == "e"), ids[0] if ids else None)
c1, c2 = st.columns([2, 1])
picked = c1.selectbox(tr("embeddings.pick_token"), ids, index=ids.index(preferred) if ids else None,
                      format_func=label.get, key="embeddings_token")
k = c2.slider(tr("embeddings.neighbour_count"), 3, 20, 8, key="embeddings_k")
neighbours = E.nearest_neighbours(table, picked, k, ids) if picked is not None else []

try:
    st.plotly_chart(shared(EF.token_scatter, checkpoint, show_bytes, dims, picked,
                           [i for i, _ in neighbours], lang()), key="embeddings_scatter")
except ValueError as exc:
    st.warning(tr("embeddings.projection_failed", error=str(exc)))

if picked is not None:
    st.subheader(tr("embeddings.neighbours_heading", token=label[picked]))
    prose("embeddings.neighbours_intro", width=table.shape[1])
    st.dataframe({tr("embeddings.col_token"): [label[i] for i, _ in neighbours],
                  tr("embeddings.col_cosine"): [round(s, 3) for _, s in neighbours]},
                 hide_index=True, width=420)

by_label = {tok.label: tok.id for tok in shown}
compare = st.multiselect(tr("embeddings.compare_tokens"), ids, format_func=label.get,
                         placeholder=tr("app.choose_options"),
                         key="embeddings_compare",
                         default=[by_label[w] for w in COMPARE_FIRST if w in by_label] or ids[:8])
if len(compare) >= 2:
    st.plotly_chart(EF.cosine_heatmap(table, compare, tokens, lang()), key="embeddings_heatmap")
else:
    st.info(tr("embeddings.compare_help"))
show_code(E.pca_project, E.nearest_neighbours, label="embeddings.show_code")

# ---- 3. position embeddings ----------------------------------------------------------------------
st.header(tr("embeddings.position_heading"))
positions = model.position_embedding.weight.detach()   # (T, C)
prose("embeddings.position_intro", block=positions.shape[0])
order = shared(E.order_without_positions, checkpoint, "cat sat", "sat cat")
if order is not None:      # shown, not just said: the numbers of this very model
    prose("embeddings.order_demo", unmasked=f"{order.unmasked:.0e}", masked=f"{order.masked:.2f}")
left, right = st.columns(2)
left.plotly_chart(shared(EF.position_heatmap, positions, lang()), key="embeddings_positions")
right.plotly_chart(shared(EF.position_similarity_heatmap, positions, lang()),
                   key="embeddings_position_similarity")
by_distance = shared(E.position_similarity_by_distance, positions)
if by_distance:
    prose("embeddings.position_notice", near=f"{by_distance[0]:.2f}", far=f"{by_distance[-1]:.2f}",
          far_distance=len(by_distance))

# ---- 4. the table forming over training ----------------------------------------------------------
st.header(tr("embeddings.timeline_heading"))
snapshots, frames = shared(ET.timeline_frames, checkpoint, show_bytes)
if not snapshots or len(ids) < 3:
    st.info(tr("embeddings.timeline_none"))
else:
    prose("embeddings.timeline_intro")
    steps = list(snapshots)
    c1, c2 = st.columns([3, 1])
    step_names = {s: tr("embeddings.timeline_step_value", step=s) for s in steps}   # fixed now
    step = c1.select_slider(tr("embeddings.timeline_step"), steps, value=steps[-1],
                            key="embeddings_step", format_func=step_names.get)
    fixed = c2.checkbox(tr("embeddings.fixed_axes"), value=False, key="embeddings_fixed_axes",
                        help=tr("embeddings.fixed_axes_help"))
    reach = ET.axis_reach(frames) if fixed else None
    st.plotly_chart(shared(EF.timeline_scatter, checkpoint, show_bytes, step, picked, reach,
                           tr("embeddings.timeline_title", step=step, last=steps[-1]), lang()),
                    key="embeddings_timeline")
    rows = snapshots[step][ids]
    st.caption(tr("embeddings.timeline_caption", step=step,
                  length=f"{E.mean_vector_length(rows):.3f}",
                  separation=f"{E.class_separation(rows, [tok.kind for tok in shown]):.3f}"))
    show_code(ET.timeline_projections, label="embeddings.show_code")
quiz_section("embeddings")
