"""The softmax lesson's pictures: probability bars, temperature, the surprise curve, CE vs MSE
gradients, the model's next token and its loss curve."""
from __future__ import annotations

import math

import plotly.graph_objects as go
import torch

from lessons.concepts.softmax.compute import (NextToken, as_tensor, loss_gradients, next_token,
                                             per_position_cross_entropy, softmax, token_label)
from lessons.i18n import t
from lessons.palettes import BLUE, VERMILLION


def probability_bars(labels, probs, title: str, highlight: int | None = None,
                     lang: str = "en") -> go.Figure:
    """Bar chart of probabilities; ``highlight`` colours one bar (the target or the sample)."""
    probs = as_tensor(probs).tolist()
    colours = [VERMILLION if i == highlight else BLUE for i in range(len(probs))]
    fig = go.Figure(go.Bar(x=[str(label) for label in labels], y=probs, marker_color=colours,
                           text=[f"{p:.3f}" for p in probs], textposition="outside"))
    fig.update_layout(title=title, yaxis_title=t("softmax.axis_probability", lang),
                      yaxis_range=[0, 1.12], height=360, margin=dict(t=50, b=40))
    fig.update_xaxes(type="category")
    return fig


def temperature_figure(logits, temperatures=(0.25, 0.5, 1.0, 2.0, 5.0), lang: str = "en") -> go.Figure:
    """One group of bars per temperature: low T piles probability onto the top score."""
    fig = go.Figure()
    labels = [f"{i}" for i in range(len(logits))]
    for temp in temperatures:
        fig.add_bar(x=labels, y=softmax(logits, temp).tolist(), name=f"T = {temp:g}")
    fig.update_layout(barmode="group", title=t("softmax.temperature_figure_title", lang),
                      xaxis_title=t("softmax.axis_class", lang),
                      yaxis_title=t("softmax.axis_probability", lang), height=360)
    return fig


def surprise_curve(marked_p: float | None = None, lang: str = "en") -> go.Figure:
    """-log p for p in (0, 1]: small when the model gave the truth a high probability, huge
    when it gave it almost none."""
    # numpy, not lists: plotly checks a list point by point, numpy arrays in one go
    grid = torch.linspace(0.005, 1.0, 400, dtype=torch.float64)
    fig = go.Figure(go.Scatter(x=grid.numpy(), y=(-torch.log(grid)).numpy(), mode="lines",
                               name="−ln p"))
    fig.add_scatter(x=grid.numpy(), y=(-torch.log2(grid)).numpy(), mode="lines",
                    name="−log₂ p", line=dict(dash="dot"))
    if marked_p is not None and 0 < marked_p <= 1:
        fig.add_scatter(x=[marked_p], y=[-math.log(marked_p)], mode="markers",
                        marker=dict(size=12, color=VERMILLION),
                        name=t("softmax.curve_marker", lang))
    fig.update_layout(title=t("softmax.curve_title", lang),
                      xaxis_title=t("softmax.axis_p_correct", lang),
                      yaxis_title=t("softmax.axis_loss", lang), height=360)
    return fig


def gradient_figure(num_classes: int = 3, lang: str = "en") -> go.Figure:
    """Size of the push on the correct logit, CE versus MSE, as p(correct) goes 0 -> 1."""
    g = loss_gradients(torch.linspace(0.001, 0.999, 300, dtype=torch.float64), num_classes)
    fig = go.Figure()
    fig.add_scatter(x=g["p"].numpy(), y=g["cross_entropy"].abs().numpy(), mode="lines",
                    name=t("softmax.gradient_ce", lang))
    fig.add_scatter(x=g["p"].numpy(), y=g["mse"].abs().numpy(), mode="lines",
                    name=t("softmax.gradient_mse", lang))
    fig.update_layout(title=t("softmax.gradient_title", lang),
                      xaxis_title=t("softmax.axis_p_correct", lang),
                      yaxis_title=t("softmax.axis_gradient", lang), height=360)
    return fig


def next_token_figure(tokenizer, result: NextToken, how_many: int = 15,
                      lang: str = "en") -> go.Figure:
    """The model's likeliest next tokens; the sampled one in red."""
    top = torch.topk(result.probs, min(how_many, len(result.probs)))
    ids = top.indices.tolist()
    labels = [f"{token_label(tokenizer, i)}" for i in ids]
    # subtle: two ids can share a label (a char and its byte token); keep bars apart
    labels = [f"{label} ({i})" if labels.count(label) > 1 else label for label, i in zip(labels, ids)]
    highlight = ids.index(result.sampled_id) if result.sampled_id in ids else None
    return probability_bars(labels, top.values, t("softmax.next_token_figure_title", lang),
                            highlight, lang)


def loss_curve_figure(metrics: list[dict], text_cross_entropy: float | None = None,
                      lang: str = "en") -> go.Figure:
    """The training run's loss curve (from a checkpoint's metrics) with a dashed line at the
    average cross-entropy the model just scored on the learner's own text."""
    fig = go.Figure()
    for key, name in (("train_loss", "loss_curve_train"), ("val_loss", "loss_curve_val")):
        points = [(m["step"], m[key]) for m in metrics if m.get(key) is not None]
        if points:
            fig.add_scatter(x=[s for s, _ in points], y=[v for _, v in points], mode="lines+markers",
                            name=t(f"softmax.{name}", lang))
    if text_cross_entropy is not None:
        fig.add_hline(y=text_cross_entropy, line_dash="dash", line_color=VERMILLION,
                      annotation_text=t("softmax.loss_curve_text", lang), annotation_position="top left")
    fig.update_layout(title=t("softmax.loss_curve_title", lang), xaxis_title=t("softmax.axis_step", lang),
                      yaxis_title=t("softmax.axis_loss_nats", lang), height=340)
    return fig


# ---- the model's answers with their pictures, each as one result a page can share ----------

def next_token_view(checkpoint, prompt: str, temperature: float = 1.0, top_k: int | None = None,
                    top_p: float | None = None, seed: int = 0, lang: str = "en"):
    """(NextToken, its bar chart): the checkpoint's next-token distribution after prompt, one
    sample from it, and the likeliest tokens drawn with the sample in red.

    >>> from lessons.engine.checkpoint import toy_checkpoint
    >>> ckpt = toy_checkpoint("ab", block_size=4, n_layer=1, n_head=1, n_embd=4)
    >>> tok = ckpt.tokenizer
    >>> result, fig = next_token_view(ckpt, "ab", top_k=2)
    >>> int((result.probs > 0).sum()), len(fig.data[0].x)      # top-k keeps 2 of 258
    (2, 15)
    """
    result = next_token(checkpoint.model, checkpoint.tokenizer, prompt, temperature, top_k,
                        top_p, seed)
    return result, next_token_figure(checkpoint.tokenizer, result, lang=lang)


def sequence_view(checkpoint, ids: list[int], lang: str = "en"):
    """(cross-entropy at every position of ids (T-1,) in nats, the checkpoint's training curve
    with this text's mean loss drawn across it, or None when the checkpoint kept no curve).

    >>> from lessons.engine.checkpoint import toy_checkpoint
    >>> ckpt = toy_checkpoint("ab", block_size=4, n_layer=1, n_head=1, n_embd=4)
    >>> tok = ckpt.tokenizer
    >>> per_position, fig = sequence_view(ckpt, tok.encode("abba"))
    >>> tuple(per_position.shape), fig
    ((3,), None)
    """
    per_position = per_position_cross_entropy(checkpoint.model, ids)
    figure = loss_curve_figure(checkpoint.metrics, float(per_position.mean()), lang=lang) \
        if checkpoint.metrics else None
    return per_position, figure
