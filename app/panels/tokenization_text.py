"""The tokenisation page's text parts: token chips, the learner's own text cut into tokens
with its counts, and the same text (and an unseen word) through the three tokenizers."""
from __future__ import annotations

import streamlit as st

from app.state import session
from app.ui import explain, free_text, lang, prose, tr
from lessons.concepts.tokenization import compute as lesson
from lessons.concepts.tokenization import figures as lesson_figures

STATS = {"characters": "tokenization.stat_chars", "bytes": "tokenization.stat_bytes",
         "tokens": "tokenization.stat_tokens", "chars_per_token": "tokenization.stat_ratio"}


def chips(tokenizer, text: str, highlight=None) -> list:
    """Show text as one chip per token (at most CHIP_LIMIT); returns every token's view."""
    views = lesson.token_views(tokenizer, text)
    st.html(lesson_figures.chips_html(views, text, lang(), highlight))
    if len(views) > lesson.CHIP_LIMIT:
        st.caption(tr("tokenization.chips_capped", shown=lesson.CHIP_LIMIT, total=len(views)))
    return views


def your_text_section(bpe) -> tuple[str, list]:
    """The learner's text through the BPE just trained or the active model's tokenizer.
    Returns (the text shown, cut to the display limit, or "" when there is none to show;
    its token views)."""
    st.header(tr("tokenization.section_text"))
    st.session_state.setdefault("tok_text", lesson.DEFAULT_TEXT)
    typed = free_text(st.text_area, tr("tokenization.text_label"), key="tok_text", height=110,
                      help=tr("tokenization.text_help"))
    active = session.active_checkpoint().tokenizer
    kind = tr(f"app.tokenizer_{active.kind}")      # "char" is not a word on the Chinese page
    tokenizer_labels = {"bpe": tr("tokenization.tokenizer_bpe"),
                        "active": tr("tokenization.tokenizer_active", kind=kind,
                                     vocab=active.vocab_size)}
    which = st.radio(tr("tokenization.tokenizer_choice"), list(tokenizer_labels), key="tok_which",
                     horizontal=True, format_func=tokenizer_labels.get)
    shown_tokenizer = bpe if which == "bpe" else active
    text, was_cut = lesson.cap_text(typed)
    if was_cut:
        st.warning(tr("tokenization.capped", n=f"{len(typed):,}",
                      limit=f"{lesson.DISPLAY_CHAR_LIMIT:,}"))
    if not text:
        st.info(tr("tokenization.empty_text"))
        return text, []
    views = []
    try:
        views = chips(shown_tokenizer, text)
        stats = lesson.text_stats(shown_tokenizer, text)
        for col, (key, name) in zip(st.columns(4), STATS.items()):
            col.metric(tr(name), f"{stats[key]:,}")
        n_split = lesson.characters_split_into_bytes(views)
        if n_split:
            st.markdown(tr("tokenization.bytes_split_note", n=n_split))
    except Exception as exc:   # e.g. text a tokenizer cannot take; never a traceback
        st.error(tr("tokenization.bad_text", error=explain(exc)))
        return "", views      # the chips drawn before the failure still count below
    return text, views


def compare_section(trio: list, text: str) -> None:
    """trio: [(full prose key of its name, tokenizer)] for char, word and BPE."""
    st.header(tr("tokenization.section_compare"))
    prose("tokenization.compare_intro")
    for name, tok in trio:
        if text:
            ok = lesson.round_trips(tok, text)
            st.markdown(tr("tokenization.compare_row", name=tr(name), vocab=f"{tok.vocab_size:,}",
                           tokens=f"{len(tok.encode(text)):,}", check="✓" if ok else "✗"))
            chips(tok, text)
    st.session_state.setdefault("tok_unseen", tr("tokenization.unseen_default"))
    unseen = st.text_input(tr("tokenization.unseen_label"), key="tok_unseen", max_chars=200)
    if unseen:
        for name, tok in trio:
            st.markdown(f"**{tr(name)}**")
            chips(tok, unseen)
    prose("tokenization.unseen_explain")
