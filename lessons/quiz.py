"""Predict-then-reveal quizzes whose right answers come from the model in hand.

Each lesson's questions live beside its concept (``lessons/concepts/<concept>/quiz.py``, a
function ``questions(checkpoint, lang, **context) -> list[Question]``); ``QUIZZES`` below names
it for every lesson page. A question's choices, its right answer and the numbers in its
explanation are computed with the concept's own functions, so a learner who trained their own
model is graded on that model, not on a key written down once.

One question ("will a run with half the learning rate end higher or lower?") can only be
answered by running something: its ``answer`` is None until ``run_experiment`` has run it.

>>> q = Question("q", "Which?", ("a", "b"), 1, "b, because.")
>>> grade(q, "b"), grade(q, "a"), grade(q, "z")
(True, False, False)
>>> progress_entry(q, "b")
{'answer': 'b', 'correct': True}
"""
from __future__ import annotations

import importlib
import random
from dataclasses import dataclass
from typing import Callable

from lessons.i18n import t


@dataclass(frozen=True)
class Question:
    qid: str                      # stable across models and languages: progress is kept by it
    prompt: str                   # the question, in the learner's language
    choices: tuple[str, ...]      # what the learner picks from (all different)
    answer: int | None            # index of the right choice; None: run the experiment first
    explanation: str              # why, with the numbers (empty until an experiment ran)
    experiment: str | None = None  # the name of its experiment in EXPERIMENTS, if it needs one

    @property
    def right_choice(self) -> str | None:
        return None if self.answer is None else self.choices[self.answer]


# slug of a lesson page -> module whose questions() builds its quiz
QUIZZES: dict[str, str] = {
    "tokenization": "lessons.concepts.tokenization.quiz",
    "embeddings": "lessons.concepts.embeddings.quiz",
    "attention": "lessons.concepts.attention.quiz",
    "forward_pass": "lessons.concepts.forward_pass.quiz",
    "training": "lessons.concepts.training.quiz",
    "softmax": "lessons.concepts.softmax.quiz",
    "decoding": "lessons.concepts.decoding.quiz",
    "masked_vs_causal": "lessons.concepts.masked_vs_causal.quiz",
    "finetuning": "lessons.concepts.finetuning.quiz",
}


def questions_for(slug: str, checkpoint, lang: str = "en", **context) -> list[Question]:
    """The quiz of lesson ``slug`` for this model, in ``lang``. A page whose model cannot answer
    its questions (e.g. a masked model asked for a next token) gets an empty list."""
    module = importlib.import_module(QUIZZES[slug])
    # a very small model can leave a question one choice (a single head): nothing to predict
    return [q for q in module.questions(checkpoint, lang, **context) if len(q.choices) >= 2]


def grade(question: Question, picked: str) -> bool:
    """True when ``picked`` (a choice's text) is the right one."""
    return question.answer is not None and picked == question.right_choice


def progress_entry(question: Question, picked: str) -> dict:
    """What the progress store keeps of one answer: JSON-able, by the choice's text (a choice's
    place changes with the model; its text says what was answered)."""
    return {"answer": picked, "correct": grade(question, picked)}


def page_score(progress: dict, slug: str) -> tuple[int, int]:
    """(right, answered) on one page of a progress dict {slug: {qid: {answer, correct}}}.

    >>> page_score({"a": {"q1": {"answer": "x", "correct": True},
    ...                   "q2": {"answer": "y", "correct": False}}}, "a")
    (1, 2)
    """
    answers = progress.get(slug, {})
    return sum(1 for entry in answers.values() if entry.get("correct")), len(answers)


# ---- helpers the concepts' quizzes share --------------------------------------------------

def with_distractors(right: str, others, qid: str, size: int = 4) -> tuple[tuple[str, ...], int]:
    """(choices, index of the right one): ``right`` and up to size-1 different ``others``
    (first come first taken), in an order fixed by the question's id, so a page shows the same
    order on every rerun and the right answer is not always first.

    >>> choices, at = with_distractors("b", ["a", "b", "c", "a"], "x", size=3)
    >>> sorted(choices), choices[at]
    (['a', 'b', 'c'], 'b')
    """
    picked = [right]
    for option in others:
        if option not in picked and len(picked) < size:
            picked.append(option)
    random.Random(qid).shuffle(picked)
    return tuple(picked), picked.index(right)


def ordered_choices(choices, right: int) -> tuple[tuple[str, ...], int]:
    """Choices whose order means something (higher / lower, ranges): kept as given."""
    return tuple(choices), right


def question(qid: str, lang: str, choices_and_answer: tuple[tuple[str, ...], int | None],
             prompt: dict, explanation: dict | None = None, experiment: str | None = None) -> Question:
    """A Question whose texts are the quiz prose keys ``quiz.<qid>`` and ``quiz.<qid>_why``,
    filled with ``prompt`` and ``explanation`` values."""
    choices, answer = choices_and_answer
    why = t(f"quiz.{qid}_why", lang, **safe_values(explanation)) if explanation is not None else ""
    return Question(qid, t(f"quiz.{qid}", lang, **safe_values(prompt)), choices, answer, why,
                    experiment)


def markdown_safe(text: str) -> str:
    """Text with Markdown's and LaTeX's characters backslash-escaped, spaces kept: a model's
    token "*" or "$" inside a question cannot turn the page's formatting inside out.

    >>> print(markdown_safe("a*b $x$ 1.5"))
    a\\*b \\$x\\$ 1.5
    """
    return "".join("\\" + ch if ch in MARKDOWN_SPECIALS else ch for ch in str(text))


# values never start a line, so list and heading markers (. - + #) need no escape
MARKDOWN_SPECIALS = set("\\`*_{}[]()|<>~$")


def safe_values(values: dict) -> dict:
    """Every string value made Markdown-safe (numbers stay numbers for their formats)."""
    return {k: markdown_safe(v) if isinstance(v, str) else v for k, v in values.items()}


def pct(p: float) -> str:
    """0.4567 -> '45.7%'."""
    return f"{100 * p:.1f}%"


# ---- experiments: questions answered by running something ---------------------------------

def run_experiment(question: Question, checkpoint, lang: str, text: str,
                   on_progress: Callable[[float], None] | None = None) -> Question:
    """The question with its answer and explanation filled in by running its experiment
    (``on_progress(fraction done)`` is called as it goes)."""
    module_name, function_name = EXPERIMENTS[question.experiment].rsplit(".", 1)
    run = getattr(importlib.import_module(module_name), function_name)
    return run(question, checkpoint, lang, text, on_progress)


EXPERIMENTS: dict[str, str] = {
    "half_lr": "lessons.concepts.training.quiz.answer_half_lr",
}
