"""The BERT-and-GPT page's sections: the two masks, fill in the blank, writing, where the
loss comes from, who guesses better. Each takes the two models it compares."""
from __future__ import annotations

import streamlit as st

from app.ui import free_text, lang, prose, shared, show_code, tr
from lessons.concepts.attention import figures as AF
from lessons.concepts.masked_vs_causal import compute as M
from lessons.concepts.masked_vs_causal import figures as MF
from lessons.display import markdown_literal
from lessons.engine.corpus import builtin_text


def _section(name: str, box: str | None = None) -> str:
    """A section's heading and prose (``<name>_heading``, ``<name>_text``), then, when it has
    one, its text box (``<box>_label``, ``<box>_default``, key ``mvc_<box>``), capped like
    every box. Returns the box's text ("" without a box)."""
    st.header(tr(f"masked_vs_causal.{name}_heading"))
    prose(f"masked_vs_causal.{name}_text")
    if box is None:
        return ""
    return free_text(st.text_input, tr(f"masked_vs_causal.{box}_label"),
                     tr(f"masked_vs_causal.{box}_default"), key=f"mvc_{box}")


def masks_section(causal, masked) -> str:
    sentence = _section("masks", "sentence")
    if not sentence.strip():
        st.info(tr("masked_vs_causal.empty_text"))
    left, right = st.columns(2)
    for column, checkpoint, title in ((left, causal, "heatmap_causal"),
                                      (right, masked, "heatmap_masked")):
        tokens, weights = shared(M.attention_of_last_layer, checkpoint, sentence)
        if weights is not None:
            column.plotly_chart(shared(AF.attention_heatmap, weights, tokens, tokens, lang(),
                                       tr(f"masked_vs_causal.{title}")), key=f"mvc_{title}")
    return sentence


def blank_section(causal, masked) -> None:
    sentence = _section("blank", "blank")
    parts = M.split_blank(sentence)
    if parts is None:
        st.info(tr("masked_vs_causal.blank_missing"))
        return
    guesses_masked = shared(M.fill_in_masked, masked, *parts)
    guesses_causal = shared(M.fill_in_causal, causal, parts[0])
    st.plotly_chart(shared(MF.guesses_figure, guesses_masked, guesses_causal, lang()),
                    key="mvc_guesses")
    st.markdown(tr("masked_vs_causal.blank_reading",
                   masked=markdown_literal(guesses_masked[0].token),
                   masked_p=guesses_masked[0].probability,
                   causal=markdown_literal(guesses_causal[0].token),
                   causal_p=guesses_causal[0].probability))
    show_code(M.fill_in_masked, M.fill_in_causal, label="masked_vs_causal.blank_heading")


def writing_section(causal, masked) -> None:
    prompt = _section("generate", "prompt")
    length = 24
    if not prompt.strip():
        st.info(tr("masked_vs_causal.empty_prompt"))
    st.markdown(tr("masked_vs_causal.causal_writes"))
    st.code(shared(M.causal_writes, causal, prompt, length), language=None)
    orders = {"surest": tr("masked_vs_causal.order_surest"),
              "left_to_right": tr("masked_vs_causal.order_left_to_right")}
    order = st.radio(tr("masked_vs_causal.order_label"), list(orders), format_func=orders.get,
                     key="mvc_order", horizontal=True)
    rounds = shared(M.unmask_iteratively, masked, prompt, length, 0, 2, order)
    shown = st.slider(tr("masked_vs_causal.round_label"), 0, len(rounds) - 1, len(rounds) - 1,
                      key="mvc_round")
    st.markdown(tr("masked_vs_causal.masked_writes", round=shown, rounds=len(rounds) - 1))
    st.code(rounds[shown], language=None)
    show_code(M.unmask_iteratively, label="masked_vs_causal.generate_heading")


def loss_section(causal, masked, sentence: str) -> None:
    _section("loss")
    rows = shared(M.corruption_example, masked, sentence)
    if rows:
        st.plotly_chart(shared(MF.positions_figure, rows, lang()), key="mvc_positions")
    config = masked.train_config
    batch, block = (config.batch_size if config else 32), masked.model.config.block_size
    counts = M.predictions_per_batch(batch, block)
    st.markdown(tr("masked_vs_causal.per_batch", batch=batch, block=block,
                   causal=f"{counts['causal']:,}", masked=f"{counts['masked']:,.0f}"))
    prose("masked_vs_causal.curves_text")
    curves = {"causal": causal.metrics or [], "masked": masked.metrics or []}
    st.plotly_chart(shared(MF.loss_curves_figure, curves, lang()), key="mvc_curves")


def accuracy_section(causal, masked) -> None:
    _section("accuracy")
    windows = 60
    scores = shared(M.accuracy_scores, masked, causal, builtin_text("python_reference"), windows)
    st.plotly_chart(shared(MF.accuracy_figure, scores, lang()), key="mvc_accuracy")
    st.markdown(tr("masked_vs_causal.accuracy_values", windows=windows, **scores))
