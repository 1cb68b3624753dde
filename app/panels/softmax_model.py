"""The softmax page's third part: the active model's next-token distribution for the
learner's prompt (temperature, top-k, top-p, one sample), then how surprised the model is by
the text the learner says comes next, token by token and against its training curve."""
from __future__ import annotations

import re

import streamlit as st

from app.state import session
from app.ui import free_text, lang, model_default, prose, shared, tr
from lessons.concepts.softmax import compute as sm
from lessons.concepts.softmax import figures as smf
from lessons.concepts.training.compute import last_val_loss


def label(tokenizer, token_id: int) -> str:
    """A token as Markdown-safe text: a token like '*' or '$' must not start bold or maths."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", sm.token_label(tokenizer, token_id))


def next_token_section() -> None:
    st.header(tr("softmax.model_heading"))
    prose("softmax.model_text")
    checkpoint = session.active_checkpoint()
    if not checkpoint.model.config.causal:    # a masked model does not predict a next token
        st.warning(tr("errors.needs_causal_model"))
        return
    model, tokenizer = checkpoint.model, checkpoint.tokenizer
    prompt = free_text(st.text_area, tr("softmax.prompt_label"),
                       model_default("softmax.prompt_default", "softmax.prompt_default_poems"),
                       key="softmax_prompt")
    k1, k2, k3, k4 = st.columns(4)
    temperature = k1.slider(tr("softmax.temperature_label"), 0.1, 3.0, 1.0, 0.1,
                            key="softmax_model_temperature")
    top_k = k2.number_input(tr("softmax.top_k_label"), 0, tokenizer.vocab_size, 0,
                            key="softmax_top_k", help=tr("softmax.top_k_help"))
    top_p = k3.slider(tr("softmax.top_p_label"), 0.05, 1.0, 1.0, 0.05, key="softmax_top_p",
                      help=tr("softmax.top_p_help"))
    seed = k4.number_input(tr("softmax.seed_label"), 0, 10_000, 0, key="softmax_seed")
    try:
        result, next_figure = shared(smf.next_token_view, checkpoint, prompt, temperature,
                                     int(top_k) or None, top_p if top_p < 1.0 else None,
                                     int(seed), lang())
    except Exception:              # a damaged or unusual model must not show a traceback
        st.error(tr("softmax.model_failed"))
        return
    if result.started_empty:
        st.info(tr("softmax.empty_prompt", token=label(tokenizer, 0)))
    if result.cropped:
        st.info(tr("softmax.cropped", block=model.config.block_size))
    st.plotly_chart(next_figure, key="softmax_next")
    kept = int((result.probs > 0).sum())
    prose("softmax.sampled", token=label(tokenizer, result.sampled_id),
          p=f"{float(result.probs[result.sampled_id]):.3f}", kept=kept, vocab=tokenizer.vocab_size)
    actual_text_section(checkpoint, prompt, result)


def actual_text_section(checkpoint, prompt: str, result: sm.NextToken) -> None:
    """The learner's own continuation: its first token's surprise, then every position's."""
    tokenizer = checkpoint.tokenizer
    st.subheader(tr("softmax.actual_heading"))
    actual = free_text(st.text_input, tr("softmax.actual_label"),
                       model_default("softmax.actual_default", "softmax.actual_default_poems"),
                       key="softmax_actual")
    actual_ids = tokenizer.encode(actual)
    if not actual_ids:
        st.warning(tr("softmax.actual_empty"))
        return
    first = sm.token_surprise(result.logits, actual_ids[0])
    prose("softmax.actual_result", token=label(tokenizer, actual_ids[0]),
          p=f"{first['p']:.4f}", ce=f"{first['nats']:.3f}")
    ids = (tokenizer.encode(prompt) or [0]) + actual_ids
    per_position, loss_figure = shared(smf.sequence_view, checkpoint, ids, lang())
    mean_ce = float(per_position.mean())
    val_loss = last_val_loss(checkpoint.metrics)
    prose("softmax.sequence_result", n=len(per_position), ce=f"{mean_ce:.3f}",
          ppl=f"{sm.perplexity(mean_ce):.1f}",
          val=f"{val_loss:.3f}" if val_loss is not None else "–")
    if loss_figure is not None:
        st.plotly_chart(loss_figure, key="softmax_loss_curve")
