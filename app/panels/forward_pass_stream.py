"""The forward-pass page's residual-stream part (its size, the logit lens, direct logit
attribution) and its over-training part, from the one inspection pass the page already has."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.ui import lang, prose, shared, tr
from lessons.concepts.forward_pass import compute as C
from lessons.concepts.forward_pass import figures as FF


def stream_section(checkpoint, inspection, tokens, lens, position: int) -> None:
    """Residual norms, the logit lens and the attribution of the predicted token's logit."""
    model = checkpoint.model
    st.header(tr("forward_pass.stream_heading"))
    prose("forward_pass.stream_intro")
    st.plotly_chart(FF.residual_norm_figure(C.residual_norms(inspection), tokens, lang()),
                    key="forward_norms_chart")
    st.subheader(tr("forward_pass.lens_heading"))
    prose("forward_pass.lens_intro")
    labels, probs = C.lens_top(checkpoint.tokenizer, lens)
    st.plotly_chart(FF.lens_figure(labels, probs, tokens, lang()), key="forward_lens_chart")
    same = bool((lens[-1].argmax(-1) == inspection.logits.argmax(-1)).all())
    st.caption(tr("forward_pass.lens_check", same=tr("forward_pass.yes") if same
                  else tr("forward_pass.no")))

    st.subheader(tr("forward_pass.attribution_heading"))
    token = int(inspection.logits[position].argmax())
    label = checkpoint.tokenizer.token_label(token)
    prose("forward_pass.attribution_intro", token=label, position=position)
    parts = C.logit_attribution(model, inspection, position, token)
    st.plotly_chart(FF.attribution_figure(parts, label, lang()), key="forward_attribution_chart")
    st.caption(tr("forward_pass.attribution_check", total=f"{sum(p.value for p in parts):.4f}",
                  logit=f"{float(inspection.logits[position, token]):.4f}"))


def training_section(checkpoint, ids, position: int) -> None:
    """The logit lens at every weight snapshot the model kept."""
    st.header(tr("forward_pass.training_heading"))
    prose("forward_pass.training_intro")
    rows = shared(C.lens_through_training, checkpoint, ids, position) if checkpoint.snapshots else []
    if not rows:
        st.info(tr("forward_pass.training_none"))
        return
    n = len(rows[0]["guesses"])
    columns = [tr("forward_pass.after_embedding")] + [tr("forward_pass.after_block", block=i)
                                                      for i in range(n - 1)]
    table = pd.DataFrame([{tr("forward_pass.col_step"): r["step"],
                           **{c: ("✓ " if ok else "✗ ") + g
                              for c, g, ok in zip(columns, r["guesses"], r["right"])},
                           tr("forward_pass.col_probability"): round(r["probability"], 4),
                           tr("forward_pass.col_key_piece"): FF.piece_name(r["key"], lang()),
                           tr("forward_pass.col_drop"): round(r["drop"], 4)}
                          for r in rows])
    st.dataframe(table, hide_index=True)
