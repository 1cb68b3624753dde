"""Readable in a classroom: a projector mode (larger text and larger figures) and a focus ring
that always shows where the keyboard is.

The sidebar's toggle keeps its state in ``st.session_state["projector_on"]`` (bool), which the
work store saves with the rest of a learner's work. Text grows through CSS: Streamlit sizes its
text in rem, so one root font size scales every heading, paragraph and widget. Figures grow in
one place for every page: ``install_figure_scaling`` wraps Streamlit's ``plotly_chart`` so
that, in a session with projector mode on, a chart is drawn from a copy of its figure with
larger fonts and height (the figure a page got from the shared cache is never changed). The
same wrapper gives a chart whose traces have no colours of their own the Okabe-Ito palette.
"""
from __future__ import annotations

import functools
import types

import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from lessons.display import style_html
from lessons.palettes import BLUE, CATEGORICAL

PROJECTOR_KEY = "projector_on"
FIGURE_SCALE = 1.4            # fonts and height of every chart in projector mode
TEXT_SCALE = 1.3              # the root font size: everything sized in rem follows
PLOTLY_DEFAULT_FONT, PLOTLY_DEFAULT_HEIGHT = 12, 450

# Always on: a visible ring on whatever the keyboard has reached (Streamlit's own ring is faint
# on some widgets), in the palette's blue, which stands out from every background we use. A
# radio button's or a toggle's real input is a hidden 1 px box: the ring goes on its label.
FOCUS_CSS = f"""
*:focus-visible {{ outline: 3px solid {BLUE} !important; outline-offset: 2px !important; }}
label:has(input[type="radio"]:focus-visible), label:has(input[type="checkbox"]:focus-visible) {{
    outline: 3px solid {BLUE} !important; outline-offset: 2px; border-radius: 4px; }}
"""
PROJECTOR_CSS = f"""
html {{ font-size: {100 * TEXT_SCALE:.0f}%; }}
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {{ line-height: 1.6; }}
[data-testid="stSidebar"] {{ min-width: 22rem; }}
"""


def projector_on() -> bool:
    return bool(st.session_state.get(PROJECTOR_KEY, False))


def classroom_style() -> None:
    """The page's CSS for this session: the focus ring, and projector mode's sizes if on."""
    css = FOCUS_CSS + (PROJECTOR_CSS if projector_on() else "")
    st.html(style_html(css))


def scaled_figure(fig, factor: float = FIGURE_SCALE) -> go.Figure:
    """A copy of ``fig`` with every font and its height ``factor`` times larger.

    >>> big = scaled_figure(go.Figure(layout=dict(height=300, title=dict(text="t"))), 2.0)
    >>> big.layout.height, big.layout.font.size, big.layout.title.font.size
    (600.0, 24.0, 24.0)
    """
    copy = go.Figure(fig)
    layout = copy.layout
    base = layout.font.size or PLOTLY_DEFAULT_FONT
    copy.update_layout(font_size=base * factor,
                       height=(layout.height or PLOTLY_DEFAULT_HEIGHT) * factor)
    if layout.title.text:
        copy.update_layout(title_font_size=(layout.title.font.size or base) * factor)
    for annotation in layout.annotations or ():
        annotation.font.size = (annotation.font.size or base) * factor
    return copy


def with_safe_colours(fig: go.Figure) -> go.Figure:
    """A trace without a colour of its own takes the next colour of the layout's colorway;
    without one, Streamlit's theme would give it its own palette. Give it Okabe-Ito instead.
    Set in place and only when missing: every session sets the same value on a figure the
    cache shares, so no session can see another's.

    >>> with_safe_colours(go.Figure()).layout.colorway == CATEGORICAL
    True
    """
    if not fig.layout.colorway:
        fig.update_layout(colorway=CATEGORICAL)
    return fig


def install_figure_scaling() -> None:
    """Wrap DeltaGenerator.plotly_chart once per server process. The wrapper asks the calling
    session's state on every call, so one session's projector mode never reaches another's."""
    original = DeltaGenerator.plotly_chart
    if getattr(original, "projector_aware", False):
        return

    @functools.wraps(original)
    def plotly_chart(self, figure_or_data, *args, **kwargs):
        if isinstance(figure_or_data, go.Figure):
            with_safe_colours(figure_or_data)
            if projector_on():
                figure_or_data = scaled_figure(figure_or_data)
        return original(self, figure_or_data, *args, **kwargs)

    plotly_chart.projector_aware = True
    DeltaGenerator.plotly_chart = plotly_chart
    # subtle: ``st.plotly_chart`` is a method bound to the main container when streamlit is
    # imported, so the class attribute alone does not reach it
    st.plotly_chart = types.MethodType(plotly_chart, st.plotly_chart.__self__)
