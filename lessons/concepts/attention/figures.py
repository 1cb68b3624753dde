"""The attention lesson's pictures: heatmaps of weights and of every step's matrix, the grid of
every layer and head, head summaries, the scaling experiment and the training timeline."""
from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from lessons.concepts.attention.compute import (attention_steps, head_inputs, head_summaries,
                                                scaling_experiment)
from lessons.i18n import t
from lessons.palettes import BLUE, CATEGORICAL, DIVERGING, GREY, SEQUENTIAL, VERMILLION


def _label(token: str) -> str:
    # subtle: plotly reads a small set of HTML tags in labels; escaping shows them as text
    return html.escape(token, quote=False)


def _categories(tokens) -> list[str]:
    """Axis labels, one per token, all different: a repeated token ("t" ... "t") gets
    zero-width spaces appended, so plotly keeps one row or column per position instead of
    merging them, and still shows the same text. The hover box can then name the query and
    key tokens from the axes (%{y}, %{x}): no per-cell label array, which made the attention
    figures three times bigger and slower to send."""
    seen: dict[str, int] = {}
    out = []
    for token in tokens:
        label = _label(token)
        out.append(label + "\u200b" * seen.get(label, 0))
        seen[label] = seen.get(label, 0) + 1
    return out


def _token_axes(fig: go.Figure, rows, cols, show_rows: bool = True, show_cols: bool = True,
                **xaxis) -> None:
    # type="category" also keeps labels such as "1" or "2" from turning into a number line
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=cols,
                     showticklabels=show_cols, **xaxis)
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=rows,
                     autorange="reversed", showticklabels=show_rows)


def _numbers(m: torch.Tensor) -> np.ndarray:
    # numpy, not nested lists: plotly checks a list cell by cell but takes an array whole
    return m.detach().float().cpu().numpy()


def _written(m: np.ndarray) -> np.ndarray:
    """Each value as it is printed in a cell: two decimals, the causal mask as −∞."""
    return np.array([["−∞" if math.isinf(v) else f"{v:.2f}" for v in row] for row in m.tolist()],
                    dtype=object).reshape(m.shape)


def attention_heatmap(weights, query_tokens, key_tokens, lang: str = "en",
                      title: str = "", show_values: bool | None = None) -> go.Figure:
    """A (T_q, T_k) weight matrix as a heatmap, hover = query token, key token, weight."""
    weights = _numbers(torch.as_tensor(weights))
    if show_values is None:
        show_values = weights.shape[0] <= 12
    rows, cols = _categories(query_tokens), _categories(key_tokens)
    fig = go.Figure(go.Heatmap(
        z=weights, x=cols, y=rows, zmin=0, zmax=1, colorscale=SEQUENTIAL,
        hovertemplate=t("attention.hover", lang) + "<extra></extra>",
        texttemplate="%{z:.2f}" if show_values else None,
        colorbar=dict(title=t("attention.weight", lang))))
    _token_axes(fig, rows, cols, title=t("attention.axis_key", lang), side="top")
    fig.update_yaxes(title=t("attention.axis_query", lang))
    fig.update_layout(title=dict(text=title, y=0.99, yanchor="top"), margin=dict(t=120),
                      height=max(340, 28 * len(query_tokens) + 180))
    return fig


def matrix_figure(matrix, row_labels, col_labels=None, title: str = "",
                  lang: str = "en") -> go.Figure:
    """Any small matrix (Q, K, V, scores ...) as a heatmap with its numbers; -inf shows as
    blank with the text '−∞', so the causal mask is visible."""
    m = _numbers(torch.as_tensor(matrix))
    masked = bool(np.isinf(m).any())
    rows = _categories(row_labels)
    cols = _categories(col_labels) if col_labels is not None else [str(j) for j in range(m.shape[1])]
    written = m.size <= 400
    fig = go.Figure(go.Heatmap(
        z=np.where(np.isinf(m), np.nan, m), x=cols, y=rows, colorscale=DIVERGING, zmid=0,
        # the numbers are drawn by plotly from z; only a masked matrix needs its own text (−∞)
        text=_written(m) if written and masked else None,
        texttemplate=("%{text}" if masked else "%{z:.2f}") if written else None,
        hovertemplate=t("attention.hover_matrix", lang) + "<extra></extra>"))
    _token_axes(fig, rows, cols, side="top")
    fig.update_layout(title=dict(text=title, y=0.99, yanchor="top"), margin=dict(t=100),
                      height=max(280, 26 * m.shape[0] + 160))
    return fig


def head_steps(checkpoint, ids: list[int], tokens: list[str], layer: int, head: int,
               causal: bool, titles: tuple, lang: str = "en"):
    """One head of the checkpoint's model on ids, step by step: (AttentionSteps, nine
    heatmaps titled by ``titles``) for X, Q, K, V, the scores, scaled, masked, the weights and
    the output. One result per (layer, head, mask), so a page keeps one entry, not ten.

    >>> from lessons.engine.checkpoint import toy_checkpoint
    >>> ckpt = toy_checkpoint("ab", block_size=8, n_layer=1, n_head=2, n_embd=8)
    >>> tok = ckpt.tokenizer
    >>> steps, figures = head_steps(ckpt, tok.encode("aba"), ["a", "b", "a"],
    ...                             0, 1, True, tuple("123456789"))
    >>> tuple(steps.weights.shape), len(figures), figures[8].layout.title.text
    ((3, 3), 9, '9')
    """
    inputs = head_inputs(checkpoint.model, ids, layer, head)
    steps = attention_steps(inputs.x, inputs.w_q, inputs.w_k, inputs.w_v,
                            inputs.b_q, inputs.b_k, inputs.b_v, causal=causal)
    matrices = [inputs.x, steps.q, steps.k, steps.v, steps.scores, steps.scaled, steps.masked,
                steps.weights, steps.output]
    # a (T, T) matrix has a token on both axes; X, Q, K, V and the output have numbered columns
    figures = [matrix_figure(m, tokens, tokens if m.shape[1] == len(tokens) else None, title, lang)
               for m, title in zip(matrices, titles)]
    return steps, figures


def attention_grid_figure(attn: torch.Tensor, tokens, lang: str = "en",
                          title: str = "") -> go.Figure:
    """Every layer (rows) and head (columns) of attn (L, H, T, T) as small heatmaps."""
    L, H, T, _ = attn.shape
    names = [t("attention.head_name", lang, layer=l, head=h) for l in range(L) for h in range(H)]
    fig = make_subplots(rows=L, cols=H, subplot_titles=names, horizontal_spacing=0.03,
                        vertical_spacing=0.08 if L > 1 else 0.0)
    labels = _categories(tokens)
    for l in range(L):
        for h in range(H):
            fig.add_trace(go.Heatmap(
                z=_numbers(attn[l, h]), x=labels, y=labels, coloraxis="coloraxis",
                hovertemplate=t("attention.hover", lang) + f"<extra>{names[l * H + h]}</extra>"),
                row=l + 1, col=h + 1)
    # token labels on the small maps up to 32 tokens (a sentence of characters), smaller
    # past 16 so they still fit one per cell
    few = T <= 32
    _token_axes(fig, labels, labels, show_rows=few and H <= 4, show_cols=few, tickangle=0,
                tickfont=dict(size=11 if T <= 16 else 8))
    fig.update_yaxes(tickfont=dict(size=11 if T <= 16 else 8))
    fig.update_layout(title=title, coloraxis=dict(colorscale=SEQUENTIAL, cmin=0, cmax=1,
                                                  colorbar=dict(title=t("attention.weight", lang))),
                      height=max(300, 260 * L + 80), margin=dict(t=80))
    return fig


def head_summary_figure(rows: list[dict], lang: str = "en") -> go.Figure:
    """Each head as a point: how far back it looks (x) against how spread out it is (y)."""
    fig = go.Figure()
    for pattern in ("previous", "first", "self", "spread"):
        chosen = [r for r in rows if r["pattern"] == pattern]
        if not chosen:
            continue
        fig.add_trace(go.Scatter(
            x=[r["distance"] for r in chosen], y=[r["entropy"] for r in chosen],
            mode="markers+text", marker=dict(size=14), textposition="top center",
            text=[t("attention.head_name", lang, layer=r["layer"], head=r["head"]) for r in chosen],
            name=t(f"attention.pattern_{pattern}", lang)))
    fig.update_layout(title=t("attention.summary_chart_title", lang), height=420,
                      xaxis=dict(title=t("attention.col_distance", lang), rangemode="tozero"),
                      yaxis=dict(title=t("attention.col_entropy", lang), rangemode="tozero"))
    return fig


def scaling_figure(experiment: dict, lang: str = "en") -> go.Figure:
    """Two panels against d_k (log axis): score variance, and the largest softmax weight."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=[t("attention.scaling_variance", lang),
                                                        t("attention.scaling_saturation", lang)])
    d = experiment["d_k"]
    raw, scaled = t("attention.scaling_raw", lang), t("attention.scaling_scaled", lang)
    for col, (a, b) in enumerate([("var_raw", "var_scaled"), ("max_raw", "max_scaled")], start=1):
        fig.add_trace(go.Scatter(x=d, y=experiment[a], name=raw, mode="lines+markers",
                                 line=dict(color=VERMILLION), showlegend=col == 1), row=1, col=col)
        fig.add_trace(go.Scatter(x=d, y=experiment[b], name=scaled, mode="lines+markers",
                                 line=dict(color=BLUE), showlegend=col == 1), row=1, col=col)
    # log axes labelled only where a reader can take the number in: the d_k tried, powers of 10
    fig.update_xaxes(type="log", title=t("attention.scaling_dk", lang), tickvals=d,
                     ticktext=[str(v) for v in d])
    fig.update_yaxes(type="log", dtick=1, row=1, col=1)
    fig.update_yaxes(range=[0, 1.05], row=1, col=2)
    fig.update_layout(height=400)
    return fig


def scaling_experiment_figure(lang: str = "en", seed: int = 0) -> go.Figure:
    """scaling_figure of scaling_experiment(seed=seed): the experiment and its picture in
    one call, so a page can keep both as one shared result."""
    return scaling_figure(scaling_experiment(seed=seed), lang)


LAYER_COLOURS = CATEGORICAL
HEAD_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")


def training_entropy_figure(timeline, lang: str = "en") -> go.Figure:
    """Each head's mean entropy at every snapshot: heads that specialise drop towards 0 bits."""
    fig = go.Figure()
    if not timeline:
        return fig
    steps = [step for step, _ in timeline]
    per_step = [head_summaries(attn) for _, attn in timeline]
    T = timeline[0][1].shape[-1]
    uniform = sum(math.log2(i + 1) for i in range(1, T)) / max(T - 1, 1)   # no preference
    fig.add_trace(go.Scatter(x=[steps[0], steps[-1]], y=[uniform, uniform], mode="lines",
                             line=dict(dash="dash", color=GREY),
                             name=t("attention.uniform_reference", lang)))
    for n, row in enumerate(per_step[0]):
        # one colour per layer, one dash per head: a dozen curves stay told apart
        fig.add_trace(go.Scatter(
            x=steps, y=[rows[n]["entropy"] for rows in per_step], mode="lines+markers",
            line=dict(color=LAYER_COLOURS[row["layer"] % len(LAYER_COLOURS)],
                      dash=HEAD_DASHES[row["head"] % len(HEAD_DASHES)]),
            name=t("attention.head_name", lang, layer=row["layer"], head=row["head"])))
    # the legend below the chart in rows, so every head's entry shows however many there are
    rows_of_legend = -(-len(per_step[0]) // 6)
    fig.update_layout(title=t("attention.timeline_entropy_title", lang),
                      height=380 + 24 * rows_of_legend,
                      legend=dict(orientation="h", yanchor="top", y=-0.18, x=0),
                      xaxis_title=t("attention.timeline_step", lang),
                      yaxis=dict(title=t("attention.col_entropy", lang), rangemode="tozero"))
    return fig


def training_slider_figure(timeline, tokens, lang: str = "en") -> go.Figure:
    """The attention grid at every snapshot in one figure, with a plotly slider to move through
    the training steps (works in a notebook with no widgets installed)."""
    if not timeline:
        return go.Figure()
    L, H = timeline[0][1].shape[:2]
    fig = attention_grid_figure(timeline[0][1], tokens, lang)
    per_step = len(fig.data)
    for _, attn in timeline[1:]:
        extra = attention_grid_figure(attn, tokens, lang)
        for n, trace in enumerate(extra.data):
            fig.add_trace(trace.update(visible=False), row=n // H + 1, col=n % H + 1)
    slider_steps = []
    for s, (step, _) in enumerate(timeline):
        visible = [s * per_step <= n < (s + 1) * per_step for n in range(len(fig.data))]
        slider_steps.append(dict(method="update", label=str(step), args=[
            {"visible": visible}, {"title": t("attention.timeline_grid_title", lang, step=step)}]))
    fig.update_layout(title=t("attention.timeline_grid_title", lang, step=timeline[0][0]),
                      sliders=[dict(active=0, steps=slider_steps, pad=dict(t=40),
                                    currentvalue=dict(prefix=t("attention.timeline_slider", lang)
                                                      + ": "))])
    fig.update_layout(height=fig.layout.height + 80)
    return fig
