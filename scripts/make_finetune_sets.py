"""Build the two labelled data sets of the Fine-tuning lesson from text the project ships.

    python scripts/make_finetune_sets.py          # writes lessons/data/finetune_{en,zh}.csv

The task, in both languages: is this a real piece of text, or the same kind of piece with its
words (English) or characters (Chinese) shuffled? Knowing the language is exactly what answers
it, so a model pre-trained on the language should learn it from few examples, and one that
starts from scratch should not. Half of each file is "real", half "shuffled" (balanced, so the
majority class scores only 50 %).

The test split comes from the last 10 % of the source text: the part the Training page (and the
shipped model, trained with the default split) keeps for validation, so a pre-trained model has
never read the test sentences. Train and validation come from the first 90 %. Each piece of
text is used once: a real example and a shuffled one are never the same words.
"""
from __future__ import annotations

import csv
import random
import re
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "lessons" / "data"
HELD_OUT = 0.1                     # the default validation fraction of lessons.engine.corpus
WORDS_PER_PIECE = 8
SIZES = {"train": 400, "validation": 100, "test": 160}
LABELS = {"en": ("real", "shuffled"), "zh": ("原句", "打乱")}
SEED = 15                          # issue #15


def english_pieces(text: str) -> list[str]:
    """Runs of 8 words from the prose lines of the Python reference (no grammar rules, no code)."""
    prose = [line.strip() for line in text.splitlines()
             if re.fullmatch(r"[A-Za-z][A-Za-z ,.'\"()-]+", line.strip()) and len(line.split()) >= 5]
    words = " ".join(prose).split()
    return [" ".join(words[i:i + WORDS_PER_PIECE])
            for i in range(0, len(words) - WORDS_PER_PIECE + 1, WORDS_PER_PIECE)]


def chinese_pieces(text: str) -> list[str]:
    """The verse lines of the poems (titles and author lines left out)."""
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.startswith(("《", "作者")) and len(line.strip()) >= 10]


def shuffle_letters(piece: str, rng: random.Random) -> str:
    """Shuffle the letters inside every word of two or more letters; spaces and punctuation
    stay, so the piece keeps its shape and only its spelling gives it away."""
    return re.sub(r"[A-Za-z]{2,}", lambda m: "".join(_shuffled(list(m.group()), rng)), piece)


def shuffle_characters(piece: str, rng: random.Random) -> str:
    """Shuffle the Chinese characters, leave the punctuation where it was (so the rhythm of the
    line still looks right and only the characters give the game away)."""
    hanzi = [c for c in piece if "\u4e00" <= c <= "\u9fff"]
    moved = iter(_shuffled(hanzi, rng))
    return "".join(next(moved) if "\u4e00" <= c <= "\u9fff" else c for c in piece)


def _shuffled(items: list, rng: random.Random) -> list:
    for _ in range(20):                 # a shuffle that changes nothing is not a shuffle
        out = items[:]
        rng.shuffle(out)
        if out != items:
            return out
    return items[::-1]


def labelled(pieces: list[str], count: int, shuffle, labels, rng: random.Random) -> list[tuple]:
    """``count`` examples, alternately real and shuffled, each from its own piece."""
    chosen = rng.sample(pieces, count)
    return [(piece, labels[0]) if i % 2 == 0 else (shuffle(piece, rng), labels[1])
            for i, piece in enumerate(chosen)]


def build(lang: str) -> list[tuple[str, str, str]]:
    source, pieces_of, shuffle = (
        ("python_reference.txt", english_pieces, shuffle_letters) if lang == "en" else
        ("poems_zh.txt", chinese_pieces, shuffle_characters))
    text = (DATA / source).read_text("utf-8")
    cut = int(len(text) * (1 - HELD_OUT))
    rng = random.Random(SEED)
    seen_part, held_part = pieces_of(text[:cut]), pieces_of(text[cut:])
    if len(held_part) < SIZES["test"]:
        raise SystemExit(f"{lang}: only {len(held_part)} held-out pieces")
    train_val = labelled(seen_part, SIZES["train"] + SIZES["validation"], shuffle,
                         LABELS[lang], rng)
    test = labelled(held_part, SIZES["test"], shuffle, LABELS[lang], rng)
    rows = [(text_, label, "train") for text_, label in train_val[:SIZES["train"]]]
    rows += [(text_, label, "validation") for text_, label in train_val[SIZES["train"]:]]
    rows += [(text_, label, "test") for text_, label in test]
    return rows


def main() -> None:
    for lang in ("en", "zh"):
        path = DATA / f"finetune_{lang}.csv"
        with open(path, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "label", "split"])
            writer.writerows(build(lang))
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
