"""The tokenisation lesson's views: token chips, counts, three tokenizers side by side, the
merge table and the compression chart. UI-free: functions return data, HTML strings or plotly
figures; the page and the notebook show them.

>>> from lessons.tokenization import CharTokenizer
>>> tok = CharTokenizer.train("hi there")
>>> [v.label for v in token_views(tok, "hi 你")]
['h', 'i', '␣', '<0xE4>', '<0xBD>', '<0xA0>']
>>> text_stats(tok, "hi 你")
{'characters': 4, 'bytes': 6, 'tokens': 6, 'chars_per_token': 0.67}
"""
from __future__ import annotations

import html
import unicodedata
from dataclasses import dataclass

import plotly.graph_objects as go

from lessons.i18n import t
from lessons.tokenization import (END_OF_TEXT, BPETokenizer, CharTokenizer, WordTokenizer,
                                  bpe_with_first_merges)

DISPLAY_CHAR_LIMIT = 20_000   # longer text is cut for display (a 1 MB paste stays in the box)
CHIP_LIMIT = 3_000            # more chips than this make the browser crawl
DEFAULT_TEXT = "The cat sat on the mat, and the cat was happy.\n大语言模型如何工作？"
PALETTE = ["#ffd8a8", "#b2f2bb", "#a5d8ff", "#fcc2d7", "#d0bfff", "#ffec99", "#99e9f2", "#c0eb75"]

_VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}


def cap_text(text: str, limit: int = DISPLAY_CHAR_LIMIT) -> tuple[str, bool]:
    """('abcdef', 4) -> ('abcd', True): the part that is shown, and whether it was cut."""
    return (text[:limit], True) if len(text) > limit else (text, False)


def visible(s: str) -> str:
    """Make invisible characters visible: 'a b\\n' -> 'a␣b↵', NUL -> '␀', a zero-width
    joiner or a right-to-left mark -> '⟨U+200D⟩'. Everything else is unchanged."""
    out = []
    for ch in s:
        if ch in _VISIBLE:
            out.append(_VISIBLE[ch])
        elif ord(ch) < 0x20:
            out.append(chr(0x2400 + ord(ch)))      # Unicode's "control pictures": ␀ ␁ ...
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(f"⟨U+{ord(ch):04X}⟩")
        else:
            out.append(ch)
    return "".join(out)


def bytes_label(raw: bytes) -> str:
    """Readable text for a token's bytes; bytes that are only part of a character show as
    <0xNN>: b'\\xe5\\xa4' -> '<0xE5><0xA4>', b' the' -> '␣the'."""
    # surrogateescape turns each undecodable byte into one stand-in character U+DC80..U+DCFF
    text = raw.decode("utf-8", errors="surrogateescape")
    return "".join(f"<0x{ord(c) - 0xDC00:02X}>" if 0xDC80 <= ord(c) <= 0xDCFF else visible(c)
                   for c in text)


@dataclass(frozen=True)
class TokenView:
    id: int
    label: str        # what the chip shows
    raw: bytes        # the bytes the token stands for (empty for <unk>)
    start: int        # character span in the text: text[start:end]
    end: int
    kind: str         # 'text', 'byte' (part of a character), 'special' or 'unknown'


def token_views(tokenizer, text: str, spans=None) -> list[TokenView]:
    """Every token of text with its id, label, bytes, character span and kind.
    spans: TokenSpans already computed for text (e.g. by replay_merges); default: encode."""
    views, bpe_bytes = [], {}     # bpe_bytes: id -> bytes, looked up once per distinct id
    for span in tokenizer.token_spans(text) if spans is None else spans:
        if isinstance(tokenizer, BPETokenizer):
            if span.id not in bpe_bytes:
                bpe_bytes[span.id] = tokenizer.token_bytes(span.id)
            raw = bpe_bytes[span.id]
            special = tokenizer.id_to_token(span.id) == END_OF_TEXT
        elif isinstance(tokenizer, CharTokenizer):
            special = False
            raw = (bytes([span.id - tokenizer.byte_offset]) if span.id >= tokenizer.byte_offset
                   else span.text.encode("utf-8"))
        else:   # WordTokenizer
            special = False
            raw = b"" if span.id == 0 else span.text.encode("utf-8")
        if special:
            kind, label = "special", END_OF_TEXT
        elif isinstance(tokenizer, WordTokenizer) and span.id == 0:
            kind, label = "unknown", WordTokenizer.UNKNOWN
        else:
            label = bytes_label(raw)
            kind = "text" if _is_utf8(raw) else "byte"
        views.append(TokenView(span.id, label, raw, span.start, span.end, kind))
    return views


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def group_by_character(views: list[TokenView]) -> list[list[TokenView]]:
    """Tokens whose character spans overlap belong together: the three byte tokens of one
    Chinese character (all spanning the same character) form one group; others stand alone."""
    groups: list[list[TokenView]] = []
    for v in views:
        if groups and v.start < max(g.end for g in groups[-1]):
            groups[-1].append(v)
        else:
            groups.append([v])
    return groups


def characters_split_into_bytes(views: list[TokenView]) -> int:
    """How many characters are spelt with byte tokens (covered by a group holding one)."""
    return sum(max(v.end for v in g) - g[0].start for g in group_by_character(views)
               if any(v.kind == "byte" for v in g))


def text_stats(tokenizer, text: str) -> dict:
    """Characters (Unicode code points), UTF-8 bytes, tokens and characters per token."""
    n_tokens = len(tokenizer.encode(text))
    return {"characters": len(text), "bytes": len(text.encode("utf-8")), "tokens": n_tokens,
            "chars_per_token": round(len(text) / n_tokens, 2) if n_tokens else 0.0}


def round_trips(tokenizer, text: str) -> bool:
    """Does decode(encode(text)) give back exactly the text?"""
    return tokenizer.decode(tokenizer.encode(text)) == text


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
            colour = {"special": "#343a40", "unknown": "#ced4da"}.get(v.kind, PALETTE[n % len(PALETTE)])
            fg = "#ffffff" if v.kind == "special" else "#212529"
            border = "3px solid #e03131" if v.id in highlight else "1px solid rgba(0,0,0,.15)"
            style = "dashed" if v.kind == "byte" else "normal"
            chips.append(
                f'<span title="{html.escape(title)}" style="display:inline-flex;flex-direction:column;'
                f'align-items:center;margin:2px;padding:2px 6px;border-radius:6px;background:{colour};'
                f'color:{fg};border:{border};font-style:{style};unicode-bidi:isolate">'
                f'<span style="font-family:monospace;white-space:pre">{html.escape(v.label)}</span>'
                f'<span style="font-size:10px;opacity:.7">{v.id}</span></span>')
            n += 1
        if len(group) > 1:
            covered = text[group[0].start:max(v.end for v in group)]
            note = t("tokenization.chip_group", lang, chars=visible(covered), n=len(group))
            parts.append(
                f'<span title="{html.escape(note)}" style="display:inline-flex;flex-direction:column;'
                f'align-items:center;margin:2px;padding:2px;border:2px dashed #868e96;'
                f'border-radius:8px"><span>{"".join(chips)}</span>'
                f'<span style="font-size:12px;unicode-bidi:isolate">{html.escape(visible(covered))}'
                f'</span></span>')
        else:
            parts.append(chips[0])
    return (f'<div dir="ltr" style="line-height:1.2;display:flex;flex-wrap:wrap;'
            f'align-items:flex-start">{"".join(parts)}</div>')


def merge_table(bpe: BPETokenizer, counts: list[int]) -> list[dict]:
    """One row per learned merge, in order: step, left + right -> new token, its id, count."""
    rows = []
    for step, ((left, right), count) in enumerate(zip(bpe.merges(), counts), start=1):
        new_id = bpe.tokenizer.token_to_id(left + right)
        ids = [bpe.tokenizer.token_to_id(left), bpe.tokenizer.token_to_id(right)]
        left_label, right_label = (bytes_label(bpe.token_bytes(i)) for i in ids)
        rows.append({"step": step, "pair": f"{left_label} + {right_label}",
                     "new_token": bytes_label(bpe.token_bytes(new_id)), "id": new_id,
                     "count": count})
    return rows


def compression_curve(bpe: BPETokenizer, val_text: str, points: int = 10) -> list[dict]:
    """Tokens per character and per byte on val_text as the vocabulary grows: the trained
    tokenizer cut back to its first k merges, for `points` values of k from 0 to all."""
    n_merges = len(bpe.merges())
    steps = sorted({round(n_merges * i / (points - 1)) for i in range(points)}) if points > 1 else [n_merges]
    n_chars, n_bytes = max(1, len(val_text)), max(1, len(val_text.encode("utf-8")))
    curve = []
    for k in steps:
        n_tokens = len(bpe_with_first_merges(bpe, k).encode(val_text))
        curve.append({"merges": k, "vocab_size": bpe.vocab_size - n_merges + k,
                      "tokens": n_tokens, "tokens_per_char": n_tokens / n_chars,
                      "tokens_per_byte": n_tokens / n_bytes})
    return curve


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
