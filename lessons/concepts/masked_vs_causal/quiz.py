"""The BERT-and-GPT lesson's quiz, on the two models the page compares: what the masked one
puts in the blank, and which of the two is surer of its first guess."""
from __future__ import annotations

from lessons.concepts.masked_vs_causal.compute import (fill_in_causal, fill_in_masked,
                                                       is_masked_model, split_blank)
from lessons.i18n import t
from lessons.quiz import Question, ordered_choices, pct, question, with_distractors


def questions(checkpoint, lang: str, causal=None, **_) -> list[Question]:
    """``checkpoint``: the masked model; ``causal``: the GPT-style model beside it."""
    if not is_masked_model(checkpoint) or causal is None or not causal.model.config.causal:
        return []
    sentence = t("masked_vs_causal.blank_default", lang)
    left, right = split_blank(sentence)
    masked_guesses = fill_in_masked(checkpoint, left, right, top=4)
    causal_guesses = fill_in_causal(causal, left, top=4)
    return [masked_first(sentence, masked_guesses, causal_guesses, lang),
            surer_model(sentence, masked_guesses[0], causal_guesses[0], lang)]


def masked_first(sentence: str, masked, causal, lang: str) -> Question:
    """The masked model's first guess for the blank; the causal model's guesses (which never
    saw the right side) and the masked model's runners-up are the other choices."""
    others = [g.token for g in causal] + [g.token for g in masked[1:]]
    return question("mvc_blank", lang, with_distractors(masked[0].token, others, "mvc_blank"),
                    dict(sentence=sentence),
                    dict(token=masked[0].token, p=pct(masked[0].probability),
                         causal=causal[0].token, causal_p=pct(causal[0].probability)))


def surer_model(sentence: str, masked, causal, lang: str) -> Question:
    """Which model gives its own first guess the higher probability."""
    labels = [t("quiz.mvc_surer_masked", lang), t("quiz.mvc_surer_causal", lang)]
    return question("mvc_surer", lang,
                    ordered_choices(labels, 0 if masked.probability >= causal.probability else 1),
                    dict(sentence=sentence),
                    dict(masked=masked.token, masked_p=pct(masked.probability),
                         causal=causal.token, causal_p=pct(causal.probability)))
