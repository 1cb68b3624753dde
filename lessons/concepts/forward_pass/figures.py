"""The forward-pass lesson's pictures, all drawn from numbers compute.py already has: a step's
tensor, one position through the stack, the residual stream's size, the logit lens, direct
logit attribution, ablations and where the parameters are. No figure runs the model."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from lessons.concepts.attention.figures import _categories, _token_axes, matrix_figure
from lessons.i18n import t
from lessons.palettes import BLUE, DIVERGING, SEQUENTIAL, VERMILLION


def step_figure(tensor: torch.Tensor, tokens, title: str = "", lang: str = "en") -> go.Figure:
    """One step's tensor as a heatmap, hover = position, column, value: (T, D) directly;
    (H, T, D) as one panel per head side by side."""
    if tensor.dim() == 2:
        cols = tokens if tensor.shape[1] == len(tokens) else None
        return matrix_figure(tensor, tokens, cols, title, lang)
    H = tensor.shape[0]
    rows = _categories(tokens)
    fig = make_subplots(rows=1, cols=H, subplot_titles=[t("forward_pass.head_n", lang, head=h)
                                                        for h in range(H)])
    for h in range(H):
        m = tensor[h].detach().float().numpy()
        fig.add_trace(go.Heatmap(z=m, y=rows, colorscale=DIVERGING, zmid=0, showscale=h == 0,
                                 hovertemplate="%{y} · %{x}: %{z:.3f}<extra></extra>"), 1, h + 1)
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=rows,
                     autorange="reversed")
    fig.update_yaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=True, col=1)
    fig.update_layout(title=title, height=max(300, 24 * len(tokens) + 160))
    return fig


STAGE_KEYS = {"embedding": "forward_pass.stage_embedding", "attn": "forward_pass.stage_attn",
              "mlp": "forward_pass.stage_mlp", "final": "forward_pass.stage_final"}


def stage_names(stages, lang: str = "en") -> list[str]:
    """The translated name of each stage of compute.follow_position."""
    return [t(STAGE_KEYS[stage], lang, block=block) for stage, block, _ in stages]


def follow_figure(stages, lang: str = "en") -> go.Figure:
    """One position's vector (C,) at each stage, a row per stage."""
    names = stage_names(stages, lang)
    z = torch.stack([v for _, _, v in stages]).detach().float().numpy()
    fig = go.Figure(go.Heatmap(z=z, y=names, colorscale=DIVERGING, zmid=0,
                               hovertemplate="%{y} · %{x}: %{z:.3f}<extra></extra>"))
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_layout(title=t("forward_pass.follow_title", lang),
                      xaxis_title=t("forward_pass.axis_dimension", lang),
                      height=max(300, 26 * len(names) + 140))
    return fig


def residual_norm_figure(norms: torch.Tensor, tokens, lang: str = "en") -> go.Figure:
    """(L+1, T) residual lengths: rows = after the embedding, after block 0, ..."""
    rows = [t("forward_pass.after_embedding", lang)] + [
        t("forward_pass.after_block", lang, block=i) for i in range(norms.shape[0] - 1)]
    cols = _categories(tokens)
    fig = go.Figure(go.Heatmap(z=norms.numpy(), x=cols, y=rows, colorscale=SEQUENTIAL,
                               texttemplate="%{z:.1f}" if len(tokens) <= 24 else None,
                               hovertemplate="%{y} · %{x}: %{z:.3f}<extra></extra>"))
    _token_axes(fig, rows, cols, side="top")
    fig.update_layout(title=t("forward_pass.norms_title", lang), height=120 + 40 * len(rows))
    return fig


def lens_figure(labels, probs: np.ndarray, tokens, lang: str = "en") -> go.Figure:
    """The logit lens: in each cell the top guess for the next token and its probability."""
    rows = [t("forward_pass.after_embedding", lang)] + [
        t("forward_pass.after_block", lang, block=i) for i in range(len(labels) - 1)]
    cols = _categories(tokens)
    fig = go.Figure(go.Heatmap(z=probs, x=cols, y=rows, zmin=0, zmax=1, colorscale=SEQUENTIAL,
                               text=np.array(labels, dtype=object), texttemplate="%{text}",
                               hovertemplate=t("forward_pass.lens_hover", lang)
                               + "<extra></extra>"))
    _token_axes(fig, rows, cols, side="top")
    fig.update_layout(title=t("forward_pass.lens_title", lang), height=140 + 44 * len(rows))
    return fig


SHARE_KEYS = {"token": "forward_pass.part_token", "position": "forward_pass.part_position",
              "head": "forward_pass.part_head", "attn_bias": "forward_pass.part_attn_bias",
              "mlp": "forward_pass.part_mlp", "final_bias": "forward_pass.part_final_bias"}


def attribution_figure(parts, token_label: str, lang: str = "en") -> go.Figure:
    """Direct logit attribution: one bar per component (compute.Share), red = pushes the
    token down."""
    names = [t(SHARE_KEYS[p.kind], lang, layer=p.layer, head=p.head) for p in parts]
    values = [p.value for p in parts]
    fig = go.Figure(go.Bar(x=names, y=values,
                           marker_color=[BLUE if v >= 0 else VERMILLION for v in values],
                           hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    fig.update_xaxes(type="category")
    fig.update_layout(title=t("forward_pass.attribution_title", lang, token=token_label),
                      yaxis_title=t("forward_pass.axis_logit", lang), height=420)
    return fig


def piece_name(piece, lang: str = "en") -> str:
    """A compute.Ablation's name: "L1 head 2", "L0 MLP", "block 1" in the reader's language."""
    key = "forward_pass.piece_block" if piece.kind == "block" else SHARE_KEYS[piece.kind]
    return t(key, lang, layer=piece.layer, head=piece.head)


def compare_figure(before, after, lang: str = "en") -> go.Figure:
    """Top next tokens [(label, p)] before and after the ablation, side by side."""
    labels = list(dict.fromkeys([label for label, _ in before] + [label for label, _ in after]))
    b, a = dict(before), dict(after)
    fig = go.Figure([go.Bar(name=t("forward_pass.before", lang), x=labels,
                            y=[b.get(x) for x in labels]),
                     go.Bar(name=t("forward_pass.after", lang), x=labels,
                            y=[a.get(x) for x in labels])])
    fig.update_xaxes(type="category")
    fig.update_layout(barmode="group", yaxis_title=t("forward_pass.axis_probability", lang),
                      height=360)
    return fig


def ranking_figure(rows, lang: str = "en") -> go.Figure:
    """The ablation ranking: the change in the predicted token's probability per piece."""
    names = [t(SHARE_KEYS[r["piece"]], lang, layer=r["layer"], head=r["head"]) for r in rows]
    fig = go.Figure(go.Bar(x=[r["change"] for r in rows], y=names, orientation="h",
                           hovertemplate="%{y}: %{x:+.3f}<extra></extra>"))
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_layout(title=t("forward_pass.ranking_title", lang),
                      xaxis_title=t("forward_pass.axis_change", lang),
                      height=max(300, 22 * len(rows) + 120))
    return fig


def parameters_figure(breakdowns: dict, lang: str = "en") -> go.Figure:
    """Share of parameters by component, one stacked bar per model (their sizes differ by
    a million times, so shares, with the count in the hover)."""
    names = list(breakdowns)
    components = ["embeddings", "attention", "MLP", "LayerNorm", "head"]
    fig = go.Figure()
    for c in components:
        counts = [breakdowns[n][c] for n in names]
        shares = [100 * x / max(1, sum(breakdowns[n].values())) for x, n in zip(counts, names)]
        fig.add_trace(go.Bar(name=t(f"forward_pass.component_{c.lower()}", lang), x=names,
                             y=shares, customdata=counts,
                             hovertemplate="%{x}: %{y:.1f}% (%{customdata:,})<extra></extra>"))
    fig.update_layout(barmode="stack", title=t("forward_pass.params_title", lang),
                      yaxis_title="%", height=420)
    return fig
