"""The embeddings lesson's pictures: the projected token table (now and at each training
snapshot), cosine heatmaps, the position table and its similarities."""
from __future__ import annotations

import plotly.graph_objects as go
import torch

from lessons.concepts.embeddings.compute import (TOKEN_CLASSES, TokenInfo, cosine_similarity_matrix,
                                                 pca_project, visible_tokens)
from lessons.concepts.embeddings.timeline import timeline_frames
from lessons.i18n import t
from lessons.palettes import BLACK, BLUE, DIVERGING_REVERSED, GREEN, GREY, LIGHT_GREY, ORANGE, PURPLE, VERMILLION


CLASS_COLOURS = {"letter": BLUE, "digit": VERMILLION, "punctuation": GREEN,
                 "whitespace": PURPLE, "cjk": ORANGE, "byte": LIGHT_GREY, "other": BLACK}


def embedding_scatter(coords: torch.Tensor, tokens: list[TokenInfo], lang: str = "en",
                      explained: torch.Tensor | None = None, highlight: int | None = None,
                      neighbours=(), title: str | None = None,
                      axis_range: float | None = None) -> go.Figure:
    """Interactive scatter of projected tokens, one colour per class (2-D or 3-D from coords).

    ``coords`` (N, k) and ``tokens`` (N) are aligned; ``highlight`` and ``neighbours`` are token
    ids. The highlighted token gets a black ring and its neighbours a grey one.
    """
    k = coords.shape[1]
    show_text = len(tokens) <= 200         # beyond that, labels pile up: hover still shows them
    fig = go.Figure()
    for kind in TOKEN_CLASSES:
        rows = [n for n, tok in enumerate(tokens) if tok.kind == kind]
        if rows:
            name = t(f"embeddings.class_{kind}", lang)
            _add_points(fig, coords[rows], name=name, text=[tokens[n].label for n in rows],
                        mode="markers+text" if show_text else "markers", textposition="top center",
                        hovertemplate="%{text}<extra>" + name + "</extra>",
                        marker=dict(size=8 if k < 3 else 4, color=CLASS_COLOURS[kind], opacity=0.8))
    row_of = {tok.id: n for n, tok in enumerate(tokens)}
    rings = [(highlight, "picked", "black", 18)] if highlight in row_of else []
    rings += [(i, "neighbour", GREY, 13) for i in neighbours if i in row_of]
    for n, (token_id, role, colour, size) in enumerate(rings):
        first_of_role = all(r[1] != role for r in rings[:n])
        _add_points(fig, coords[[row_of[token_id]]], name=t(f"embeddings.{role}", lang),
                    legendgroup=role, showlegend=first_of_role, mode="markers",
                    hovertext=tokens[row_of[token_id]].label, hoverinfo="text",
                    marker=dict(symbol="circle-open", size=size if k < 3 else 9, color=colour,
                                line=dict(width=2)))
    names = [t("embeddings.axis_pc" if k < 3 else "embeddings.axis_pc_short", lang, n=i + 1,
               share=f"{100 * float(explained[i]):.0f}" if explained is not None else "?")
             for i in range(k)]
    fig.update_layout(title=title or t("embeddings.scatter_title", lang), height=620,
                      legend_title_text=t("embeddings.legend", lang),
                      margin=dict(l=10, r=10, t=50, b=10))
    if k >= 3:
        fig.update_layout(scene=dict(xaxis_title=names[0], yaxis_title=names[1],
                                     zaxis_title=names[2]))
    else:
        fig.update_xaxes(title=names[0], zeroline=False)
        fig.update_yaxes(title=names[1], zeroline=False)
        if axis_range is not None:
            fig.update_xaxes(range=[-axis_range, axis_range])
            fig.update_yaxes(range=[-axis_range, axis_range])
    return fig


def token_scatter(checkpoint, show_bytes: bool, dims: int, picked: int | None = None,
                  neighbour_ids=(), lang: str = "en") -> go.Figure:
    """The checkpoint's token table (the tokens visible_tokens shows) projected onto its first
    ``dims`` principal axes, with ``picked`` and its neighbours ringed.

    >>> from lessons.engine.checkpoint import toy_checkpoint
    >>> ckpt = toy_checkpoint("abc", block_size=4, n_layer=1, n_head=1, n_embd=4)
    >>> tok = ckpt.tokenizer
    >>> fig = token_scatter(ckpt, False, 2, picked=0)
    >>> [trace.name for trace in fig.data]
    ['letter', 'picked token']
    """
    tokens, ids = visible_tokens(checkpoint, show_bytes)
    projection = pca_project(checkpoint.model.token_embedding.weight.detach()[ids], dims)
    return embedding_scatter(projection.coords, [tokens[i] for i in ids], lang,
                             projection.explained, picked, neighbour_ids)


def timeline_scatter(checkpoint, show_bytes: bool, step: int, picked: int | None = None,
                     reach: float | None = None, title: str | None = None,
                     lang: str = "en") -> go.Figure:
    """The visible tokens at training snapshot ``step``, on the last snapshot's axes
    (timeline_frames); ``reach`` fixes both axes to [-reach, reach]."""
    tokens, ids = visible_tokens(checkpoint, show_bytes)
    frame = timeline_frames(checkpoint, show_bytes)[1][step]
    return embedding_scatter(frame.coords, [tokens[i] for i in ids], lang, frame.explained,
                             picked, title=title, axis_range=reach)


def _add_points(fig: go.Figure, points: torch.Tensor, **style) -> None:
    """One scatter trace from (n, 2) or (n, 3) coordinates."""
    xyz = dict(zip("xyz", points.T.tolist()))
    fig.add_trace(go.Scatter3d(**xyz, **style) if points.shape[1] >= 3 else go.Scatter(**xyz, **style))


def cosine_heatmap(vectors: torch.Tensor, ids: list[int], tokens: list[TokenInfo],
                   lang: str = "en") -> go.Figure:
    """Cosine similarity between the chosen tokens' vectors, with the values written in."""
    sim = cosine_similarity_matrix(vectors[ids])              # (n, n)
    labels = [tokens[i].label for i in ids]
    fig = go.Figure(go.Heatmap(z=sim.detach().numpy(), x=labels, y=labels, zmin=-1, zmax=1,
                               colorscale=DIVERGING_REVERSED, texttemplate="%{z:.2f}" if len(ids) <= 16 else None,
                               colorbar=dict(title=t("embeddings.cosine", lang))))
    fig.update_layout(title=t("embeddings.heatmap_title", lang), height=520,
                      margin=dict(l=10, r=10, t=50, b=10))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig


def _position_figure(z, title_key: str, x_key: str, colorbar_key: str, lang: str,
                     **z_range) -> go.Figure:
    """The layout both position pictures share: rows are positions, top to bottom."""
    fig = go.Figure(go.Heatmap(z=z, colorscale=DIVERGING_REVERSED, **z_range,
                               colorbar=dict(title=t(colorbar_key, lang))))
    fig.update_layout(title=t(title_key, lang), height=480, xaxis_title=t(x_key, lang),
                      yaxis_title=t("embeddings.position", lang), margin=dict(l=10, r=10, t=50, b=10))
    fig.update_yaxes(autorange="reversed")
    return fig


def position_heatmap(position_weight: torch.Tensor, lang: str = "en") -> go.Figure:
    """The learned position table (T, C) itself: one row per position, one column per dimension."""
    # numpy, not lists: plotly checks a list cell by cell (a 64 x 64 table took 0.1 s a view)
    return _position_figure(position_weight.detach().float().numpy(), "embeddings.position_table_title",
                            "embeddings.dimension", "embeddings.value", lang, zmid=0)


def position_similarity_heatmap(position_weight: torch.Tensor, lang: str = "en") -> go.Figure:
    """Cosine similarity between every pair of positions: (T, C) -> a (T, T) heatmap."""
    sim = cosine_similarity_matrix(position_weight)
    return _position_figure(sim.detach().numpy(), "embeddings.position_similarity_title",
                            "embeddings.position", "embeddings.cosine", lang, zmin=-1, zmax=1)
