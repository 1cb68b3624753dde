"""The forward-pass lesson's quiz: the active model's first choice after a prompt, and which
of its pieces that choice depends on most (every head and MLP switched off in turn)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from lessons.concepts.attention.quiz import quiz_ids
from lessons.concepts.forward_pass.compute import ablation_ranking
from lessons.i18n import t
from lessons.quiz import Question, pct, question, with_distractors


def questions(checkpoint, lang: str, **_) -> list[Question]:
    if not checkpoint.model.config.causal:      # a masked model predicts no next token
        return []
    ids = quiz_ids(checkpoint, lang)
    if not ids:
        return []
    with torch.no_grad():
        probs = F.softmax(checkpoint.model.inspect(torch.as_tensor(ids)).logits[-1].float(), -1)
    top = probs.topk(min(4, probs.shape[0]))
    return [first_choice(checkpoint, ids, top, lang), most_needed_piece(checkpoint, ids, top, lang)]


def first_choice(checkpoint, ids, top, lang: str) -> Question:
    """Of the model's four likeliest next tokens, which is first."""
    label = checkpoint.tokenizer.token_label
    names = [label(int(i)) for i in top.indices]
    return question("fp_top", lang, with_distractors(names[0], names[1:], "fp_top"),
                    dict(text=checkpoint.tokenizer.decode(ids)),
                    dict(ranking=", ".join(f"{n} {pct(float(p))}" for n, p in zip(names, top.values))))


def piece_name(row: dict, lang: str) -> str:
    if row["piece"] == "head":
        return t("quiz.head_name", lang, layer=row["layer"], head=row["head"])
    return t("quiz.mlp_name", lang, layer=row["layer"])


def most_needed_piece(checkpoint, ids, top, lang: str) -> Question:
    """Switching off which head or MLP lowers the top token's probability most."""
    token = int(top.indices[0])
    rows = ablation_ranking(checkpoint.model, ids, len(ids) - 1, token)   # largest drop first
    names = [piece_name(r, lang) for r in rows]
    before = float(top.values[0])
    # distractors: the pieces that matter least for this token
    return question("fp_ablation", lang,
                    with_distractors(names[0], list(reversed(names[1:])), "fp_ablation"),
                    dict(token=checkpoint.tokenizer.token_label(token)),
                    dict(best=names[0], before=pct(before), after=pct(rows[0]["probability"]),
                         least=names[-1], least_after=pct(rows[-1]["probability"]),
                         pieces=len(rows)))
