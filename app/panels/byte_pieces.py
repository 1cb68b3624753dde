"""The note a page shows under a picture of a token sequence in which some characters took
several byte tokens (lessons.display labels them 猫·1/3, 猫·2/3, 猫·3/3)."""
from __future__ import annotations

import streamlit as st

from app.ui import tr
from lessons.display import characters_in_pieces


def byte_pieces_note(tokenizer, ids: list[int]) -> None:
    characters, tokens = characters_in_pieces(tokenizer, ids)
    if characters:
        st.caption(tr("app.byte_pieces", characters=characters, tokens=tokens))
