"""The forward-pass page's interventions (switch heads, MLPs or blocks off) and its count of
parameters and compute beside published models."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.ui import lang, prose, shared, show_code, tr
from lessons.concepts.forward_pass import compute as C
from lessons.concepts.forward_pass import costs
from lessons.concepts.forward_pass import figures as FF


def ablation_section(checkpoint, ids, tokens, position: int, token: int) -> None:
    """A multiselect of pieces to switch off, zero or mean, the change, and the ranking."""
    config = checkpoint.model.config
    st.header(tr("forward_pass.ablation_heading"))
    prose("forward_pass.ablation_intro")
    pieces = {}
    for layer in range(config.n_layer):
        for head in range(config.n_head):
            pieces[tr("forward_pass.piece_head", layer=layer, head=head)] = C.Ablation("head", layer, head)
        pieces[tr("forward_pass.piece_mlp", layer=layer)] = C.Ablation("mlp", layer)
        pieces[tr("forward_pass.piece_block", layer=layer)] = C.Ablation("block", layer)
    chosen = st.multiselect(tr("forward_pass.ablation_label"), list(pieces), key="forward_ablate",
                            placeholder=tr("app.choose_options"))
    modes = {"zero": tr("forward_pass.mode_zero"), "mean": tr("forward_pass.mode_mean")}
    mode = st.radio(tr("forward_pass.mode_label"), list(modes), format_func=modes.get,
                    horizontal=True, key="forward_mode")
    ablations = tuple(pieces[c] for c in chosen)
    before, after = shared(C.ablation_result, checkpoint, ids, ablations, mode, position)
    st.plotly_chart(FF.compare_figure(before, after, lang()), key="forward_compare_chart")
    st.subheader(tr("forward_pass.ranking_heading"))
    prose("forward_pass.ranking_intro", token=checkpoint.tokenizer.token_label(token),
          position=position)
    rows = shared(C.ranking_for, checkpoint, ids, position, token, mode)
    st.plotly_chart(FF.ranking_figure(rows, lang()), key="forward_ranking_chart")
    show_code(C.ablated_logits, label="forward_pass.ablation_code")


def parameters_section(model) -> None:
    """Parameters by component and FLOPs per token: the active model and published ones."""
    st.header(tr("forward_pass.params_heading"))
    prose("forward_pass.params_intro")
    archs = (costs.architecture_of(model, tr("forward_pass.this_model")), *costs.PUBLISHED)
    breakdowns = {a.name: costs.parameters_by_component(a) for a in archs}
    st.plotly_chart(FF.parameters_figure(breakdowns, lang()), key="forward_params_chart")
    st.dataframe(pd.DataFrame([{tr("forward_pass.col_model"): a.name,
                                tr("forward_pass.col_parameters"): f"{sum(breakdowns[a.name].values()):,}",
                                tr("forward_pass.col_flops"): f"{costs.flops_per_token(a):,}"}
                               for a in archs]), hide_index=True)
    prose("forward_pass.params_notes")
