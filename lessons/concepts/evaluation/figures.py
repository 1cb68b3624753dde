"""Pictures of a model's scores: a confusion matrix, per-class bars, BLEU's n-gram precisions
and the perplexity curve."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from lessons.concepts.evaluation.compute import Bleu, ClassificationMetrics
from lessons.i18n import t
from lessons.palettes import SEQUENTIAL


def confusion_figure(confusion: list[list[int]], labels: list[str], title: str = "",
                     lang: str = "en") -> go.Figure:
    """Rows = the true label, columns = the predicted one; the diagonal is what was right."""
    shown = [str(label) for label in labels]
    fig = go.Figure(go.Heatmap(z=confusion, x=shown, y=shown, colorscale=SEQUENTIAL,
                               text=[[str(v) for v in row] for row in confusion],
                               texttemplate="%{text}", showscale=False))
    fig.update_layout(title=title or t("evaluation.confusion_title", lang),
                      xaxis_title=t("evaluation.axis_predicted", lang),
                      yaxis_title=t("evaluation.axis_true", lang), height=320,
                      margin=dict(t=50, b=40))
    fig.update_xaxes(type="category", side="bottom")
    fig.update_yaxes(type="category", autorange="reversed")     # the first class on top
    return fig


def class_scores_figure(metrics: ClassificationMetrics, labels: list[str],
                        lang: str = "en") -> go.Figure:
    """Precision, recall and F1 of each class, grouped by class."""
    fig = go.Figure()
    names = [str(label) for label in labels]
    for field in ("precision", "recall", "f1"):
        values = [getattr(c, field) for c in metrics.per_class]
        fig.add_bar(x=names, y=values, name=t(f"evaluation.metric_{field}", lang),
                    text=[f"{v:.2f}" for v in values], textposition="outside")
    fig.update_layout(barmode="group", yaxis_range=[0, 1.15], height=320,
                      title=t("evaluation.class_scores_title", lang))
    fig.update_xaxes(type="category")
    return fig


def bleu_figure(result: Bleu, lang: str = "en") -> go.Figure:
    """The four clipped n-gram precisions, with their counts, and BLEU as a line."""
    names = [f"{n}-gram" for n in range(1, len(result.matches) + 1)]
    fig = go.Figure(go.Bar(x=names, y=list(result.precisions),
                           text=[f"{m}/{n}" for m, n in zip(result.matches, result.totals)],
                           textposition="outside", name=t("evaluation.metric_precision", lang)))
    fig.add_hline(y=result.score, line_dash="dot",
                  annotation_text=f"BLEU = {result.score:.3f}")
    fig.update_layout(yaxis_range=[0, 1.15], height=320, title=t("evaluation.bleu_title", lang),
                      yaxis_title=t("evaluation.metric_precision", lang))
    return fig


def perplexity_figure(marked_cross_entropy: float | None = None, lang: str = "en") -> go.Figure:
    """exp(cross-entropy): every extra nat of loss multiplies the perplexity by e."""
    grid = np.linspace(0.0, 6.0, 200)
    fig = go.Figure(go.Scatter(x=grid, y=np.exp(grid), mode="lines", name="e^CE"))
    if marked_cross_entropy is not None and math.isfinite(marked_cross_entropy):
        fig.add_scatter(x=[marked_cross_entropy], y=[math.exp(marked_cross_entropy)],
                        mode="markers+text", text=[f"{math.exp(marked_cross_entropy):.2f}"],
                        textposition="top left", marker=dict(size=10), name="")
    fig.update_layout(xaxis_title=t("evaluation.axis_cross_entropy", lang),
                      yaxis_title=t("evaluation.axis_perplexity", lang), height=320,
                      title=t("evaluation.perplexity_title", lang), showlegend=False)
    return fig
