"""Figures for the training lesson: live curves of one run and the overlay of several.

Each function takes metric rows (as the trainer records them) and returns a plotly figure;
nothing here displays anything.
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lessons.i18n import t
from lessons.palettes import BLUE, GREEN, PURPLE, VERMILLION


def _series(metrics: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of one metric, rows without it (or with NaN / inf) left out.
    numpy, not lists: the live chart is redrawn every second while a run trains, and plotly
    checks a list point by point but takes an array whole."""
    rows = [m for m in metrics if m.get(key) is not None and math.isfinite(m[key])]
    return (np.array([m["step"] for m in rows], dtype=np.int64),
            np.array([m[key] for m in rows], dtype=np.float64))


def run_dashboard(metrics: list[dict], lang: str = "en") -> go.Figure:
    """Four panels: losses, perplexity, learning rate, gradient norm (x = step)."""
    fig = make_subplots(rows=2, cols=2, horizontal_spacing=0.08, vertical_spacing=0.16,
                        subplot_titles=[t("training.chart_loss", lang),
                                        t("training.chart_perplexity", lang),
                                        t("training.chart_lr", lang),
                                        t("training.chart_grad_norm", lang)])
    x, y = _series(metrics, "train_loss")
    fig.add_scatter(x=x, y=y, name=t("training.train_loss", lang), row=1, col=1,
                    line=dict(color=BLUE))
    vx, vy = _series(metrics, "val_loss")
    fig.add_scatter(x=vx, y=vy, name=t("training.val_loss", lang), row=1, col=1,
                    mode="lines+markers", line=dict(color=VERMILLION))
    fig.add_scatter(x=x, y=np.exp(np.minimum(y, 50)), row=1, col=2, showlegend=False,
                    line=dict(color=BLUE))
    fig.add_scatter(x=vx, y=np.exp(np.minimum(vy, 50)), row=1, col=2,
                    showlegend=False, mode="lines+markers", line=dict(color=VERMILLION))
    lx, ly = _series(metrics, "lr")
    fig.add_scatter(x=lx, y=ly, row=2, col=1, showlegend=False, line=dict(color=GREEN))
    gx, gy = _series(metrics, "grad_norm")
    fig.add_scatter(x=gx, y=gy, row=2, col=2, showlegend=False, line=dict(color=PURPLE))
    # dtick=1: one label per power of ten (1, 10, 100), not "5, 2, 100, 5, 2" between them
    fig.update_yaxes(type="log", dtick=1, row=1, col=2)
    fig.update_xaxes(title_text=t("training.step", lang), row=2)
    fig.update_layout(height=560, margin=dict(l=40, r=20, t=40, b=40),
                      legend=dict(orientation="h", y=1.12, x=0))
    return fig


def compare_runs(runs: dict[str, list[dict]], key: str = "val_loss", lang: str = "en") -> go.Figure:
    """One curve per run name for the chosen metric (e.g. three learning rates)."""
    fig = go.Figure()
    for name, metrics in runs.items():
        x, y = _series(metrics, key)
        fig.add_scatter(x=x, y=y, name=name, mode="lines+markers" if key == "val_loss" else "lines")
    fig.update_layout(height=420, xaxis_title=t("training.step", lang),
                      yaxis_title=t(f"training.{key}", lang),
                      margin=dict(l=40, r=20, t=30, b=40))
    return fig
