"""The tokenisation lesson's quiz: how the active model's own tokenizer cuts two texts.

A character model that knows only "a", "b", " " and "c" spells "The cat sat on the mat." with
one token a character (unknown letters fall back to their single byte), and each Chinese
character with its three UTF-8 bytes:

>>> from lessons.engine.checkpoint import toy_checkpoint
>>> [q.right_choice for q in questions(toy_checkpoint("ab c"), "en")]
['23', 'the Chinese line']
"""
from __future__ import annotations

from lessons.concepts.tokenization.compute import text_stats
from lessons.display import best_spelt
from lessons.i18n import t
from lessons.quiz import Question, ordered_choices, question, with_distractors

ENGLISH, CHINESE = "The cat sat on the mat.", "床前明月光，疑是地上霜。"


def quiz_text(tokenizer, lang: str) -> str:
    """The short text a quiz asks about: the attention page's default, in the words this
    tokenizer spells best (an English sentence, or a line of the Chinese poems)."""
    return best_spelt(tokenizer, [t("attention.text_default", lang),
                                  t("attention.text_default_poems", lang)])


def questions(checkpoint, lang: str, **_) -> list[Question]:
    tokenizer = checkpoint.tokenizer
    return [token_count(tokenizer, quiz_text(tokenizer, lang), lang), denser_text(tokenizer, lang)]


def token_count(tokenizer, text: str, lang: str) -> Question:
    """How many tokens the text becomes; distractors: its characters, bytes and words."""
    stats = text_stats(tokenizer, text)
    n = stats["tokens"]
    others = [str(x) for x in (stats["characters"], stats["bytes"], len(text.split()),
                               n + 2, max(1, n - 3), 2 * n)]
    pieces = " | ".join(tokenizer.token_label(i) for i in tokenizer.encode(text)[:40])
    return question("tok_count", lang, with_distractors(str(n), others, "tok_count"),
                    dict(text=text), dict(n=n, pieces=pieces, chars=stats["characters"],
                                          bytes=stats["bytes"]))


def denser_text(tokenizer, lang: str) -> Question:
    """Which of an English sentence and a Chinese line needs more tokens per character."""
    english, chinese = (text_stats(tokenizer, text) for text in (ENGLISH, CHINESE))
    per_char = [s["tokens"] / s["characters"] for s in (english, chinese)]
    right = 2 if abs(per_char[0] - per_char[1]) < 1e-9 else (0 if per_char[0] > per_char[1] else 1)
    labels = [t(f"quiz.tok_denser_{k}", lang) for k in ("english", "chinese", "same")]
    return question("tok_denser", lang, ordered_choices(labels, right),
                    dict(english=ENGLISH, chinese=CHINESE),
                    dict(en_tokens=english["tokens"], en_chars=english["characters"],
                         zh_tokens=chinese["tokens"], zh_chars=chinese["characters"],
                         en_rate=f"{per_char[0]:.2f}", zh_rate=f"{per_char[1]:.2f}"))
