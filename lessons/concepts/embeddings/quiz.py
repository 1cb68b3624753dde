"""The embeddings lesson's quiz: the active model's own token and position tables."""
from __future__ import annotations

from lessons.concepts.embeddings.compute import (nearest_neighbours, position_similarity_by_distance,
                                                 visible_tokens)
from lessons.concepts.tokenization.quiz import quiz_text
from lessons.i18n import t
from lessons.quiz import Question, ordered_choices, question, with_distractors


def questions(checkpoint, lang: str, **_) -> list[Question]:
    asked = [nearest_token(checkpoint, lang)]
    if checkpoint.model.config.block_size >= 4:      # needs a near and a far distance
        asked.append(near_positions(checkpoint, lang))
    return [q for q in asked if q is not None]


def target_token(checkpoint, candidates: list[int], lang: str) -> int | None:
    """The token asked about: the first of the quiz text that is a visible, non-space token."""
    tokenizer = checkpoint.tokenizer
    shown = set(candidates)
    for token in tokenizer.encode(quiz_text(tokenizer, lang)):
        if token in shown and tokenizer.token_text(token).strip():
            return token
    return candidates[0] if candidates else None


def nearest_token(checkpoint, lang: str) -> Question | None:
    """Which of four tokens has the embedding closest (by cosine) to the target's. The wrong
    choices come from the middle and the end of the ranking: far, but not absurdly so."""
    tokens, candidates = visible_tokens(checkpoint)
    target = target_token(checkpoint, candidates, lang)
    if target is None or len(candidates) < 5:
        return None
    table = checkpoint.model.token_embedding.weight.detach()
    ranked = nearest_neighbours(table, target, k=len(candidates), candidates=candidates)
    n = len(ranked)
    others = [ranked[i] for i in (n // 2, (3 * n) // 4, n - 1)]
    label = {i: tokens[i].label for i, _ in ranked}
    best, best_cos = ranked[0]
    return question("emb_nearest", lang,
                    with_distractors(label[best], [label[i] for i, _ in others], "emb_nearest"),
                    dict(token=tokens[target].label, n=n),
                    dict(best=label[best], cos=f"{best_cos:.3f}", n=n,
                         others=", ".join(f"{label[i]} {c:.3f}" for i, c in others)))


def near_positions(checkpoint, lang: str) -> Question:
    """Are positions 1 apart more alike than positions half a block apart?"""
    similarity = position_similarity_by_distance(
        checkpoint.model.position_embedding.weight.detach())
    far = len(similarity) // 2 + 1                      # a distance of about half the block
    near_cos, far_cos = similarity[0], similarity[far - 1]
    labels = [t("quiz.emb_positions_more", lang), t("quiz.emb_positions_less", lang)]
    return question("emb_positions", lang, ordered_choices(labels, 0 if near_cos > far_cos else 1),
                    dict(far=far), dict(near=f"{near_cos:.3f}", far=far, far_cos=f"{far_cos:.3f}"))
