"""What the source document gets wrong, from the one list in lessons/errata.py: an expander on
each lesson page that has errata (one call, ``show_errata(slug)``) and the whole list, grouped by
post, on the home page (``all_errata()``)."""
from __future__ import annotations

import streamlit as st

from app.ui import lang, tr
from lessons import errata, registry


def errata_markdown(found: list[errata.Erratum], with_page: bool = False) -> str:
    """The errata as one Markdown list; with_page adds the page that shows each."""
    lines = []
    for entry in found:
        line = entry.markdown(lang())
        lesson = registry.lesson(entry.slug)
        if with_page and not lesson.is_home:
            line += " " + tr("errata.shown_on", page=tr(lesson.title_key))
        lines.append(line)
    return "\n".join(lines)


def show_errata(slug: str, expanded: bool = False) -> None:
    """The page's errata in an expander; nothing on a page without any. It starts open where
    an erratum qualifies a worked number (right to rounding, but...): a caveat must be seen."""
    found = errata.for_slug(slug)
    if found:
        expanded = expanded or any(entry.worked_number for entry in found)
        with st.expander(tr("errata.expander"), expanded=expanded):
            st.markdown(errata_markdown(found))


def all_errata() -> None:
    """Every erratum, one expander a post, each naming the page that shows it."""
    st.subheader(tr("errata.home_heading"))
    st.markdown(tr("errata.home_intro"))
    for post, found in errata.by_post().items():
        with st.expander(f"{tr(f'errata.post_{post}')} ({len(found)})"):
            st.markdown(errata_markdown(found, with_page=True))
