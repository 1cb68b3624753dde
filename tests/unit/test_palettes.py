"""Colour-blind-safe colours everywhere: no figure module or page writes a colour scale or a
hex colour of its own; they all come from lessons/palettes.py. And every figure the page
builders make, drawn for real, uses only approved scales."""
from __future__ import annotations

import re
from pathlib import Path

import plotly.graph_objects as go

from lessons import palettes

ROOT = Path(__file__).resolve().parents[2]
SCALE_ARGUMENT = re.compile(r"""(colorscale|color_continuous_scale|colormap|cmap)\s*=\s*["']""")
HEX = re.compile(r"#[0-9a-fA-F]{6}\b")
NAMED = re.compile(r"""color\s*=\s*["'](red|blue|green|gray|grey|orange|purple|black)["']""")


def figure_sources() -> list[Path]:
    """Every module that builds a chart: the concepts' figures, and the app's pages and panels."""
    return sorted([*ROOT.glob("lessons/concepts/*/figures.py"), *ROOT.glob("app/**/*.py")])


def test_no_figure_writes_its_own_colours():
    offenders = []
    for path in figure_sources():
        text = path.read_text("utf-8")
        for pattern in (SCALE_ARGUMENT, HEX, NAMED):
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert not offenders, offenders
    assert len(figure_sources()) > 20          # the glob found the figure modules


def test_palette_is_okabe_ito_and_scales_are_plotly_scales():
    assert set(palettes.CATEGORICAL) == {"#0072B2", "#D55E00", "#009E73", "#E69F00", "#56B4E9",
                                         "#CC79A7", "#000000", "#F0E442"}
    for scale in palettes.APPROVED_SCALES:      # plotly knows each name (refuses a typo)
        go.Heatmap(z=[[0, 1]], colorscale=scale)


def test_drawn_heatmaps_use_approved_scales():
    """Build the heatmaps of several pages and look at the scale plotly actually got."""
    import torch
    from lessons.concepts.attention import figures as AF
    from lessons.concepts.evaluation import figures as EF
    # each approved name as plotly expands it on a trace
    approved = [go.Heatmap(colorscale=s).colorscale for s in palettes.APPROVED_SCALES]
    weights = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    figures = [AF.attention_heatmap(weights, ["a", "b"], ["a", "b"], "en", "t"),
               EF.confusion_figure([[3, 1], [0, 4]], ["x", "y"], "en")]
    for fig in figures:
        for trace in fig.data:
            if trace.type == "heatmap":
                assert trace.colorscale in approved, trace.colorscale[:2]
