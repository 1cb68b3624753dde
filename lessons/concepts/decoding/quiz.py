"""The decoding lesson's quiz: what greedy decoding writes after the page's prompt, and how
many tokens top-p keeps there, both from the active model."""
from __future__ import annotations

from lessons.concepts.decoding.compute import Strategy, never_written, prompt_ids, run_strategy
from lessons.concepts.softmax.compute import next_token
from lessons.display import best_spelt
from lessons.i18n import t
from lessons.quiz import Question, ordered_choices, pct, question, with_distractors

NEW_TOKENS = 3
TOP_P = 0.9
KEPT_BANDS = (2, 6, 21)           # 1 / 2-5 / 6-20 / more than 20


def questions(checkpoint, lang: str, **_) -> list[Question]:
    if not checkpoint.model.config.causal:
        return []
    prompt = best_spelt(checkpoint.tokenizer, [t("decoding.prompt_default", lang),
                                               t("decoding.prompt_default_poems", lang)])
    return [greedy_words(checkpoint, prompt, lang), top_p_kept(checkpoint, prompt, lang)]


def written(tokenizer, ids: list[int]) -> str:
    """New tokens as the learner reads them: each token's label, joined (spaces visible)."""
    return "".join(tokenizer.token_label(i) for i in ids)


def greedy_words(checkpoint, prompt: str, lang: str) -> Question:
    """Which of four continuations greedy decoding writes. The others start with the 2nd, 3rd
    and 4th likeliest first token and then go on greedily: close, but not what greedy does."""
    model, tokenizer = checkpoint.model, checkpoint.tokenizer
    ids, never = prompt_ids(checkpoint, prompt), never_written(checkpoint)  # as the page
    greedy = run_strategy(model, ids, Strategy("greedy"), NEW_TOKENS, never)
    first = next_token(model, tokenizer, prompt).probs.topk(6).indices.tolist()
    others = [[token] + run_strategy(model, ids + [token], Strategy("greedy"), NEW_TOKENS - 1,
                                     never)
              for token in first if token != greedy[0] and (never is None or not never[token])]
    return question("dec_greedy", lang,
                    with_distractors(written(tokenizer, greedy),
                                     [written(tokenizer, o) for o in others], "dec_greedy"),
                    dict(prompt=prompt, n=NEW_TOKENS),
                    dict(text=written(tokenizer, greedy), n=NEW_TOKENS))


def top_p_kept(checkpoint, prompt: str, lang: str) -> Question:
    """How many tokens top-p 0.9 keeps after the prompt: few when the model is sure."""
    model, tokenizer = checkpoint.model, checkpoint.tokenizer
    kept = int((next_token(model, tokenizer, prompt, top_p=TOP_P).probs > 0).sum())
    band = sum(kept >= edge for edge in KEPT_BANDS)
    surest = float(next_token(model, tokenizer, prompt).probs.max())
    labels = [t(f"quiz.dec_kept_band{k}", lang) for k in range(4)]
    return question("dec_top_p", lang, ordered_choices(labels, band),
                    dict(prompt=prompt, p=TOP_P),
                    dict(kept=kept, p=TOP_P, surest=pct(surest), vocab=tokenizer.vocab_size))
