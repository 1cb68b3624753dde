"""The softmax lesson's quiz: what temperature does to the active model's surest token, and
how surprised the model is by the page's next character."""
from __future__ import annotations

import math

from lessons.concepts.softmax.compute import next_token, token_surprise
from lessons.display import best_spelt
from lessons.i18n import t
from lessons.quiz import Question, ordered_choices, pct, question

HOT = 2.0
SURPRISE_BANDS = (0.5, 2.0, 4.0)       # nats: below 0.5 / 0.5-2 / 2-4 / 4 and more


def page_prompt(tokenizer, lang: str) -> tuple[str, str]:
    """(prompt, what comes next): the softmax page's defaults, in the words this model spells best."""
    pairs = [(t("softmax.prompt_default", lang), t("softmax.actual_default", lang)),
             (t("softmax.prompt_default_poems", lang), t("softmax.actual_default_poems", lang))]
    prompt = best_spelt(tokenizer, [p for p, _ in pairs])
    return next(pair for pair in pairs if pair[0] == prompt)


def questions(checkpoint, lang: str, **_) -> list[Question]:
    if not checkpoint.model.config.causal:
        return []
    prompt, actual = page_prompt(checkpoint.tokenizer, lang)
    asked = [hotter(checkpoint, prompt, lang)]
    if checkpoint.tokenizer.encode(actual):
        asked.append(surprise(checkpoint, prompt, actual, lang))
    return asked


def hotter(checkpoint, prompt: str, lang: str) -> Question:
    """At temperature 2, does the likeliest token's probability go up, down, or stay?"""
    cool = next_token(checkpoint.model, checkpoint.tokenizer, prompt, temperature=1.0)
    hot = next_token(checkpoint.model, checkpoint.tokenizer, prompt, temperature=HOT)
    top = int(cool.probs.argmax())
    before, after = float(cool.probs[top]), float(hot.probs[top])
    right = 2 if abs(after - before) < 1e-9 else (0 if after > before else 1)
    labels = [t(f"quiz.sm_hotter_{k}", lang) for k in ("higher", "lower", "same")]
    return question("sm_hotter", lang, ordered_choices(labels, right),
                    dict(prompt=prompt, temperature=f"{HOT:g}"),
                    dict(token=checkpoint.tokenizer.token_label(top), before=pct(before),
                         after=pct(after), temperature=f"{HOT:g}"))


def surprise(checkpoint, prompt: str, actual: str, lang: str) -> Question:
    """Which band the cross-entropy of the actual next token falls in."""
    result = next_token(checkpoint.model, checkpoint.tokenizer, prompt)
    token = checkpoint.tokenizer.encode(actual)[0]
    numbers = token_surprise(result.logits, token)
    band = sum(numbers["nats"] >= edge for edge in SURPRISE_BANDS)
    labels = [t(f"quiz.sm_surprise_band{k}", lang) for k in range(4)]
    return question("sm_surprise", lang, ordered_choices(labels, band),
                    dict(prompt=prompt, token=checkpoint.tokenizer.token_label(token)),
                    dict(p=f"{numbers['p']:.4f}", nats=f"{numbers['nats']:.3f}",
                         bits=f"{numbers['nats'] / math.log(2):.3f}"))
