"""The training lesson's numbers: a run's metrics as CSV, a model's size and a run's duration
before they exist, the vocabulary a run will have, and its numbers as the page writes them.

>>> metrics_csv([{"step": 10, "train_loss": 2.5, "val_loss": None}]).splitlines()[1]
'10,2.5,,,,,'
"""
from __future__ import annotations

import csv
import math
import io
from dataclasses import dataclass, replace

import torch

from lessons.engine.config import ModelConfig, TrainConfig
from lessons.engine.corpus import vocabulary_text
from lessons.engine.model import GPT
from lessons.engine.tokenizers import train_tokenizer
from lessons.engine.training import flops_per_step
from lessons.i18n import t


METRIC_COLUMNS = ["step", "train_loss", "val_loss", "lr", "grad_norm", "tokens_per_s", "elapsed_s"]


def metrics_csv(metrics: list[dict]) -> str:
    """Metrics as CSV text, one row per logged step (empty cells where not measured)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=METRIC_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in metrics:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in METRIC_COLUMNS})
    return out.getvalue()


def count_parameters(model_config: ModelConfig) -> int:
    """Parameters of a model with this config, without allocating its weights."""
    with torch.device("meta"):
        return GPT(model_config).num_parameters()


def last_val_loss(metrics: list[dict]) -> float | None:
    """The validation loss of the last row that measured one, or None.

    >>> last_val_loss([{"val_loss": 2.0}, {"val_loss": None}, {"train_loss": 1.0}])
    2.0
    >>> last_val_loss([]) is None
    True
    """
    measured = [row["val_loss"] for row in metrics if row.get("val_loss") is not None]
    return measured[-1] if measured else None


def vocabulary_size(tokenizer_kind: str, text: str, bpe_vocab_size: int, min_count: int = 1) -> int:
    """The vocabulary a run on ``text`` will have, asked of the real tokenizer (with
    ``min_count``, trained on the part of the text the run's tokenizer counts).

    A character tokenizer is trained on the text (cheap: it collects the characters); a BPE
    run gets the size it asks for: training BPE here would cost seconds, and the requested size
    is what the model is built for unless the text is too small to learn that many merges.

    >>> vocabulary_size("char", "abca", 512) == train_tokenizer("char", "abca").vocab_size
    True
    >>> vocabulary_size("bpe", "abca", 512)
    512
    """
    if tokenizer_kind == "bpe":
        return bpe_vocab_size
    return train_tokenizer(tokenizer_kind, vocabulary_text(text, tokenizer_kind, min_count),
                           bpe_vocab_size, min_count).vocab_size


@dataclass(frozen=True)
class RunEstimate:
    parameters: int
    seconds_per_step: float
    seconds_total: float


def run_estimate(model_config: ModelConfig, train_config: TrainConfig, vocab_size: int,
                 flops_per_second: float) -> RunEstimate:
    """Size and duration of a run before it starts: the model's parameters with this vocabulary,
    and flops_per_step / the machine's measured speed per step; the whole run adds its
    evaluations (eval_iters forward passes every eval_interval steps and at the end; a forward
    pass is about a third of a training step's work).

    >>> from lessons.engine.config import preset
    >>> model, train = preset("tiny", max_iters=10, eval_interval=5, eval_iters=3)
    >>> est = run_estimate(model, train, 65, flops_per_step(replace(model, vocab_size=65),
    ...                                                        train.batch_size))
    >>> est.seconds_per_step, est.seconds_total     # a machine doing one step a second
    (1.0, 12.0)
    """
    sized = replace(model_config, vocab_size=vocab_size)
    seconds = flops_per_step(sized, train_config.batch_size) / flops_per_second
    evaluations = -(-train_config.max_iters // train_config.eval_interval)   # ceil: the last too
    eval_steps = evaluations * train_config.eval_iters / 3
    return RunEstimate(count_parameters(sized), seconds,
                       seconds * (train_config.max_iters + eval_steps))


# ---- numbers as the training page writes them ---------------------------------------------

def duration_text(seconds: float | None, lang: str = "en") -> str:
    """A duration for a metric or a progress bar: seconds up to two minutes, then minutes, with
    the units in the page's language.

    Under half a second reads "< 1 s", not "0 s" (a run never takes no time).

    >>> duration_text(42.4), duration_text(150), duration_text(0.2), duration_text(None)
    ('42 s', '2.5 min', '< 1 s', '–')
    >>> duration_text(42.4, "zh"), duration_text(150, "zh")
    ('42 秒', '2.5 分钟')
    """
    if seconds is None:
        return "–"
    if seconds < 0.5:
        return t("training.duration_under_second", lang)
    if seconds < 120:
        return t("training.duration_seconds", lang, n=f"{seconds:.0f}")
    return t("training.duration_minutes", lang, n=f"{seconds / 60:.1f}")


def metric_text(value: float | None, digits: int = 3) -> str:
    """A metric with thousands separators, or '–' when it is not measured yet or not finite.

    >>> metric_text(2.34567), metric_text(12345.6, 0), metric_text(None), metric_text(float("nan"))
    ('2.346', '12,346', '–', '–')
    """
    return "–" if value is None or not math.isfinite(value) else f"{value:,.{digits}f}"
