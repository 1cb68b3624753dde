"""The Fine-tuning page's live view: each method's progress while it trains (redrawn every
second), then the scores side by side, the curves, a confusion matrix, the misclassified test
texts, forgetting, and "use this model"."""
from __future__ import annotations

import streamlit as st

from app.panels.finetuning_setup import comparison
from app.state import session
from app.ui import lang, prose, tr
from lessons.concepts.evaluation.figures import confusion_figure
from lessons.concepts.finetuning.compute import (METHODS, TRAINED, as_checkpoint,
                                                 last_position_attention)
from lessons.concepts.finetuning.figures import (curves_figure, last_position_figure, method_name,
                                                 scores_figure)
from lessons.engine.training import RunStatus


@st.fragment(run_every=1.0)
def live_view() -> None:
    job = comparison()
    if job is None:
        st.caption(tr("finetuning.not_started"))
        return
    for method in METHODS:
        status = job.status(method)
        label = tr("finetuning.progress", method=method_name(method, lang()),
                   status=tr(f"training.status_{status.value}"))
        st.progress(job.progress(method), text=label)
        if status in (RunStatus.ERROR, RunStatus.DIVERGED):
            st.error(job.message(method))
    if any(job.status(m) is RunStatus.STOPPED for m in TRAINED):
        if st.button(tr("finetuning.resume"), key="ft_resume"):
            job.resume()
    st.plotly_chart(curves_figure({m: job.curves(m) for m in TRAINED}, lang()), key="ft_curves")
    if job.finished:
        if st.session_state.get("ft_shown_finished") is not job:
            # once, the whole page: the forgetting section below this fragment waits for it
            st.session_state.ft_shown_finished = job
            st.rerun()
        results_view(job)


def results_view(job) -> None:
    results = {m: job.result(m) for m in METHODS}
    summaries = {m: r.summary() for m, r in results.items()}
    st.plotly_chart(scores_figure(summaries, lang()), key="ft_scores")
    st.dataframe([{tr("finetuning.col_method"): method_name(m, lang()),
                   tr("evaluation.metric_accuracy"): round(s["accuracy"], 3),
                   tr("evaluation.metric_precision"): round(s["precision"], 3),
                   tr("evaluation.metric_recall"): round(s["recall"], 3),
                   tr("evaluation.metric_f1"): round(s["f1"], 3),
                   tr("finetuning.col_seconds"): round(s["elapsed_s"], 1)}
                  for m, s in summaries.items()], hide_index=True, width="stretch")
    prose("finetuning.results_text")
    method = st.selectbox(tr("finetuning.look_at"), list(METHODS), index=2,
                          format_func={m: method_name(m, lang()) for m in METHODS}.get,
                          key="ft_method")
    chosen = results[method]
    left, right = st.columns(2)
    left.plotly_chart(confusion_figure(chosen.metrics.confusion, chosen.labels, lang=lang()),
                      key="ft_confusion")
    wrong = chosen.misclassified()
    right.markdown(f"**{tr('finetuning.misclassified', n=len(wrong), total=len(chosen.test))}**")
    right.dataframe([{tr("finetuning.col_text"): w["text"], tr("finetuning.col_label"): w["label"],
                      tr("finetuning.col_predicted"): w["predicted"],
                      tr("finetuning.col_probability"): round(w["probability"], 3)}
                     for w in wrong], hide_index=True, width="stretch")
    if chosen.head is not None:
        attends_view(chosen, wrong)
    if chosen.head is not None and st.button(tr("finetuning.use_model"), key="ft_use"):
        name = tr("finetuning.model_name", method=method_name(method, lang()),
                  base=job.model_name)
        session.use_model(name, as_checkpoint(chosen, job.checkpoint))
        st.rerun()


def attends_view(chosen, wrong: list[dict]) -> None:
    """What the classifier's last position attends to, for a misclassified or any test text."""
    texts = [w["text"] for w in wrong] + [text for text, _ in chosen.test[:10]]
    text = st.selectbox(tr("finetuning.attends_text"), texts, key="ft_attends")
    tokenizer = comparison().checkpoint.tokenizer
    labels, weights = last_position_attention(chosen.model, tokenizer, text)
    prose("finetuning.attends_explain")
    st.plotly_chart(last_position_figure(labels, weights, lang()), key="ft_attends_fig")
