"""Pictures of the masked-vs-causal page and notebook 09 (plotly; words from prose)."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lessons.display import visible
from lessons.i18n import t
from lessons.palettes import BLUE, GREY, LIGHT_GREY, ORANGE, SKY_BLUE, VERMILLION

KIND_COLOURS = {"unchanged": LIGHT_GREY, "masked": VERMILLION, "randomised": ORANGE,
                "kept": SKY_BLUE}
MODEL_COLOURS = {"causal": BLUE, "masked": VERMILLION}


def guesses_figure(masked: list, causal: list, lang: str = "en") -> go.Figure:
    """Two bar charts side by side: the masked model's top guesses at [MASK] (both sides
    read) and the causal model's for the same place (left side only)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        t("masked_vs_causal.guess_masked", lang), t("masked_vs_causal.guess_causal", lang)))
    for col, (name, guesses) in enumerate((("masked", masked), ("causal", causal)), start=1):
        labels = [visible(g.token) for g in guesses][::-1]
        fig.add_trace(go.Bar(x=[g.probability for g in guesses][::-1], y=labels, orientation="h",
                             marker_color=MODEL_COLOURS[name], showlegend=False,
                             hovertemplate="%{y}: %{x:.3f}<extra></extra>"), row=1, col=col)
        fig.update_xaxes(title=t("masked_vs_causal.probability", lang), range=[0, 1], row=1, col=col)
    fig.update_layout(height=360, margin=dict(t=60, l=10, r=10, b=40))
    return fig


def positions_figure(rows: list[dict], lang: str = "en") -> go.Figure:
    """Which positions each objective learns from: every one for the causal model, the chosen
    ones (coloured by what BERT's recipe did to them) for the masked model."""
    tokens = [visible(r["token"]) for r in rows]
    x = list(range(len(rows)))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=[1] * len(rows), mode="markers+text", text=tokens,
                             textposition="middle center", name=t("masked_vs_causal.causal", lang),
                             marker=dict(symbol="square", size=26, color=MODEL_COLOURS["causal"],
                                         opacity=0.35)))
    for kind, colour in KIND_COLOURS.items():
        picked = [i for i, r in enumerate(rows) if r["kind"] == kind]
        fig.add_trace(go.Scatter(
            x=picked, y=[0] * len(picked), mode="markers+text",
            text=[visible(rows[i]["shown"]) for i in picked], textposition="middle center",
            name=t(f"masked_vs_causal.kind_{kind}", lang),
            marker=dict(symbol="square", size=26, color=colour, opacity=0.6)))
    fig.update_yaxes(tickvals=[0, 1], ticktext=[t("masked_vs_causal.masked", lang),
                                                t("masked_vs_causal.causal", lang)], range=[-0.6, 1.6])
    fig.update_xaxes(visible=False)
    fig.update_layout(height=260, margin=dict(t=20, l=10, r=10, b=10),
                      legend=dict(orientation="h", y=-0.15))
    return fig


def loss_curves_figure(curves: dict[str, list[dict]], lang: str = "en") -> go.Figure:
    """Validation loss against step for each model, on one chart (each on its own targets:
    the next token, or the hidden ones)."""
    fig = go.Figure()
    for name, metrics in curves.items():
        rows = [r for r in metrics if r.get("val_loss") is not None]
        fig.add_trace(go.Scatter(x=[r["step"] for r in rows], y=[r["val_loss"] for r in rows],
                                 mode="lines+markers", name=t(f"masked_vs_causal.{name}", lang),
                                 line=dict(color=MODEL_COLOURS[name])))
    fig.update_layout(height=340, xaxis_title=t("masked_vs_causal.step", lang),
                      yaxis_title=t("masked_vs_causal.val_loss", lang),
                      legend=dict(orientation="h", y=-0.25), margin=dict(t=20))
    return fig


def accuracy_figure(scores: dict[str, float], lang: str = "en") -> go.Figure:
    """Masked-token accuracy, next-token accuracy and the unigram baseline as bars."""
    names = list(scores)
    fig = go.Figure(go.Bar(x=[t(f"masked_vs_causal.acc_{n}", lang) for n in names],
                           y=[scores[n] for n in names], text=[f"{scores[n]:.1%}" for n in names],
                           marker_color=[VERMILLION, BLUE, GREY][: len(names)]))
    fig.update_layout(height=320, yaxis=dict(range=[0, 1], tickformat=".0%",
                                             title=t("masked_vs_causal.accuracy", lang)),
                      margin=dict(t=20))
    return fig
