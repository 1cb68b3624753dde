"""Pictures of fine-tuning: the four methods' scores side by side, their learning curves, and
continued pre-training against scratch."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lessons.i18n import t
from lessons.palettes import BLUE, GREEN, GREY, SEQUENTIAL, VERMILLION

COLOURS = {"prompt": GREY, "probe": GREEN, "full": BLUE, "scratch": VERMILLION,
           "pretrained": BLUE}


def method_name(method: str, lang: str = "en") -> str:
    return t(f"finetuning.method_{method}", lang)


def scores_figure(summaries: dict[str, dict], lang: str = "en") -> go.Figure:
    """Accuracy and macro F1 of each method on the test split; the dotted line is chance."""
    fig = go.Figure()
    methods = list(summaries)
    for metric in ("accuracy", "f1"):
        values = [summaries[m][metric] for m in methods]
        fig.add_bar(x=[method_name(m, lang) for m in methods], y=values,
                    name=t(f"evaluation.metric_{metric}", lang),
                    text=[f"{v:.3f}" for v in values], textposition="outside")
    if summaries:
        n_classes = len(next(iter(summaries.values()))["labels"])
        fig.add_hline(y=1 / n_classes, line_dash="dot",
                      annotation_text=t("finetuning.chance", lang))
    fig.update_layout(barmode="group", yaxis_range=[0, 1.15], height=340,
                      title=t("finetuning.scores_title", lang))
    return fig


def curves_figure(curves: dict[str, list[dict]], lang: str = "en") -> go.Figure:
    """Training loss (left) and validation accuracy (right) against the step, one colour a
    method."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(t("finetuning.curve_loss", lang),
                                                        t("finetuning.curve_accuracy", lang)))
    for method, rows in curves.items():
        colour, name = COLOURS.get(method), method_name(method, lang)
        fig.add_scatter(x=[r["step"] for r in rows], y=[r["train_loss"] for r in rows],
                        mode="lines", name=name, line=dict(color=colour), legendgroup=method,
                        row=1, col=1)
        measured = [r for r in rows if r.get("val_accuracy") is not None]
        fig.add_scatter(x=[r["step"] for r in measured], y=[r["val_accuracy"] for r in measured],
                        mode="lines+markers", name=name, line=dict(color=colour),
                        legendgroup=method, showlegend=False, row=1, col=2)
    fig.update_xaxes(title_text=t("finetuning.axis_step", lang))
    fig.update_yaxes(range=[0, 1.05], row=1, col=2)
    fig.update_layout(height=340, margin=dict(t=60))
    return fig


def continued_figure(pretrained: list[dict], scratch: list[dict], lang: str = "en") -> go.Figure:
    """Validation loss on the new text: the pre-trained start against the random one."""
    fig = go.Figure()
    for key, rows in (("pretrained", pretrained), ("scratch", scratch)):
        measured = [r for r in rows if r.get("val_loss") is not None]
        fig.add_scatter(x=[r["step"] for r in measured], y=[r["val_loss"] for r in measured],
                        mode="lines+markers", name=t(f"finetuning.continued_{key}", lang),
                        line=dict(color=COLOURS[key]))
    fig.update_layout(height=340, title=t("finetuning.continued_title", lang),
                      xaxis_title=t("finetuning.axis_step", lang),
                      yaxis_title=t("finetuning.axis_val_loss", lang))
    return fig


def last_position_figure(labels: list[str], weights, lang: str = "en") -> go.Figure:
    """Rows = layers, columns = the text's tokens: where the classified position looks."""
    fig = go.Figure(go.Heatmap(z=weights.tolist(), x=list(range(len(labels))),
                               y=[t("finetuning.layer_n", lang, n=i) for i in range(len(weights))],
                               colorscale=SEQUENTIAL, zmin=0, showscale=False,
                               customdata=[labels] * len(weights),
                               hovertemplate="%{customdata}: %{z:.3f}<extra></extra>"))
    fig.update_xaxes(tickmode="array", tickvals=list(range(len(labels))), ticktext=labels,
                     tickangle=0)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=120 + 40 * len(weights), margin=dict(t=50, b=40),
                      title=t("finetuning.attends_title", lang))
    return fig
