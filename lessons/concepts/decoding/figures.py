"""The decoding lesson's pictures: one step's distribution with the kept set and the chosen
token, the road a text took among the alternatives, beam search as a tree, and a text with
its copied spans marked."""
from __future__ import annotations

import html

import plotly.graph_objects as go
import torch

from lessons.concepts.decoding.compute import BeamTree, Step
from lessons.i18n import t
from lessons.palettes import BLUE, LIGHT_GREY, VERMILLION

CHOSEN, KEPT, DROPPED, PRUNED = VERMILLION, BLUE, LIGHT_GREY, LIGHT_GREY


def _labels(tokenizer, ids: list[int]) -> list[str]:
    labels = [tokenizer.token_label(i) or "∅" for i in ids]
    # subtle: two ids can share a label (a char and its byte token); keep bars apart
    return [f"{label} ({i})" if labels.count(label) > 1 else label for label, i in zip(labels, ids)]


def step_figure(tokenizer, step: Step, how_many: int = 15, lang: str = "en") -> go.Figure:
    """The model's likeliest next tokens (bar height = its own probability): red the token
    chosen, blue the others the strategy kept, grey the ones it dropped. The hover gives the
    probability the strategy draws with (renormalised over the kept set).

    >>> from lessons.engine.checkpoint import toy_checkpoint
    >>> from lessons.concepts.decoding.compute import Strategy, walk
    >>> ckpt = toy_checkpoint("ab", block_size=4, n_embd=4)
    >>> step = walk(ckpt.model, [2, 3], Strategy("top-k", top_k=2), 1)[0]
    >>> fig = step_figure(ckpt.tokenizer, step, how_many=5)
    >>> sorted(fig.data[0].marker.color) == sorted([CHOSEN, KEPT] + [DROPPED] * 3)
    True
    """
    top = torch.topk(step.probs, min(how_many, len(step.probs)))
    ids = top.indices.tolist()
    ids += [i for i in step.kept_ids if i not in ids and i == step.chosen]   # always show the pick
    colours = [CHOSEN if i == step.chosen else KEPT if step.kept[i] > 0 else DROPPED for i in ids]
    fig = go.Figure(go.Bar(x=_labels(tokenizer, ids), y=[float(step.probs[i]) for i in ids],
                           marker_color=colours,
                           customdata=[float(step.kept[i]) for i in ids],
                           hovertemplate="%{x}: p = %{y:.4f}, "
                                         + t("decoding.hover_kept", lang) + " %{customdata:.4f}<extra></extra>"))
    fig.update_layout(title=t("decoding.step_title", lang), xaxis_title=t("decoding.axis_token", lang),
                      yaxis_title=t("decoding.axis_probability", lang), height=340,
                      xaxis_type="category")
    return fig


def road_figure(tokenizer, steps: list[Step], alternatives: int = 5, lang: str = "en") -> go.Figure:
    """The road taken: one column a step, the ``alternatives`` likeliest tokens as grey dots
    (size = probability), the chosen tokens joined by a red line.

    >>> from lessons.engine.checkpoint import toy_checkpoint
    >>> from lessons.concepts.decoding.compute import Strategy, walk
    >>> ckpt = toy_checkpoint("ab", block_size=4, n_embd=4)
    >>> fig = road_figure(ckpt.tokenizer, walk(ckpt.model, [2], Strategy("sample"), 4))
    >>> len(fig.data[-1].x)           # the road: one point a step
    4
    """
    fig = go.Figure()
    xs, ys, texts, sizes, road_y, road_text = [], [], [], [], [], []
    for n, step in enumerate(steps):
        top = torch.topk(step.probs, min(alternatives, len(step.probs)))
        ids = top.indices.tolist()
        if step.chosen not in ids:
            ids.append(step.chosen)
        for rank, token in enumerate(ids):
            xs.append(n + 1)
            ys.append(-rank)
            texts.append(_labels(tokenizer, [token])[0])
            sizes.append(8 + 40 * float(step.probs[token]))
        road_y.append(-ids.index(step.chosen))
        road_text.append(_labels(tokenizer, [step.chosen])[0])
    fig.add_scatter(x=xs, y=ys, mode="markers+text", text=texts, textposition="middle right",
                    marker=dict(size=sizes, color=DROPPED), name=t("decoding.road_alternatives", lang))
    fig.add_scatter(x=list(range(1, len(steps) + 1)), y=road_y, mode="lines+markers",
                    text=road_text, line=dict(color=CHOSEN, width=3), marker=dict(color=CHOSEN, size=10),
                    name=t("decoding.road_taken", lang))
    fig.update_layout(title=t("decoding.road_title", lang), xaxis_title=t("decoding.axis_step", lang),
                      yaxis=dict(title=t("decoding.axis_rank", lang), tickvals=list(range(0, -alternatives - 1, -1)),
                                 ticktext=[str(r + 1) for r in range(alternatives + 1)]),
                      height=380)
    return fig


def beam_tree_figure(tokenizer, tree: BeamTree, lang: str = "en") -> go.Figure:
    """Beam search as a tree: one column a step, each branch a dot labelled with its token and
    summed log-probability; kept beams in blue joined by solid lines, pruned branches grey and
    dashed, the best final beam's path in red.

    >>> from lessons.engine.checkpoint import toy_checkpoint
    >>> from lessons.concepts.decoding.compute import beam_tree
    >>> ckpt = toy_checkpoint("ab", block_size=4, n_embd=4)
    >>> fig = beam_tree_figure(ckpt.tokenizer, beam_tree(ckpt.model, [2], 2, width=2))
    >>> len(fig.data[-1].x)           # the best path: start + one point a step
    3
    """
    fig = go.Figure()
    positions = {(-1, 0): (0, 0.0)}          # (step, beam) -> (x, y) of a live beam
    dots = {True: ([], [], []), False: ([], [], [])}
    for step, branches in enumerate(tree.branches):
        count = len(branches)
        # children sit in their parents' order (top parent first), so lines seldom cross
        ordered = sorted(branches, key=lambda b: (-positions[(step - 1, b.parent)][1], -b.log_prob))
        for place, branch in enumerate(ordered):
            y = (count - 1) / 2 - place
            px, py = positions[(step - 1, branch.parent)]
            fig.add_scatter(x=[px, step + 1], y=[py, y], mode="lines", showlegend=False,
                            hoverinfo="skip",
                            line=dict(color=KEPT if branch.kept else PRUNED,
                                      dash="solid" if branch.kept else "dot"))
            xs, ys, texts = dots[branch.kept]
            xs.append(step + 1)
            ys.append(y)
            texts.append(f"{_labels(tokenizer, [branch.token])[0]} {branch.log_prob:.2f}")
            if branch.kept:
                positions[(step, branch.beam)] = (step + 1, y)
    for kept in (False, True):
        xs, ys, texts = dots[kept]
        fig.add_scatter(x=xs, y=ys, mode="markers+text", text=texts, textposition="top center",
                        marker=dict(color=KEPT if kept else PRUNED, size=10 if kept else 7),
                        name=t("decoding.tree_kept" if kept else "decoding.tree_pruned", lang))
    last = len(tree.branches) - 1
    best = max((b for b in tree.branches[last] if b.kept), key=lambda b: b.log_prob) if last >= 0 else None
    path = [positions[(-1, 0)]]
    if best is not None:
        beam, trail = best.beam, []
        for step in range(last, -1, -1):
            trail.append(positions[(step, beam)])
            beam = next(b for b in tree.branches[step] if b.beam == beam).parent
        path += trail[::-1]
    fig.add_scatter(x=[p[0] for p in path], y=[p[1] for p in path], mode="lines+markers",
                    line=dict(color=CHOSEN, width=3), marker=dict(color=CHOSEN, size=11),
                    name=t("decoding.tree_best", lang))
    fig.update_layout(title=t("decoding.tree_title", lang), xaxis_title=t("decoding.axis_step", lang),
                      yaxis=dict(showticklabels=False), height=420 + 12 * max(
                          (len(b) for b in tree.branches), default=0))
    return fig


def copied_html(text: str, spans: list[tuple[int, int]]) -> str:
    """The text as HTML with the copied spans in <mark>; everything escaped.

    >>> copied_html("a<b>c", [(1, 4)])
    '<span style="white-space: pre-wrap">a<mark>&lt;b&gt;</mark>c</span>'
    """
    parts, at = [], 0
    for start, end in spans:
        parts += [html.escape(text[at:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        at = end
    parts.append(html.escape(text[at:]))
    return '<span style="white-space: pre-wrap">' + "".join(parts) + "</span>"
