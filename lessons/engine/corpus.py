"""Training text: the embedded default corpus, the learner's own text, splits and batches.

The embedded corpus is the prose of the Python Language Reference topics (CPython's
``pydoc_data``, PSF licence; see ``lessons/data/README.md``): about 465 KB of real English that
ships inside this package, so training works offline from the first minute.

>>> train, val = split_text("abcdefghij", val_fraction=0.2)
>>> train, val
('abcdefgh', 'ij')
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import torch

from lessons.errors import LessonError

MAX_USER_TEXT_BYTES = 5_000_000     # 5 MB: a novel, still quick to tokenise
MIN_TRAIN_CHARS = 200               # below this there is nothing to learn from
EMBEDDED_NAME = "python_reference.txt"


class CorpusError(LessonError):
    """Text that cannot be used for training; the message is shown to the learner."""


@dataclass(frozen=True)
class BuiltinText:
    """A training text that ships in lessons/data/ (provenance and licence in its README)."""
    key: str           # how pages, presets and the CLI name it
    file: str          # file name in lessons/data/
    language: str      # "en" or "zh": the interface in that language suggests it

    def read(self) -> str:
        return resources.files("lessons").joinpath("data", self.file).read_text("utf-8")


# Every built-in text, the default first. A new one is one entry here plus its file and README lines.
BUILTIN_TEXTS: dict[str, BuiltinText] = {
    text.key: text for text in (
        BuiltinText("python_reference", EMBEDDED_NAME, "en"),
        BuiltinText("poems_zh", "poems_zh.txt", "zh"),       # 唐诗三百首 + 宋诗一百首, from fortunes-zh
    )
}


def builtin_text(key: str = "python_reference") -> str:
    """The text of a built-in corpus; KeyError names the known ones."""
    if key not in BUILTIN_TEXTS:
        raise KeyError(f"no built-in text {key!r}; known: {', '.join(BUILTIN_TEXTS)}")
    return BUILTIN_TEXTS[key].read()


def embedded_corpus() -> str:
    """The default built-in text (the Python Language Reference prose)."""
    return builtin_text("python_reference")


def decode_user_bytes(data: bytes, max_bytes: int = MAX_USER_TEXT_BYTES) -> str:
    """Turn an uploaded file into text, or raise CorpusError saying what is wrong."""
    if len(data) == 0:
        raise CorpusError("file_empty")
    if len(data) > max_bytes:
        raise CorpusError("file_too_big", size_mb=len(data) / 1e6, limit_mb=max_bytes / 1e6)
    if b"\x00" in data[:8192]:
        raise CorpusError("file_binary")
    try:
        text = data.decode("utf-8-sig")   # -sig: drop a byte-order mark if an editor added one
    except UnicodeDecodeError as exc:
        raise CorpusError("file_not_utf8", position=exc.start) from exc
    return check_training_text(text)


def check_training_text(text: str) -> str:
    text = text.replace("\r\n", "\n")
    if len(text.strip()) < MIN_TRAIN_CHARS:
        raise CorpusError("text_too_short", chars=len(text.strip()), minimum=MIN_TRAIN_CHARS)
    return text


def read_text_file(path: str, max_bytes: int = MAX_USER_TEXT_BYTES) -> str:
    """Read a text file from the command line with the same checks as an upload."""
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise CorpusError("file_unreadable", path=path, reason=exc.strerror) from exc
    return decode_user_bytes(data, max_bytes)


def split_text(text: str, val_fraction: float = 0.1) -> tuple[str, str]:
    """First (1 - val_fraction) for training, the rest for validation: the same split
    every time, and the same rule nanoGPT uses (first 90 % / last 10 %), except that a cut
    inside a document (a poem, a paragraph: text between blank lines) moves back to that
    document's start, so no poem is half learnt and half used to judge. It never moves
    forward: what a model trained before this rule held out stays held out.

    >>> poems = "\\n\\n".join(["a" * 2000, "b" * 10, "c" * 220])   # 90 % falls inside the b's
    >>> [len(part) for part in split_text(poems)]                 # 2,000 a's and a blank line
    [2002, 232]
    """
    cut = int(len(text) * (1 - val_fraction))
    blank = text.rfind("\n\n", 0, cut)
    # only a short way back (at most 1 % of the text: one poem, one paragraph)
    if blank > 0 and 0 <= cut - (blank + 2) <= len(text) // 100:
        cut = blank + 2
    return text[:cut], text[cut:]


def vocabulary_text(text: str, tokenizer_kind: str, min_count: int = 1,
                    val_fraction: float = 0.1) -> str:
    """The text a run's tokenizer learns its vocabulary from. Counting characters (a char
    tokenizer with ``min_count`` > 1) looks at the training part only: a character seen only
    in the validation part must not get a token whose embedding no step ever trains. Without
    counting, the whole text, as every model trained before min_count existed had.

    >>> vocabulary_text("abcdefghij", "char", min_count=2, val_fraction=0.2)
    'abcdefgh'
    """
    if tokenizer_kind == "char" and min_count > 1:
        return split_text(text, val_fraction)[0]
    return text


class TokenStream:
    """A long 1-D tensor of token ids from which random training windows are cut."""

    def __init__(self, ids, block_size: int):
        self.data = torch.as_tensor(ids, dtype=torch.long)
        self.block_size = block_size
        if len(self.data) < block_size + 1:
            raise CorpusError("text_too_few_tokens", tokens=len(self.data), block=block_size,
                              needed=block_size + 1)
        # every window start at once, so a batch is one gather instead of a Python loop
        self._offsets = torch.arange(block_size + 1)

    def batch(self, batch_size: int, generator: torch.Generator, device="cpu"):
        """x (B, T) and y (B, T) where y is x shifted one token to the left."""
        starts = torch.randint(len(self.data) - self.block_size, (batch_size,),
                               generator=generator)
        windows = self.data[starts[:, None] + self._offsets]       # (B, T+1)
        x, y = windows[:, :-1], windows[:, 1:]
        if str(device) != "cpu":
            x, y = x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
        return x, y
