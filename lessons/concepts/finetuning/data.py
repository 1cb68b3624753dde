"""Labelled data for fine-tuning: the built-in sets and the learner's own CSV.

A CSV has a ``text`` and a ``label`` column and, optionally, ``split`` (train, validation,
test). Without ``split`` the last 20 % of the rows are the test set and the 10 % before them
the validation set, in file order, so the same file always splits the same way.

Anything unusable is refused with a ``DataError`` whose message a page shows in the learner's
language: an empty file, one that is too big or not UTF-8, no text or label column, fewer than
two classes, a split without examples.

>>> data = parse_labelled_csv(b"text,label\\n" + b"".join(b"t%d,%s\\n" % (i, b"ab"[i % 2:i % 2 + 1])
...                                                    for i in range(20)))
>>> data.labels, len(data.train), len(data.validation), len(data.test)
(['a', 'b'], 14, 2, 4)
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources

from lessons.errors import LessonError

MAX_CSV_BYTES = 5_000_000        # 5 MB: tens of thousands of short texts, still quick to read
TEST_FRACTION, VALIDATION_FRACTION = 0.2, 0.1
SPLITS = ("train", "validation", "test")
BUILTIN_SETS = {"en": "finetune_en.csv", "zh": "finetune_zh.csv"}


class DataError(LessonError):
    """A labelled file that cannot be used; the message is shown to the learner."""


@dataclass(frozen=True)
class LabelledData:
    labels: list[str]                       # class names, sorted: class k is labels[k]
    train: list[tuple[str, int]]            # (text, class index)
    validation: list[tuple[str, int]]
    test: list[tuple[str, int]]

    def split(self, name: str) -> list[tuple[str, int]]:
        return getattr(self, name)


def builtin_dataset(lang: str = "en") -> LabelledData:
    """The shipped set in this language (see lessons/data/README.md): real text against the
    same kind of text with its letters (en) or characters (zh) shuffled."""
    name = BUILTIN_SETS.get(lang, BUILTIN_SETS["en"])
    return parse_labelled_csv(resources.files("lessons").joinpath("data", name).read_bytes())


def read_labelled_csv(path: str) -> LabelledData:
    """A CSV from disk, with the same checks as an upload (reads at most the limit + 1 byte)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise DataError("file_unreadable", path=path, reason=exc.strerror) from exc
    return parse_labelled_csv(data)


def parse_labelled_csv(data: bytes) -> LabelledData:
    rows = _csv_rows(_decoded(data))
    labels = sorted({label for _, label, _ in rows})
    if len(labels) < 2:
        raise DataError("data_one_class", label=labels[0] if labels else "")
    index = {label: k for k, label in enumerate(labels)}
    has_split = any(split for _, _, split in rows)
    named = _named_splits(rows) if has_split else _positional_splits(rows)
    parts = {name: [(text, index[label]) for text, label in named[name]] for name in SPLITS}
    for name in SPLITS:
        if not parts[name]:
            raise DataError("data_empty_split", split=name)
    return LabelledData(labels, parts["train"], parts["validation"], parts["test"])


def _decoded(data: bytes) -> str:
    if len(data) > MAX_CSV_BYTES:
        raise DataError("file_too_big", size_mb=len(data) / 1e6, limit_mb=MAX_CSV_BYTES / 1e6)
    if not data.strip():
        raise DataError("file_empty")
    try:
        return data.decode("utf-8-sig")          # -sig: Excel starts its UTF-8 with a BOM
    except UnicodeDecodeError as exc:
        raise DataError("file_not_utf8", position=exc.start) from exc


def _csv_rows(text: str) -> list[tuple[str, str, str]]:
    """(text, label, split) for every row with a text and a label."""
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in (reader.fieldnames or [])]
    for needed in ("text", "label"):
        if needed not in columns:
            raise DataError("data_no_column", column=needed, columns=", ".join(columns) or "-")
    reader.fieldnames = columns
    try:
        rows = [((r.get("text") or "").strip(), (r.get("label") or "").strip(),
                 (r.get("split") or "").strip().lower()) for r in reader]
    except csv.Error as exc:
        raise DataError("data_bad_csv", detail=exc) from exc
    rows = [row for row in rows if row[0] and row[1]]
    if not rows:
        raise DataError("data_no_rows")
    return rows


def _named_splits(rows) -> dict[str, list]:
    unknown = sorted({split for _, _, split in rows} - set(SPLITS))
    if unknown:
        raise DataError("data_bad_split", split=unknown[0])
    return {name: [(t, l) for t, l, s in rows if s == name] for name in SPLITS}


def _positional_splits(rows) -> dict[str, list]:
    n = len(rows)
    test_start = n - max(1, round(n * TEST_FRACTION))
    val_start = test_start - max(1, round(n * VALIDATION_FRACTION))
    pairs = [(t, l) for t, l, _ in rows]
    return {"train": pairs[:val_start], "validation": pairs[val_start:test_start],
            "test": pairs[test_start:]}
