"""The decoding page's first part: the strategy's knobs, then its steps one at a time (the
distribution, the kept set, the chosen token; the road taken) or beam search's tree."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.ui import lang, prose, shared, show_code, tr
from lessons.concepts.decoding import compute as dc
from lessons.concepts.decoding import figures as dcf
from lessons.engine import decoding

STEP_KEY = "decoding_step"


def strategy_controls(vocab_size: int) -> tuple[dc.Strategy, int]:
    """The knobs: which strategy, its settings, the seed and the length."""
    names = {name: tr(key) for name, key in (
        ("greedy", "decoding.strategy_greedy"), ("sample", "decoding.strategy_sample"),
        ("top-k", "decoding.strategy_top_k"), ("top-p", "decoding.strategy_top_p"),
        ("beam", "decoding.strategy_beam"))}
    c1, c2, c3, c4 = st.columns(4)
    name = c1.selectbox(tr("decoding.strategy_label"), list(names), format_func=names.get,
                        key="decoding_strategy")
    temperature = c2.slider(tr("decoding.temperature_label"), 0.1, 3.0, 1.0, 0.1,
                            key="decoding_temperature", disabled=name in ("greedy", "beam"))
    top_k = c3.number_input(tr("decoding.top_k_label"), 1, vocab_size, min(10, vocab_size),
                            key="decoding_top_k", disabled=name != "top-k")
    top_p = c4.slider(tr("decoding.top_p_label"), 0.05, 1.0, 0.9, 0.05, key="decoding_top_p",
                      disabled=name != "top-p")
    d1, d2, d3, d4, d5 = st.columns(5)
    beams = d1.number_input(tr("decoding.beams_label"), 1, 8, 3, key="decoding_beams",
                            disabled=name != "beam")
    length_penalty = d2.slider(tr("decoding.length_penalty_label"), 0.0, 2.0, 1.0, 0.1,
                               key="decoding_length_penalty", disabled=name != "beam",
                               help=tr("decoding.length_penalty_help"))
    repetition = d3.slider(tr("decoding.repetition_label"), 1.0, 3.0, 1.0, 0.1,
                           key="decoding_repetition", help=tr("decoding.repetition_help"))
    seed = d4.number_input(tr("decoding.seed_label"), 0, 10_000, 0, key="decoding_seed",
                           help=tr("decoding.seed_help"))
    length = d5.number_input(tr("decoding.length_label"), 1, 60, 20, key="decoding_length")
    return dc.Strategy(name, float(temperature), int(top_k), float(top_p), float(repetition),
                       int(beams), float(length_penalty), int(seed)), int(length)


def _move(by: int | None, last: int) -> None:
    """Button callback: one step forward or back, or (None) to the end."""
    now = st.session_state.get(STEP_KEY, 1)
    st.session_state[STEP_KEY] = last if by is None else min(max(now + by, 1), last)


def step_controls(last: int) -> int:
    """Back / forward / to the end buttons and a slider over the steps; returns the step."""
    if st.session_state.get(STEP_KEY, 1) > last:       # fewer steps than before
        st.session_state[STEP_KEY] = last
    b1, b2, b3, slider = st.columns([1, 1, 1, 5])
    b1.button(tr("decoding.back"), key="decoding_back", on_click=_move, args=(-1, last))
    b2.button(tr("decoding.forward"), key="decoding_forward", on_click=_move, args=(1, last))
    b3.button(tr("decoding.to_end"), key="decoding_to_end", on_click=_move, args=(None, last))
    if last == 1:
        return 1
    return slider.slider(tr("decoding.step_label"), 1, last, key=STEP_KEY)


def steps_section(checkpoint, prompt: str, strategy: dc.Strategy, length: int) -> None:
    tokenizer = checkpoint.tokenizer
    result = shared(dc.decode_view, checkpoint, prompt, strategy, length)
    step = step_controls(length)
    if strategy.name == "beam":
        beam_part(tokenizer, result, step, prompt)
    else:
        sampling_part(tokenizer, result, step, prompt, strategy)
    show_code(dc.walk, decoding.next_token_logits, decoding.beam_search,
              label="decoding.show_code")


def sampling_part(tokenizer, steps: list, step: int, prompt: str, strategy: dc.Strategy) -> None:
    now = steps[step - 1]
    so_far = tokenizer.decode([s.chosen for s in steps[:step - 1]])
    st.markdown(tr("decoding.text_so_far"))
    st.code(prompt + so_far + "▌", language=None)
    chosen = tokenizer.token_label(now.chosen) or "∅"
    prose("decoding.step_result", step=step, kept=len(now.kept_ids), vocab=tokenizer.vocab_size,
          token=chosen.replace("`", "'"), p=f"{float(now.probs[now.chosen]):.3f}",
          q=f"{float(now.kept[now.chosen]):.3f}")
    st.plotly_chart(dcf.step_figure(tokenizer, now, lang=lang()), key="decoding_step_chart")
    st.plotly_chart(dcf.road_figure(tokenizer, steps[:step], lang=lang()), key="decoding_road")
    if strategy.name != "greedy":
        prose("decoding.seed_text", seed=strategy.seed)


def beam_part(tokenizer, tree: dc.BeamTree, step: int, prompt: str) -> None:
    shown = dc.BeamTree(tree.branches[:step], tree.beams)
    st.plotly_chart(dcf.beam_tree_figure(tokenizer, shown, lang=lang()), key="decoding_tree")
    live = sorted((b for b in tree.branches[step - 1] if b.kept), key=lambda b: b.beam)
    st.dataframe(pd.DataFrame([{
        tr("decoding.col_beam"): b.beam + 1,
        tr("decoding.col_text"): prompt + tokenizer.decode(shown.beam_ids(step - 1, b.beam)),
        tr("decoding.col_logprob"): round(b.log_prob, 4)} for b in live]), hide_index=True)
    if step == len(tree.branches):
        best = tree.beams[0]
        prose("decoding.beam_result", score=f"{best.score:.4f}", logprob=f"{best.log_prob:.4f}")
