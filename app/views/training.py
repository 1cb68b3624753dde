"""Training: set up a run, start it, watch it live, compare runs, keep and share models."""
from __future__ import annotations

import math
from dataclasses import replace

import streamlit as st

from app.state import runs, session
from app.ui import explain, lang, prose, shared, tr
from lessons.concepts.softmax.compute import perplexity
from lessons.concepts.training.compute import metrics_csv, run_estimate, vocabulary_size
from lessons.concepts.training.figures import compare_runs, run_dashboard
from lessons.engine.checkpoint import CheckpointError, load_checkpoint
from lessons.engine.config import PRESETS, ConfigError, ModelConfig, TrainConfig
from lessons.engine.corpus import CorpusError, check_training_text, decode_user_bytes, embedded_corpus
from lessons.engine.training import RunStatus, measure_flops_per_second
from lessons.hosting.limits import upload_widget_mb

# option -> the full prose key of its label
PAGE_PRESETS = {"quick-demo": "training.preset_quick_demo", "tiny": "training.preset_tiny",
                "baby": "training.preset_baby", "speedrun-cpu": "training.preset_speedrun_cpu",
                "classroom": "training.preset_classroom",
                "shakespeare-char": "training.preset_shakespeare_char"}
CORPORA = {"embedded": "training.corpus_embedded", "upload": "training.corpus_upload"}
TOKENIZERS = {"char": "training.tokenizer_char", "bpe": "training.tokenizer_bpe"}
COMPARE_METRICS = {"val_loss": "training.val_loss", "train_loss": "training.train_loss"}
LEARNING_RATES = [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 4e-3, 1e-2, 3e-2, 1e-1, 1.0, 10.0]
# widget key -> (which config, field)
FIELDS = {"tr_layers": ("model", "n_layer"), "tr_heads": ("model", "n_head"),
          "tr_width": ("model", "n_embd"), "tr_block": ("model", "block_size"),
          "tr_dropout": ("model", "dropout"), "tr_batch": ("train", "batch_size"),
          "tr_lr": ("train", "learning_rate"), "tr_warmup": ("train", "warmup_iters"),
          "tr_steps": ("train", "max_iters")}


def apply_preset() -> None:
    """Copy the chosen preset into the widgets (called when the preset box changes)."""
    model, train = PRESETS[st.session_state.tr_preset]
    configs = {"model": model, "train": train}
    for key, (which, name) in FIELDS.items():
        st.session_state[key] = getattr(configs[which], name)
    st.session_state.tr_lr = min(LEARNING_RATES, key=lambda v: abs(math.log(v / train.learning_rate)))
    st.session_state.tr_tokenizer = train.tokenizer


def chosen_configs() -> tuple[ModelConfig, TrainConfig]:
    model, train = PRESETS[st.session_state.tr_preset]
    values = {which: {n: st.session_state[k] for k, (w, n) in FIELDS.items() if w == which}
              for which in ("model", "train")}
    model = replace(model, **values["model"])
    # keep the preset's schedule shape when the learner changes the length of the run
    steps = values["train"]["max_iters"]
    train = replace(train, **values["train"], tokenizer=st.session_state.tr_tokenizer,
                    bpe_vocab_size=st.session_state.tr_bpe_vocab,
                    min_lr=values["train"]["learning_rate"] / 10,
                    eval_interval=max(1, min(train.eval_interval, steps // 4 or 1)))
    return model, train


def training_text() -> tuple[str, str] | None:
    """(name, text) of the chosen corpus, or None after showing what is wrong."""
    if st.session_state.tr_corpus == "embedded":
        return tr("training.corpus_embedded"), check_training_text(embedded_corpus())
    upload = st.session_state.get("tr_upload")
    if upload is None:
        st.info(tr("training.upload_first"))
        return None
    try:
        return upload.name, decode_user_bytes(upload.getvalue(), runs.limits().max_upload_bytes)
    except CorpusError as exc:
        st.error(tr("training.bad_corpus", reason=explain(exc)))
        return None


SETTING_KEYS = ["tr_preset", "tr_corpus", "tr_tokenizer", "tr_bpe_vocab", *FIELDS]


def remember_settings() -> None:
    """Streamlit forgets a widget's value when its page is left; keep a copy under another
    key so the learner's settings are still there when they come back."""
    for key in SETTING_KEYS:
        if key in st.session_state:
            st.session_state["saved_" + key] = st.session_state[key]


def restore_settings() -> None:
    for key in SETTING_KEYS:
        if key not in st.session_state and "saved_" + key in st.session_state:
            st.session_state[key] = st.session_state["saved_" + key]


def _labels(keys: dict) -> dict:
    """Option -> translated label, made now: a format_func must not look up the language
    later (AppTest calls it outside the script run)."""
    return {option: tr(key) for option, key in keys.items()}


def setup_form() -> None:
    restore_settings()
    st.session_state.setdefault("tr_preset", "quick-demo")
    if "tr_layers" not in st.session_state:
        apply_preset()
    st.selectbox(tr("training.preset"), list(PAGE_PRESETS), key="tr_preset", on_change=apply_preset,
                 format_func=_labels(PAGE_PRESETS).get)
    left, right = st.columns(2)
    with left:
        st.radio(tr("training.corpus"), list(CORPORA), key="tr_corpus", horizontal=True,
                 format_func=_labels(CORPORA).get)
        if st.session_state.tr_corpus == "upload":
            cap = runs.limits().max_upload_bytes
            st.file_uploader(tr("training.upload_text", mb=cap / 1e6), type=["txt"],
                             key="tr_upload", max_upload_size=upload_widget_mb(cap))
        st.radio(tr("training.tokenizer"), list(TOKENIZERS), key="tr_tokenizer", horizontal=True,
                 format_func=_labels(TOKENIZERS).get)
        st.session_state.setdefault("tr_bpe_vocab", 512)
        st.slider(tr("training.bpe_vocab"), 260, 4096, step=4, key="tr_bpe_vocab",
                  disabled=st.session_state.tr_tokenizer != "bpe")
        st.slider(tr("training.layers"), 1, 8, key="tr_layers")
        st.slider(tr("training.heads"), 1, 8, key="tr_heads")
        st.select_slider(tr("training.width"), [16, 32, 48, 64, 96, 128, 192, 256, 384], key="tr_width")
    with right:
        st.select_slider(tr("training.block"), [8, 16, 32, 64, 128, 256], key="tr_block")
        st.select_slider(tr("training.batch"), [1, 2, 4, 8, 12, 16, 32, 64], key="tr_batch")
        st.select_slider(tr("training.lr"), LEARNING_RATES, key="tr_lr", help=tr("training.lr_help"))
        st.number_input(tr("training.warmup"), 0, 5000, step=10, key="tr_warmup")
        st.number_input(tr("training.steps"), 10, runs.limits().max_steps, step=50, key="tr_steps")
        st.slider(tr("training.dropout"), 0.0, 0.5, step=0.05, key="tr_dropout")
    remember_settings()


def estimate(model: ModelConfig, train: TrainConfig, text: str) -> bool:
    """Show size and time estimates; False if the model is over this server's size cap."""
    # both shared: the vocabulary reads the whole corpus (keyed by its digest), and the
    # machine's speed is measured by timing a few training steps
    vocab = shared(vocabulary_size, train.tokenizer, text, train.bpe_vocab_size)
    guess = run_estimate(model, train, vocab, shared(measure_flops_per_second, session.device()))
    a, b, c = st.columns(3)
    a.metric(tr("training.parameters"), f"{guess.parameters:,}")
    b.metric(tr("training.time_per_step"), f"{guess.seconds_per_step * 1000:.0f} ms")
    c.metric(tr("training.time_total"), _duration(guess.seconds_total))
    cap = runs.limits().max_parameters
    if guess.parameters > cap:
        st.error(tr("training.too_big", params=f"{guess.parameters:,}", cap=f"{cap:,}"))
    return guess.parameters <= cap


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def start_run() -> None:
    try:
        model, train = chosen_configs()
    except ConfigError as exc:
        st.error(tr("training.bad_settings", reason=explain(exc)))
        return
    corpus = training_text()
    fits = corpus is not None and estimate(model, train, corpus[1])
    if st.button(tr("training.start"), type="primary", disabled=corpus is None or not fits,
                 key="tr_start"):
        name, text = corpus
        book = runs.run_book()
        run = book.start(model, train, text, name, device=session.device(),
                         name=tr("training.run_name", n=len(book.runs) + 1, lr=train.learning_rate))
        st.session_state.tr_current = run.id


def dashboard(run, language: str):
    """The run's four charts, drawn again only when it has logged something new: this view
    refreshes every second, also long after a run has finished.

    A per-session memo, not a cache, so not shared(): it holds one picture, the last one drawn
    of this session's own run, which no other session can ask for; and a run logs hundreds of
    rows, whose pictures in the shared store would push out the ones every visitor needs."""
    key = (run.id, len(run.metrics), language)
    drawn = st.session_state.get("tr_dashboard")
    if drawn is None or drawn[0] != key:
        drawn = (key, run_dashboard(run.metrics, language))
        st.session_state.tr_dashboard = drawn
    return drawn[1]


@st.fragment(run_every=1.0)
def live_view() -> None:
    if "tr_notice" in st.session_state:
        st.toast(st.session_state.pop("tr_notice"))
    book = runs.run_book()
    if not book.runs:
        st.caption(tr("training.no_runs"))
        return
    ids = list(book.runs)
    current = st.session_state.get("tr_current", ids[-1])
    current = current if current in book.runs else ids[-1]
    # subtle: option labels must not change while training (a status in the label would),
    # or Streamlit sees a new widget and forgets the choice
    run_id = st.selectbox(tr("training.current_run"), ids, index=ids.index(current),
                          format_func=lambda i: book.runs[i].name)
    st.session_state.tr_current = run_id
    run = book.runs[run_id]
    # subtle: read the status once; the training thread may change it mid-redraw, and a
    # caption saying "running" above a Resume button would be a lie
    status = run.status
    st.caption(tr("training.status_line", status=tr("training.status_" + status.value)))
    show_status(run, book, status)
    if run.metrics:
        st.plotly_chart(dashboard(run, lang()), key=f"dash_{run_id}")
    if run.samples:
        st.markdown(f"**{tr('training.samples')}**")
        for step, text in reversed(run.samples[-8:]):
            st.caption(tr("training.sample_at", step=step))
            st.code(text, language=None, wrap_lines=True)
    keep_and_share(run, book, status)


def show_status(run, book, status: RunStatus) -> None:
    if status is RunStatus.QUEUED:
        st.info(tr("training.queued", position=run.background.queue_position() or 1))
        return
    if status is RunStatus.PREPARING:
        st.info(tr("training.preparing"))
        return
    eta = run.eta_seconds()
    st.progress(run.progress(), text=tr("training.progress", step=run.step,
                                        total=run.train_config.max_iters, eta=_duration(eta)))
    a, b, c, d = st.columns(4)
    a.metric(tr("training.train_loss"), _fmt(run.latest("train_loss")))
    b.metric(tr("training.val_loss"), _fmt(run.latest("val_loss")))
    c.metric(tr("training.perplexity"), _fmt(perplexity(run.latest("val_loss")), 1))
    d.metric(tr("training.tokens_per_s"), _fmt(run.latest("tokens_per_s"), 0))
    left, right, _ = st.columns([1, 1, 4])
    if status is RunStatus.RUNNING and left.button(tr("training.stop"), key=f"stop_{run.id}"):
        book.stop(run.id)
    if status is RunStatus.STOPPED and left.button(tr("training.resume"), key=f"resume_{run.id}"):
        book.resume(run.id)
    if status is RunStatus.STOPPED and run.stopped_while_idle:
        st.info(tr("training.stopped_idle", minutes=round(runs.limits().idle_stop_s / 60)))
    if status is RunStatus.DIVERGED:
        st.error(tr("training.diverged", message=run.message_in(lang())))
        prose("training.diverged_why")
    elif status is RunStatus.ERROR:
        st.error(tr("training.failed", message=run.message))
    elif status is RunStatus.FINISHED:
        st.success(tr("training.finished", steps=run.step))


def _fmt(value, digits: int = 3) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:,.{digits}f}"


def keep_and_share(run, book, status: RunStatus) -> None:
    if status in (RunStatus.PREPARING, RunStatus.ERROR) or \
            (run.trainer is None and run.uploaded is None):
        return
    a, b, c = st.columns(3)
    if a.button(tr("training.use_model"), key=f"use_{run.id}"):
        session.use_model(run.name, book.checkpoint(run.id))
        st.session_state.tr_notice = tr("training.now_active", name=run.name)
        st.rerun()     # the whole app, so the sidebar shows the new model at once
    # The files are made only when clicked (a callable): this view redraws every second, and
    # a file made on every redraw costs a model copy each time and is replaced before the
    # browser can fetch it (a 404 in the console).
    if status is not RunStatus.RUNNING:   # a file of a still-changing model would be stale
        b.download_button(tr("training.download_checkpoint"), lambda: book.checkpoint_file(run.id),
                          file_name=f"llm-explorer-run{run.id}.safetensors",
                          mime="application/octet-stream", key=f"dl_ckpt_{run.id}")
    c.download_button(tr("training.download_metrics"), lambda: metrics_csv(run.metrics),
                      file_name=f"llm-explorer-run{run.id}-metrics.csv", mime="text/csv",
                      key=f"dl_csv_{run.id}")


def compare_section() -> None:
    book = runs.run_book()
    if len(book.runs) < 2:
        st.caption(tr("training.compare_hint"))
        return
    ids = list(book.runs)
    chosen = st.multiselect(tr("training.compare_runs"), ids, default=ids[-3:], key="tr_compare",
                            format_func=lambda i: book.runs[i].name)
    metric = st.radio(tr("training.compare_metric"), list(COMPARE_METRICS), horizontal=True,
                      key="tr_compare_metric", format_func=_labels(COMPARE_METRICS).get)
    chosen_runs = {book.runs[i].name: book.runs[i].metrics for i in chosen if i in book.runs}
    st.plotly_chart(compare_runs(chosen_runs, metric, lang()))
    st.dataframe([book.runs[i].settings() for i in chosen if i in book.runs], hide_index=True)


def upload_checkpoint() -> None:
    cap = runs.limits().max_checkpoint_bytes
    upload = st.file_uploader(tr("training.upload_checkpoint"), key="tr_ckpt_upload",
                              help=tr("training.upload_checkpoint_help"),
                              max_upload_size=upload_widget_mb(cap))
    if upload is None:
        return
    try:
        checkpoint = load_checkpoint(upload.getvalue(), max_bytes=cap)
    except CheckpointError as exc:
        st.error(tr("training.bad_checkpoint", reason=explain(exc)))
        return
    book = runs.run_book()
    if st.session_state.get("tr_uploaded_id") != upload.file_id:
        run = book.add_uploaded(checkpoint, upload.name)
        st.session_state.tr_uploaded_id = upload.file_id
        st.session_state.tr_current = run.id
    st.success(tr("training.checkpoint_loaded", name=upload.name,
                  params=f"{checkpoint.model.num_parameters():,}"))


st.title(tr("training.title"))
prose("training.intro")
with st.expander(tr("training.lesson_heading")):
    prose("training.lesson")

st.header(tr("training.setup_heading"))
setup_form()
start_run()
st.header(tr("training.live_heading"))
live_view()
st.header(tr("training.compare_heading"))
compare_section()
st.header(tr("training.share_heading"))
upload_checkpoint()
