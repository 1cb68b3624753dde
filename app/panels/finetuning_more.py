"""The Fine-tuning page's other sections: forgetting, how to measure a model, and continued
pre-training on a new text against the same model from scratch."""
from __future__ import annotations

import streamlit as st

from app.panels.finetuning_setup import comparison
from app.state import runs, session
from app.ui import lang, prose, shared, tr
from lessons import worked_numbers as wn
from lessons.concepts.evaluation import compute as ev
from lessons.concepts.evaluation import figures as evf
from lessons.concepts.finetuning.figures import continued_figure
from lessons.concepts.finetuning.live import ContinuedPretraining
from lessons.engine.checkpoint import SHIPPED_MODELS
from lessons.engine.corpus import BUILTIN_TEXTS, builtin_text

CONTINUED_KEY = "ft_continued"


def pretraining_text() -> str:
    """The text the active model was pre-trained on, when the session knows it (a shipped
    model); otherwise the built-in text of the page's language."""
    if not session.has_own_model():
        return builtin_text(SHIPPED_MODELS[session.chosen_shipped()].text)
    return builtin_text("poems_zh" if lang() == "zh" else "python_reference")


def forgetting_view() -> None:
    prose("finetuning.forgetting_text")
    job = comparison()
    if job is None or not job.finished:
        st.caption(tr("finetuning.forgetting_wait"))
        return
    scores = job.forgetting(pretraining_text())
    a, b = st.columns(2)
    a.metric(tr("finetuning.perplexity_before"), f"{scores.before.perplexity:.2f}")
    b.metric(tr("finetuning.perplexity_after"), f"{scores.after.perplexity:.2f}",
             delta=f"{scores.after.perplexity - scores.before.perplexity:+.2f}", delta_color="inverse")


def measure_view() -> None:
    prose("evaluation.intro")
    st.subheader(tr("evaluation.confusion_heading"))
    prose("evaluation.confusion_text")
    toy = ev.classification_metrics(list(wn.SPAM_TRUE), list(wn.SPAM_PREDICTED), 2)
    spam = toy.per_class[1]
    prose("evaluation.toy_text", accuracy=f"{toy.accuracy:.2f}", precision=f"{spam.precision:.2f}",
          recall=f"{spam.recall:.2f}", f1=f"{spam.f1:.3f}")
    names = [tr("finetuning.toy_ham"), tr("finetuning.toy_spam")]
    left, right = st.columns(2)
    left.plotly_chart(evf.confusion_figure(toy.confusion, names, lang=lang()), key="ev_toy")
    right.plotly_chart(evf.class_scores_figure(toy, names, lang()), key="ev_toy_scores")
    st.subheader(tr("evaluation.perplexity_heading"))
    prose("evaluation.perplexity_text")
    prose("evaluation.topk_text")
    checkpoint = session.active_checkpoint()
    scores = shared(ev.held_out_scores, checkpoint, pretraining_text())
    a, b, c = st.columns(3)
    a.metric(tr("evaluation.metric_perplexity"), f"{scores.perplexity:.2f}")
    b.metric(tr("evaluation.metric_top1"), f"{scores.top1:.1%}")
    c.metric(tr("evaluation.metric_top5"), f"{scores.top5:.1%}")
    st.plotly_chart(evf.perplexity_figure(scores.cross_entropy, lang()), key="ev_ppl")
    st.subheader(tr("evaluation.bleu_heading"))
    prose("evaluation.bleu_text")
    result = ev.bleu([wn.BLEU_CANDIDATE], [wn.BLEU_REFERENCE])
    st.caption(tr("finetuning.bleu_pair", reference=wn.BLEU_REFERENCE, candidate=wn.BLEU_CANDIDATE))
    st.plotly_chart(evf.bleu_figure(result, lang()), key="ev_bleu")


def continued_view() -> None:
    prose("finetuning.continued_text")
    keys = list(BUILTIN_TEXTS)
    names = {"python_reference": tr("finetuning.text_python_reference"),
             "poems_zh": tr("finetuning.text_poems_zh")}
    text_key = st.selectbox(tr("finetuning.continued_source"), keys, index=len(keys) - 1,
                            format_func=lambda key: names.get(key, key), key="ft_text")
    steps = st.slider(tr("finetuning.steps"), 20, 400, 100, 10, key="ft_continued_steps")
    current = st.session_state.get(CONTINUED_KEY)
    if st.button(tr("finetuning.continued_start"), key="ft_continued_start"):
        if current is not None:
            current.stop_all()
        current = ContinuedPretraining(session.active_checkpoint(), builtin_text(text_key), steps,
                                       session.device(), runs.training_slots(),
                                       runs.limits().threads_per_training)
        runs.register_background_work(current)
        st.session_state[CONTINUED_KEY] = current
        current.start()
    if current is not None:
        current.touch()
    continued_curves()


@st.fragment(run_every=1.0)
def continued_curves() -> None:
    pair = st.session_state.get(CONTINUED_KEY)
    if pair is None:
        return
    st.caption(" · ".join(tr(f"finetuning.continued_{k}") + ": " +
                          tr(f"training.status_{pair.status(k).value}") for k in pair.STARTS))
    st.plotly_chart(continued_figure(pair.curves("pretrained"), pair.curves("scratch"), lang()),
                    key="ft_continued_fig")
