"""Tokenisation: your text as token chips, three tokenizers side by side, BPE learned live with
a merge replay, the compression chart, special tokens and the round trip."""
import hashlib
import inspect

import pandas as pd
import streamlit as st

from app import state
from lessons.concepts.tokenization import compute as lesson
from lessons.concepts.tokenization import figures as lesson_figures
from lessons.engine.corpus import CorpusError, decode_user_bytes, embedded_corpus, split_text
from lessons.hosting.limits import upload_widget_mb
from lessons.concepts.tokenization.bpe_replay import merge_counts, replay_merges
from lessons.engine.tokenizers import END_OF_TEXT, BPETokenizer, CharTokenizer, WordTokenizer


def tr(key: str, **values) -> str:
    return state.tr(f"tokenization.{key}", **values)


# ---- cached work, keyed by where the text came from (a name or an upload's hash) ----------
# Room for every vocabulary size of the slider on the embedded text, with uploads besides:
# one size dropped and made again costs a second of CPU that every visitor waits through.
VOCAB_ENTRIES = 16


@st.cache_resource(show_spinner=False, max_entries=4)
def train_simple(source: str, _text: str) -> tuple[CharTokenizer, WordTokenizer]:
    train_text, _ = split_text(_text)
    return CharTokenizer.train(train_text), WordTokenizer.train(train_text)


@st.cache_resource(show_spinner=False, max_entries=VOCAB_ENTRIES)
def train_bpe(source: str, vocab_size: int, _text: str) -> BPETokenizer:
    return BPETokenizer.train(split_text(_text)[0], vocab_size)


@st.cache_resource(show_spinner=False, max_entries=VOCAB_ENTRIES)   # read-only, not unpickled
def counts_and_curve(source: str, vocab_size: int, _text: str) -> tuple[list[int], list[dict]]:
    train_text, val_text = split_text(_text)
    bpe = train_bpe(source, vocab_size, _text)
    return merge_counts(bpe, train_text), lesson.compression_curve(bpe, val_text)


@st.cache_resource(show_spinner=False, max_entries=VOCAB_ENTRIES)
def merge_rows(source: str, vocab_size: int, _text: str) -> list[dict]:
    """The merge table (read-only: every session shares it)."""
    bpe = train_bpe(source, vocab_size, _text)
    return lesson.merge_table(bpe, counts_and_curve(source, vocab_size, _text)[0])


@st.cache_data(show_spinner=False, max_entries=4)
def simple_points(source: str, _text: str) -> dict[str, tuple[int, float]]:
    """Vocabulary size and tokens per character of the char and word tokenizers on the
    held-out text: the chart's two single points (encoding it costs a tenth of a second)."""
    char_tok, word_tok = train_simple(source, _text)
    val_text = split_text(_text)[1]
    return {name: (tok.vocab_size, len(tok.encode(val_text)) / max(1, len(val_text)))
            for name, tok in (("chart_char", char_tok), ("chart_word", word_tok))}


def chips(tokenizer, text: str, highlight=None) -> list:
    views = lesson.token_views(tokenizer, text)
    st.html(lesson_figures.chips_html(views, text, state.lang(), highlight))
    if len(views) > lesson.CHIP_LIMIT:
        st.caption(tr("chips_capped", shown=lesson.CHIP_LIMIT, total=len(views)))
    return views


st.title(tr("title"))
state.prose("tokenization", "intro")
state.prose("tokenization", "why_subwords")
state.prose("tokenization", "how_bpe")
# sections 1 and 2 need the tokenizers trained in section 3: draw them into these boxes later
your_text_box, compare_box = st.container(), st.container()

# ---- 3 · train ----------------------------------------------------------------------------
st.header(tr("section_train"))
st.markdown(tr("train_intro"))
builtin = embedded_corpus()
# labels computed now: format_func must not look up the language later (AppTest calls it)
source_labels = {"embedded": tr("source_embedded", kb=len(builtin.encode()) // 1000),
                 "upload": tr("source_upload")}
source_choice = st.radio(tr("source_label"), list(source_labels), key="tok_source",
                         horizontal=True, format_func=source_labels.get)
source, corpus = "embedded", builtin
if source_choice == "upload":
    upload = st.file_uploader(tr("upload_label"), type=["txt", "md", "csv", "py"], key="tok_upload",
                              max_upload_size=upload_widget_mb(state.limits().max_upload_bytes))
    if upload is None:
        st.info(tr("upload_missing"))
    else:
        data = upload.getvalue()
        try:
            corpus = decode_user_bytes(data, state.limits().max_upload_bytes)
            source = "upload-" + hashlib.sha256(data).hexdigest()
        except CorpusError as exc:
            st.warning(tr("upload_error", error=state.explain(exc)))
vocab_size = st.select_slider(tr("vocab_label"), [260, 300, 400, 500, 750, 1000, 1500, 2000,
                                                    3000, 4000], value=1000, key="tok_vocab",
                              help=tr("vocab_help"))

with st.status(tr("training_status"), expanded=False) as status:
    bar = st.progress(0.0)
    bar.progress(0.05, tr("step_char"))
    char_tok, word_tok = train_simple(source, corpus)
    bar.progress(0.25, tr("step_bpe"))
    bpe = train_bpe(source, vocab_size, corpus)
    bar.progress(0.5, tr("step_counts") + " " + tr("step_curve"))
    curve = counts_and_curve(source, vocab_size, corpus)[1]
    bar.progress(1.0)
    n_merges = len(bpe.merges())
    status.update(label=tr("trained", chars=f"{len(split_text(corpus)[0]):,}", merges=n_merges,
                           vocab=bpe.vocab_size), state="complete")

# ---- 1 · your text ------------------------------------------------------------------------
with your_text_box:
    st.header(tr("section_text"))
    st.session_state.setdefault("tok_text", lesson.DEFAULT_TEXT)
    typed = st.text_area(tr("text_label"), key="tok_text", height=110, help=tr("text_help"),
                         max_chars=state.text_cap())
    active = state.active_checkpoint().tokenizer
    tokenizer_labels = {"bpe": tr("tokenizer_bpe"),
                        "active": tr("tokenizer_active", kind=active.kind, vocab=active.vocab_size)}
    which = st.radio(tr("tokenizer_choice"), list(tokenizer_labels), key="tok_which",
                     horizontal=True, format_func=tokenizer_labels.get)
    shown_tokenizer = bpe if which == "bpe" else active
    text, was_cut = lesson.cap_text(typed)
    if was_cut:
        st.warning(tr("capped", n=f"{len(typed):,}", limit=f"{lesson.DISPLAY_CHAR_LIMIT:,}"))
    views = []
    if not text:
        st.info(tr("empty_text"))
    else:
        try:
            views = chips(shown_tokenizer, text)
            stats = lesson.text_stats(shown_tokenizer, text)
            cols = st.columns(4)
            for col, key, name in zip(cols, ["characters", "bytes", "tokens", "chars_per_token"],
                                      ["stat_chars", "stat_bytes", "stat_tokens", "stat_ratio"]):
                col.metric(tr(name), f"{stats[key]:,}")
            n_split = lesson.characters_split_into_bytes(views)
            if n_split:
                st.markdown(tr("bytes_split_note", n=n_split))
        except Exception as exc:   # e.g. text a tokenizer cannot take; never a traceback
            st.error(tr("bad_text", error=exc))
            text = ""

# ---- 2 · three tokenizers -----------------------------------------------------------------
trio = [("name_char", char_tok), ("name_word", word_tok), ("name_bpe", bpe)]
with compare_box:
    st.header(tr("section_compare"))
    st.markdown(tr("compare_intro"))
    for name, tok in trio:
        if text:
            ok = lesson.round_trips(tok, text)
            st.markdown(tr("compare_row", name=tr(name), vocab=f"{tok.vocab_size:,}",
                           tokens=f"{len(tok.encode(text)):,}", check="✓" if ok else "✗"))
            chips(tok, text)
    st.session_state.setdefault("tok_unseen", tr("unseen_default"))
    unseen = st.text_input(tr("unseen_label"), key="tok_unseen", max_chars=200)
    if unseen:
        for name, tok in trio:
            st.markdown(f"**{tr(name)}**")
            chips(tok, unseen)
    st.markdown(tr("unseen_explain"))

# ---- 3 (continued) · replay the merges ----------------------------------------------------
st.subheader(tr("section_replay"))
st.markdown(tr("replay_intro"))
st.session_state.setdefault("tok_replay_text", tr("replay_default"))
sample = st.text_input(tr("replay_text_label"), key="tok_replay_text", max_chars=300)
# subtle: a smaller vocabulary has fewer merges; keep the slider's value inside its range
st.session_state["tok_merge"] = min(st.session_state.get("tok_merge", min(20, n_merges)), n_merges)
k = st.slider(tr("merge_slider"), 0, max(n_merges, 1), key="tok_merge", disabled=n_merges == 0)
table = merge_rows(source, vocab_size, corpus)
if sample:
    replayed = replay_merges(bpe, sample, k)
    newest = {table[k - 1]["id"]} if k else set()
    st.html(lesson_figures.chips_html(lesson.token_views(bpe, sample, replayed), sample, state.lang(), newest))
    st.caption(tr("replay_step", k=k, total=n_merges, tokens=len(replayed)))
    final = replay_merges(bpe, sample, n_merges) == bpe.token_spans(sample)
    st.caption(tr("replay_matches", check="✓" if final else "✗"))
if k:
    row = table[k - 1]
    st.markdown(tr("replay_latest", k=k, pair=row["pair"], token=row["new_token"], id=row["id"],
                   count=f"{row['count']:,}"))
else:
    st.markdown(tr("replay_none"))
st.caption(tr("table_caption"))
st.dataframe(pd.DataFrame(table).rename(columns={
    "step": tr("col_step"), "pair": tr("col_pair"), "new_token": tr("col_new"),
    "id": tr("col_id"), "count": tr("col_count")}), hide_index=True, height=260)
with st.expander(tr("show_code")):
    st.code(inspect.getsource(replay_merges), language="python")

# ---- 4 · chart ----------------------------------------------------------------------------
st.header(tr("section_chart"))
st.markdown(tr("chart_intro"))
others = {tr(name): point for name, point in simple_points(source, corpus).items()}
st.plotly_chart(state.shared(lesson_figures.compression_figure, curve, state.lang(), others))

# ---- 5 · special tokens, round trip, unknown input ----------------------------------------
st.header(tr("section_special"))
end_id = bpe.special_token_id(END_OF_TEXT)
st.markdown(tr("special_intro", id=end_id))
demo = f"The end.{END_OF_TEXT}新的开始"
chips(bpe, demo)
st.markdown(tr("roundtrip_intro"))
if text:
    for name, tok in trio:
        st.markdown(f"{tr(name)}: " + tr("roundtrip_ok" if lesson.round_trips(tok, text)
                                         else "roundtrip_fail"))
st.markdown(tr("fallback_intro", n=lesson.characters_split_into_bytes(views)))
