"""Tokenisation: your text as token chips, three tokenizers side by side, BPE learned live with
a merge replay, the compression chart, special tokens and the round trip."""
import pandas as pd
import streamlit as st

from app.panels.tokenization_chinese import chinese_section
from app.panels.tokenization_text import chips, compare_section, your_text_section
from app.panels.errata import show_errata
from app.state import runs
from app.ui import already_shared, explain, lang, prose, shared, show_code, tr
from app.panels.quiz import quiz_section
from lessons.concepts.tokenization import compute as lesson
from lessons.concepts.tokenization import figures as lesson_figures
from lessons.concepts.tokenization.bpe_replay import replay_merges
from lessons.engine.corpus import CorpusError, builtin_text, decode_user_bytes, embedded_corpus
from lessons.engine.tokenizers import END_OF_TEXT
from lessons.hosting.limits import upload_widget_mb

VOCAB_SIZES = [260, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 4000]
CHART_NAMES = {"char": "tokenization.chart_char", "word": "tokenization.chart_word"}


def chosen_corpus() -> str:
    """The built-in text, or the learner's upload once it decodes."""
    builtin = embedded_corpus()
    # labels computed now: format_func must not look up the language later (AppTest calls it)
    labels = {"embedded": tr("tokenization.source_embedded", kb=len(builtin.encode()) // 1000),
              "poems_zh": tr("tokenization.source_poems_zh", kb=len(builtin_text("poems_zh").encode()) // 1000),
              "upload": tr("tokenization.source_upload")}
    choice = st.radio(tr("tokenization.source_label"), list(labels), key="tok_source",
                      horizontal=True, format_func=labels.get)
    if choice == "poems_zh":
        return builtin_text("poems_zh")
    if choice != "upload":
        return builtin
    cap = runs.limits().max_upload_bytes
    upload = st.file_uploader(tr("tokenization.upload_label", mb=round(cap / 1e6)),
                              type=["txt", "md", "csv", "py"],
                              key="tok_upload", max_upload_size=upload_widget_mb(cap))
    if upload is None:
        st.info(tr("tokenization.upload_missing"))
        return builtin
    try:
        return decode_user_bytes(upload.getvalue(), cap)
    except CorpusError as exc:
        st.warning(tr("tokenization.upload_error", error=explain(exc)))
        return builtin


def trained_label(simple, learned) -> str:
    return tr("tokenization.trained", chars=f"{simple.train_chars:,}",
              merges=len(learned.merge_rows), vocab=learned.bpe.vocab_size)


st.title(tr("tokenization.title"))
prose("tokenization.intro")
prose("tokenization.why_subwords")
prose("tokenization.how_bpe")
# sections 1 and 2 need the tokenizers trained in section 3: draw them into these boxes later
your_text_box, compare_box = st.container(), st.container()

# ---- 3 · train ----------------------------------------------------------------------------
st.header(tr("tokenization.section_train"))
prose("tokenization.train_intro")
corpus = chosen_corpus()
vocab_size = st.select_slider(tr("tokenization.vocab_label"), VOCAB_SIZES, value=1000,
                              key="tok_vocab", help=tr("tokenization.vocab_help"))
if already_shared(lesson.simple_tokenizers, corpus) \
        and already_shared(lesson.bpe_lesson, corpus, vocab_size):
    # a rerun, or the server trained these for someone before: nothing to wait for, so the
    # finished box without st.status, which waits 50 ms each time it is drawn (half the
    # server's time of this page's rerun). Same look: collapsed, a check, a full bar.
    simple = shared(lesson.simple_tokenizers, corpus)
    learned = shared(lesson.bpe_lesson, corpus, vocab_size)
    with st.expander(trained_label(simple, learned), expanded=False, icon=":material/check:"):
        st.progress(1.0)
else:
    with st.status(tr("tokenization.training_status"), expanded=False) as status:
        bar = st.progress(0.0)
        bar.progress(0.05, tr("tokenization.step_char"))
        simple = shared(lesson.simple_tokenizers, corpus)        # the corpus is keyed by a digest
        bar.progress(0.25, tr("tokenization.step_bpe") + " " + tr("tokenization.step_counts")
                     + " " + tr("tokenization.step_curve"))
        learned = shared(lesson.bpe_lesson, corpus, vocab_size)
        bar.progress(1.0)
        status.update(label=trained_label(simple, learned), state="complete")
bpe, n_merges = learned.bpe, len(learned.merge_rows)
char_tok, word_tok = simple.char, simple.word

# ---- 1 · your text, 2 · three tokenizers ---------------------------------------------------
with your_text_box:
    text, views = your_text_section(bpe)
trio = [("tokenization.name_char", char_tok), ("tokenization.name_word", word_tok),
        ("tokenization.name_bpe", bpe)]
with compare_box:
    compare_section(trio, text)

# ---- 3 (continued) · replay the merges ----------------------------------------------------
st.subheader(tr("tokenization.section_replay"))
prose("tokenization.replay_intro")
st.session_state.setdefault("tok_replay_text", tr("tokenization.replay_default"))
sample = st.text_input(tr("tokenization.replay_text_label"), key="tok_replay_text", max_chars=300)
# subtle: a smaller vocabulary has fewer merges; keep the slider's value inside its range
st.session_state["tok_merge"] = min(st.session_state.get("tok_merge", min(20, n_merges)), n_merges)
k = st.slider(tr("tokenization.merge_slider"), 0, max(n_merges, 1), key="tok_merge",
              disabled=n_merges == 0)
table = learned.merge_rows
if sample:
    replayed = lesson.replay_step(learned, sample, k)
    st.html(lesson_figures.chips_html(replayed.views, sample, lang(), replayed.newest))
    st.caption(tr("tokenization.replay_step", k=k, total=n_merges, tokens=len(replayed.views)))
    st.caption(tr("tokenization.replay_matches", check="✓" if replayed.matches_tokenizer else "✗"))
if k:
    row = table[k - 1]
    st.markdown(tr("tokenization.replay_latest", k=k, pair=row["pair"], token=row["new_token"],
                   id=row["id"], count=f"{row['count']:,}"))
else:
    prose("tokenization.replay_none")
st.caption(tr("tokenization.table_caption"))
st.dataframe(pd.DataFrame(table).rename(columns={
    "step": tr("tokenization.col_step"), "pair": tr("tokenization.col_pair"),
    "new_token": tr("tokenization.col_new"), "id": tr("tokenization.col_id"),
    "count": tr("tokenization.col_count")}), hide_index=True, height=260)
show_code(replay_merges, label="tokenization.show_code")

# ---- 4 · chart ----------------------------------------------------------------------------
st.header(tr("tokenization.section_chart"))
prose("tokenization.chart_intro")
others = {tr(CHART_NAMES[name]): point for name, point in simple.points.items()}
st.plotly_chart(shared(lesson_figures.compression_figure, learned.curve, lang(), others))

# ---- 5 · special tokens, round trip, unknown input ----------------------------------------
st.header(tr("tokenization.section_special"))
end_id = bpe.special_token_id(END_OF_TEXT)
prose("tokenization.special_intro", id=end_id)
demo = f"The end.{END_OF_TEXT}新的开始"
chips(bpe, demo)
prose("tokenization.roundtrip_intro")
if text:
    for name, tok in trio:
        verdict = "tokenization.roundtrip_ok" if lesson.round_trips(tok, text) \
            else "tokenization.roundtrip_fail"
        st.markdown(f"{tr(name)}: {tr(verdict)}")
show_errata("tokenization")      # 001's stop words: the round trip above keeps them
st.markdown(tr("tokenization.fallback_intro", n=lesson.characters_split_into_bytes(views)))

# ---- 6 · Chinese: three cuts, tokens per character, the merges that rebuild characters ----
chinese_section()
quiz_section("tokenization")
