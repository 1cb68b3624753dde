"""The decoding page's guessing game (Shannon's): the learner guesses the next token of a
passage until right (or asks to see it), then sees the model's probabilities; both players
are scored by the same rule, in bits per character."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.ui import free_text, lang, model_default, prose, shared, show_code, tr
from lessons.concepts.decoding import compute as dc
from lessons.concepts.decoding import figures as dcf

GAME_KEY, GUESS_KEY = "decoding_game", "decoding_guess"


def _game(key: tuple) -> dict:
    """This session's game for this passage; a new passage starts a new game."""
    game = st.session_state.get(GAME_KEY)
    if not game or game["key"] != key:
        game = st.session_state[GAME_KEY] = {"key": key, "counts": [], "tries": 0, "last": None}
    return game


def _guess(tokenizer, targets: list[int], give_up: bool) -> None:
    """Button callback: judge the typed guess (its first token), or reveal the token."""
    game = st.session_state[GAME_KEY]
    position = len(game["counts"])
    guess = tokenizer.encode(st.session_state.get(GUESS_KEY, ""))[:1]
    st.session_state[GUESS_KEY] = ""
    if position >= len(targets) or (not guess and not give_up):
        return
    game["tries"] += 2 if give_up else 1      # giving up: as if two more guesses were needed
    if give_up or guess[0] == targets[position]:
        game["counts"].append(game["tries"])
        game["tries"], game["last"] = 0, "revealed" if give_up else "right"
    else:
        game["last"] = "wrong"


def game_section(checkpoint) -> None:
    tokenizer = checkpoint.tokenizer
    st.header(tr("decoding.game_heading"))
    prose("decoding.game_text")
    default = model_default("decoding.passage_default", "decoding.passage_default_poems")
    passage = free_text(st.text_input, tr("decoding.passage_label"), default,
                        key="decoding_passage")
    ids = tokenizer.encode(passage)
    start = min(len(tokenizer.encode(passage[:24])), max(len(ids) - 1, 0))
    targets = ids[start:start + 20]                   # at most 20 tokens a game
    if not targets:
        st.info(tr("decoding.passage_too_short"))
        return
    game = _game((checkpoint.uid, passage))
    played = len(game["counts"])
    st.code(tokenizer.decode(ids[:start + played]) + "▌", language=None)
    if game["last"] == "wrong":
        st.warning(tr("decoding.guess_wrong", tries=game["tries"]))
    elif game["last"] == "right":
        st.success(tr("decoding.guess_right", tries=game["counts"][-1]))
    if played < len(targets):
        if not free_text(st.text_input, tr("decoding.guess_label"), key=GUESS_KEY):
            st.info(tr("decoding.guess_hint"))
        c1, c2, c3 = st.columns(3)
        c1.button(tr("decoding.guess_button"), key="decoding_guess_button", on_click=_guess,
                  args=(tokenizer, targets, False))
        c2.button(tr("decoding.reveal_button"), key="decoding_reveal", on_click=_guess,
                  args=(tokenizer, targets, True))
    else:
        st.success(tr("decoding.game_over"))
    if st.button(tr("decoding.restart_button"), key="decoding_restart"):
        st.session_state.pop(GAME_KEY, None)
        st.rerun()
    if not played:
        return
    model_rows = shared(dc.game_view, checkpoint, ids[:start + len(targets)], start)
    probs = shared(dc.decode_probs, checkpoint, ids[:start + played - 1])
    step = dc.Step([], probs, probs, model_rows[played - 1]["token"])
    prose("decoding.game_model_text", rank=model_rows[played - 1]["rank"],
          p=f"{model_rows[played - 1]['p']:.3f}")
    st.plotly_chart(dcf.step_figure(tokenizer, step, lang=lang()), key="decoding_game_chart")
    score_table(game["counts"], model_rows[:played])
    show_code(dc.guess_rank, dc.guess_count_bits, label="decoding.show_game_code")


def score_table(counts: list[int], model_rows: list[dict]) -> None:
    chars = [row["chars"] for row in model_rows]
    model_counts = [row["rank"] for row in model_rows]
    per_char = sum(chars) and len(counts) / sum(chars)
    st.dataframe(pd.DataFrame([
        {tr("decoding.col_player"): tr("decoding.player_you"),
         tr("decoding.col_first_time"): sum(c == 1 for c in counts),
         tr("decoding.col_mean_guesses"): round(sum(counts) / len(counts), 2),
         tr("decoding.col_bits_guesses"): round(dc.guess_count_bits(counts) * per_char, 3),
         tr("decoding.col_bits_model"): None},
        {tr("decoding.col_player"): tr("decoding.player_model"),
         tr("decoding.col_first_time"): sum(c == 1 for c in model_counts),
         tr("decoding.col_mean_guesses"): round(sum(model_counts) / len(model_counts), 2),
         tr("decoding.col_bits_guesses"): round(dc.guess_count_bits(model_counts) * per_char, 3),
         tr("decoding.col_bits_model"): round(dc.bits_per_character([r["bits"] for r in model_rows],
                                                                    chars), 3)}]),
        hide_index=True, key="decoding_game_table")
    prose("decoding.game_score_text", n=len(counts))
