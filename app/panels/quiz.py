"""The quiz at the end of every lesson page: predict, press Check, see the grade with the
explanation and its numbers. One panel for every page; the questions, their right answers and
the numbers come from lessons/quiz.py (computed from the model in use).

Progress is kept in ``st.session_state["quiz_progress"]``, a JSON-able dict
``{page slug: {question id: {"answer": choice text, "correct": bool}}}``, which the work store
saves with the rest of a learner's work.
"""
from __future__ import annotations

import streamlit as st

from app.state import session
from app.ui import explain, lang, shared, tr
from lessons import quiz

PROGRESS_KEY = "quiz_progress"
ANSWERED_KEY = "quiz_answered_experiments"    # (model uid, question id, lang) -> answered Question


def progress() -> dict:
    """This session's quiz progress (created empty on first use)."""
    return st.session_state.setdefault(PROGRESS_KEY, {})


def quiz_section(slug: str, checkpoint=None, model_name: str | None = None, **context) -> None:
    """The quiz of lesson ``slug`` on ``checkpoint`` (default: the model in use, named
    ``model_name``); ``context`` goes to the lesson's questions() (e.g. the second model of a
    comparison)."""
    checkpoint = checkpoint if checkpoint is not None else session.active_checkpoint()
    st.divider()
    st.header(tr("quiz.heading"))
    name = model_name or session.active_model_name()
    st.markdown(tr("quiz.intro", model=quiz.markdown_safe(name)))
    try:
        questions = shared(quiz.questions_for, slug, checkpoint, lang(), **context)
    except Exception as exc:    # an odd model must not take the page down with it
        st.error(tr("quiz.failed", error=explain(exc)))
        return
    if not questions:
        st.info(tr("quiz.none"))
        return
    for number, question in enumerate(questions, start=1):
        with st.container(border=True):
            question_box(slug, number, question, checkpoint)
    right, answered = quiz.page_score(progress(), slug)
    st.caption(tr("quiz.score", right=right, answered=answered, total=len(questions)))


def question_box(slug: str, number: int, question: quiz.Question, checkpoint) -> None:
    st.markdown(f"**{number}.** {question.prompt}")
    key = f"quiz_{slug}_{question.qid}"
    picked = st.radio(tr("quiz.pick"), question.choices, index=None, key=key,
                      format_func=quiz.markdown_safe)
    if st.button(tr("quiz.check"), key=f"{key}_check", disabled=picked is None):
        question = answered(question, checkpoint)
        progress().setdefault(slug, {})[question.qid] = quiz.progress_entry(question, picked)
    entry = progress().get(slug, {}).get(question.qid)
    if entry and entry["answer"] == picked:         # graded, and still the shown choice
        question = st.session_state.get(ANSWERED_KEY, {}).get(
            (checkpoint.uid, question.qid, lang()), question)
        if entry["correct"]:
            st.success(tr("quiz.right"))
        else:
            st.warning(tr("quiz.wrong", answer=quiz.markdown_safe(question.right_choice or "?")))
        st.markdown(question.explanation)


def answered(question: quiz.Question, checkpoint) -> quiz.Question:
    """The question with its answer known: as it is, or after its experiment ran (once per
    model and language, with a progress bar)."""
    if question.experiment is None:
        return question
    store = st.session_state.setdefault(ANSWERED_KEY, {})
    key = (checkpoint.uid, question.qid, lang())
    if key not in store:
        bar = st.progress(0.0, text=tr("quiz.running", percent=0))

        def show(fraction: float) -> None:
            bar.progress(min(fraction, 1.0), text=tr("quiz.running", percent=round(100 * fraction)))
        store[key] = quiz.run_experiment(question, checkpoint, lang(),
                                         session.active_training_text(), show)
        bar.empty()
    return store[key]
