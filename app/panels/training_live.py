"""The training page's live view: the chosen run's status, progress, metrics, charts and
samples, redrawn every second by itself, and the buttons to stop, resume, keep and download."""
from __future__ import annotations

import streamlit as st

from app.panels.training_start import HAD_RUNS
from app.state import runs, session
from app.ui import guarded, lang, prose, tr
from lessons.concepts.softmax.compute import perplexity
from lessons.concepts.training.compute import duration_text, metric_text, metrics_csv
from lessons.concepts.training.figures import run_dashboard
from lessons.engine.training import RunStatus


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
@guarded
def live_view() -> None:
    """Reruns on its own once a second (a fragment: the rest of the page stays as it is)."""
    if "tr_notice" in st.session_state:
        st.toast(st.session_state.pop("tr_notice"))
    book = runs.run_book()
    if not book.runs:
        if st.query_params.get(HAD_RUNS):     # runs were started here, and are gone
            st.warning(tr("training.runs_lost"))
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
    shown = "training.status_restored" if run.restored else "training.status_" + status.value
    st.caption(tr("training.status_line", status=tr(shown)))
    show_status(run, book, status)
    if run.metrics:
        st.plotly_chart(dashboard(run, lang()), key=f"dash_{run_id}")
    if run.samples:
        st.markdown(f"**{tr('training.samples')}**")
        for step, text in reversed(run.samples[-8:]):
            st.caption(tr("training.sample_at", step=step))
            st.code(text, language=None, wrap_lines=True)
    keep_and_share(run, book, status)


def progress_text(run, status: RunStatus) -> str:
    """'Step 40 of 500 · about 52 s left' while running (estimating until the run's own pace
    is known); just the steps once it is not running."""
    steps = dict(step=run.step, total=run.train_config.max_iters)
    if status is not RunStatus.RUNNING:
        return tr("training.progress_steps", **steps)
    eta = run.eta_seconds()
    if eta is None:
        return tr("training.progress_estimating", **steps)
    return tr("training.progress", **steps, eta=duration_text(eta, lang()))


def show_status(run, book, status: RunStatus) -> None:
    if status is RunStatus.QUEUED:
        st.info(tr("training.queued", position=run.background.queue_position() or 1))
        # leaving the queue must be as easy as joining it
        if st.button(tr("training.stop"), key=f"stop_{run.id}"):
            book.stop(run.id)
        return
    if status is RunStatus.PREPARING:
        st.info(tr("training.preparing"))
        return
    st.progress(run.progress(), text=progress_text(run, status))
    a, b, c, d = st.columns(4)
    a.metric(tr("training.train_loss"), metric_text(run.latest("train_loss")))
    b.metric(tr("training.val_loss"), metric_text(run.latest("val_loss")))
    c.metric(tr("training.perplexity"), metric_text(perplexity(run.latest("val_loss")), 1))
    d.metric(tr("training.tokens_per_s"), metric_text(run.latest("tokens_per_s"), 0))
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


def keep_and_share(run, book, status: RunStatus) -> None:
    if status in (RunStatus.PREPARING, RunStatus.ERROR) or \
            (run.trainer is None and run.uploaded is None):
        return
    a, b, c = st.columns(3)
    if a.button(tr("training.use_model"), key=f"use_{run.id}"):
        session.use_model(run.name, book.checkpoint(run.id), run.corpus_name)
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
