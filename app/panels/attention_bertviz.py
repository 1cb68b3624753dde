"""The Self-attention page's bertviz section: its head view and model view of the attention
weights, drawn only when the learner asks for them."""
import streamlit as st

from app.ui import explain, prose, shared, tr
from lessons.concepts.attention import bertviz as bv


def bertviz_section(attn, tokens: list[str], layer: int, config) -> None:
    """``attn`` (layers, heads, T, T) for ``tokens``. Only some learners open bertviz, and its
    frames are the heaviest part of the page: the head view's (require.js, d3, jQuery, SVG)
    cost 0.3-0.6 s of a first view that should show within 2 s (benchmarks/cold_pages.py), the
    model view's (every head of every layer, thousands of SVG lines) ~13 s of Chromium's main
    thread on a busy 2-core machine. So nothing is drawn until the toggle is on, and the model
    view waits for its tab too (a rerun); a label of the other language opens the first tab."""
    st.header(tr("attention.bertviz_heading"))
    prose("attention.bertviz_intro")
    if not st.toggle(tr("attention.bertviz_show"), key="attention_bertviz_on",
                     help=tr("attention.bertviz_show_help")):
        return
    head_tab, model_tab = st.tabs([tr("attention.bertviz_head_tab"),
                                   tr("attention.bertviz_model_tab")],
                                  key="attention_bertviz_view", on_change="rerun")
    try:
        head_page = shared(bv.head_view_html, attn, tokens, layer=layer,
                           layer_label=tr("attention.bertviz_layer"))
        model_page = shared(bv.model_view_html, attn, tokens) if model_tab.open else None
    except (OSError, RuntimeError, ValueError) as exc:
        st.error(tr("attention.bertviz_failed", error=explain(exc)))
        return
    head_tab.iframe(head_page, height=min(bv.head_view_height(len(tokens)), 1200))
    if model_page is not None:
        model_tab.iframe(model_page, height=min(
            bv.model_view_height(len(tokens), config.n_layer, config.n_head), 1600))
