"""The tokenisation lesson's pictures: token chips as HTML, and the compression chart."""
from __future__ import annotations

import html

import plotly.graph_objects as go

from lessons.concepts.tokenization.compute import CHIP_LIMIT, TokenView
from lessons.display import group_by_character, group_label
from lessons.i18n import t
from lessons.palettes import (CHIP_BACKGROUNDS, CHIP_BORDER, CHIP_HIGHLIGHT, CHIP_SPECIAL, CHIP_SPECIAL_TEXT,
                              CHIP_TEXT, CHIP_UNKNOWN)


PALETTE = CHIP_BACKGROUNDS


def chips_html(views: list[TokenView], text: str, lang: str = "en",
               highlight: set[int] | None = None, limit: int = CHIP_LIMIT) -> str:
    """Coloured chips, one per token, as HTML. Every piece of the user's text is escaped.
    Hover shows id, token, bytes and character span; byte tokens of one character are boxed
    together under that character. Tokens whose id is in ``highlight`` get a thick border."""
    highlight = highlight or set()
    parts, n = [], 0
    for group in group_by_character(views[:limit]):
        chips = []
        for v in group:
            title = t("tokenization.chip_title", lang, id=v.id, token=v.label,
                      bytes=" ".join(f"{b:02X}" for b in v.raw) or "–", start=v.start, end=v.end)
            colour = {"special": CHIP_SPECIAL, "unknown": CHIP_UNKNOWN}.get(v.kind, PALETTE[n % len(PALETTE)])
            fg = CHIP_SPECIAL_TEXT if v.kind == "special" else CHIP_TEXT
            border = f"3px solid {CHIP_HIGHLIGHT}" if v.id in highlight else "1px solid rgba(0,0,0,.15)"
            style = "dashed" if v.kind == "byte" else "normal"
            chips.append(
                f'<span title="{html.escape(title)}" style="display:inline-flex;flex-direction:column;'
                f'align-items:center;margin:2px;padding:2px 6px;border-radius:6px;background:{colour};'
                f'color:{fg};border:{border};font-style:{style};unicode-bidi:isolate">'
                f'<span style="font-family:monospace;white-space:pre">{html.escape(v.label)}</span>'
                f'<span style="font-size:10px">{v.id}</span></span>')
            n += 1
        if len(group) > 1:
            covered = group_label(group, text)
            note = t("tokenization.chip_group", lang, chars=covered, n=len(group))
            parts.append(
                f'<span title="{html.escape(note)}" style="display:inline-flex;flex-direction:column;'
                f'align-items:center;margin:2px;padding:2px;border:2px dashed {CHIP_BORDER};'
                f'border-radius:8px"><span>{"".join(chips)}</span>'
                f'<span style="font-size:12px;unicode-bidi:isolate">{html.escape(covered)}'
                f'</span></span>')
        else:
            parts.append(chips[0])
    return (f'<div dir="ltr" style="line-height:1.2;display:flex;flex-wrap:wrap;'
            f'align-items:flex-start">{"".join(parts)}</div>')


def compression_figure(curve: list[dict], lang: str = "en", others: dict | None = None) -> go.Figure:
    """The curve as a line (log x axis); others = {name: (vocab_size, tokens_per_char)} adds
    single points for the character and word tokenizers."""
    fig = go.Figure(go.Scatter(
        x=[p["vocab_size"] for p in curve], y=[p["tokens_per_char"] for p in curve],
        mode="lines+markers", name=t("tokenization.chart_bpe", lang),
        customdata=[p["merges"] for p in curve],
        hovertemplate=t("tokenization.chart_hover", lang) + "<extra></extra>"))
    for name, (size, per_char) in (others or {}).items():
        fig.add_trace(go.Scatter(x=[size], y=[per_char], mode="markers+text", text=[name],
                                 textposition="top center", name=name, marker={"size": 12}))
    fig.update_layout(title=t("tokenization.chart_title", lang), height=420,
                      xaxis={"title": t("tokenization.chart_x", lang), "type": "log",
                             "tickvals": [250, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000]},
                      yaxis={"title": t("tokenization.chart_y", lang), "rangemode": "tozero"},
                      legend={"orientation": "h", "y": -0.25})
    return fig


def pieces_html(pieces: list[str]) -> str:
    """One coloured chip per piece of a cut text (a tokenizer's tokens, jieba's words), each
    piece escaped: a learner's text never becomes markup.

    >>> pieces_html(["<b>", "猫"]).count("<span"), "&lt;b&gt;" in pieces_html(["<b>"])
    (2, True)
    """
    chips = "".join(f'<span style="margin:2px;padding:2px 6px;border-radius:6px;'
                    f'background:{PALETTE[n % len(PALETTE)]};white-space:pre">{html.escape(p)}</span>'
                    for n, p in enumerate(pieces))
    return f'<div style="display:flex;flex-wrap:wrap;line-height:1.6">{chips}</div>'
