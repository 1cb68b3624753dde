"""The attention lesson's quiz: which of the active model's heads looks one token back, and
whether its first token can see what comes after it."""
from __future__ import annotations

from lessons.concepts.attention.compute import attention_maps, head_summaries
from lessons.concepts.tokenization.quiz import quiz_text
from lessons.i18n import t
from lessons.quiz import Question, ordered_choices, pct, question, with_distractors

MAX_TOKENS = 48      # the page's pictures stop here too


def quiz_ids(checkpoint, lang: str) -> list[int]:
    """The quiz text's token ids, cut to what the model and the pictures take."""
    limit = min(checkpoint.model.config.block_size, MAX_TOKENS)
    return checkpoint.tokenizer.encode(quiz_text(checkpoint.tokenizer, lang))[:limit]


def questions(checkpoint, lang: str, **_) -> list[Question]:
    ids = quiz_ids(checkpoint, lang)
    if len(ids) < 3:
        return []
    attn = attention_maps(checkpoint.model, ids)                     # (L, H, T, T)
    return [previous_token_head(attn, ids, checkpoint, lang), first_token_future(attn, lang)]


def head_name(lang: str, layer: int, head: int) -> str:
    return t("quiz.head_name", lang, layer=layer, head=head)


def previous_token_head(attn, ids, checkpoint, lang: str) -> Question:
    """Which head puts the most weight on the token just before each position (mean over
    rows 1..T-1, as the page's summary table measures it)."""
    rows = sorted(head_summaries(attn), key=lambda r: r["previous"], reverse=True)
    name = {(r["layer"], r["head"]): head_name(lang, r["layer"], r["head"]) for r in rows}
    best = rows[0]
    # the weakest heads as distractors: a clear answer, but one only the model can give
    others = [name[(r["layer"], r["head"])] for r in reversed(rows[1:])]
    return question("att_previous", lang,
                    with_distractors(name[(best["layer"], best["head"])], others, "att_previous"),
                    dict(text=checkpoint.tokenizer.decode(ids)),
                    dict(best=name[(best["layer"], best["head"])], share=pct(best["previous"]),
                         runner=name[(rows[1]["layer"], rows[1]["head"])] if len(rows) > 1 else "–",
                         runner_share=pct(rows[1]["previous"]) if len(rows) > 1 else "–",
                         worst=name[(rows[-1]["layer"], rows[-1]["head"])],
                         worst_share=pct(rows[-1]["previous"])))


FUTURE_BANDS = ("none", "some", "most")      # 0, (0, 50%), 50% or more


def first_token_future(attn, lang: str) -> Question:
    """What share of the first token's attention (layer 0, head 0) goes to later tokens:
    nothing in a causal (GPT) model, something in a masked (BERT) one."""
    share = float(attn[0, 0, 0, 1:].sum())
    band = 0 if share < 1e-6 else (1 if share < 0.5 else 2)
    labels = [t(f"quiz.att_future_{b}", lang) for b in FUTURE_BANDS]
    return question("att_future", lang, ordered_choices(labels, band), {},
                    dict(share=pct(share), later=attn.shape[-1] - 1))
