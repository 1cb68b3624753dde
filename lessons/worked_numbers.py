"""Every number the source document works out by hand: what it printed, our value, one verdict.

The document is the five Chinese blog posts in ``shared/seeds/``. This module is the one place
its worked numbers live. A row (``WorkedNumber``) keeps the digits the document printed, exactly
as text; our value, computed by our own ``lessons`` functions; the section it comes from; what
the document starts from (``inputs``) and the extra facts a page shows about it (``facts``).
``judge`` gives every row one verdict of one vocabulary, and every page and notebook shows it
with the same icon and words (``row.label(lang)``):

- right:              the printed value is ours;
- right_to_rounding:  it is ours rounded to the digits it shows (within half a unit of its last
                      digit: "0.33" stands for anything in [0.325, 0.335]);
- wrong:              anything else -- the row's explanation says what kind of error it is;
- not_stated:         the document sets the example up but never gives the number.

What a row computes and why it gets its verdict are lesson text, in
``lessons/prose/<lang>/worked_numbers.md`` (keys ``<row id>_what`` and ``<row id>_why``).

>>> row = worked_number("embedding")
>>> row.document, row.ours, row.verdict, row.label("en")
(('0', '1', '1'), (0.0, 1.0, 0.0), 'wrong', '✗ wrong')
>>> worked_number("attention_weights").label("zh")
'≈ 四舍五入后正确'
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import Callable, Mapping, Sequence

import torch.nn as nn

from lessons import errata
from lessons.concepts.embeddings.compute import matrix_times_vector
from lessons.concepts.evaluation.compute import (bleu, class_scores, classification_metrics,
                                                 perplexity_of_probabilities)
from lessons.concepts.forward_pass.compute import document_next_word, next_word_done_right
from lessons.concepts.softmax.compute import (cross_entropy_of_probabilities, entropy,
                                              mean_squared_error, softmax)
from lessons.engine.tokenizers import WordTokenizer
from lessons.i18n import t

# ---- the document's examples, as it sets them up ----------------------------------------------
EMBEDDING_MATRIX = ((0, 1, 0), (1, 0, 1), (0, 1, 0))   # 004 §3.3.1 W (symmetric)
HELLO_ONE_HOT = (1, 0, 0)                               # "hello" has index 1, counted from 1
LAYER_WEIGHTS = ((1, 0, 1), (0, 1, 0), (1, 1, 0))       # 004 §3.3.2 W
LAYER_BIAS = (1, 1, 1)                                  # 004 §3.3.2 b
ATTENTION_MATRIX = ((0, 1, 0), (1, 0, 1), (0, 1, 0))    # 004 §3.3.3 W_a
HIDDEN_STATE = (0, 1, 1)                                # 004 §3.3.3 h_t
TARGET = (0.7, 0.2, 0.1)                                # 004 §3.3.4 y (true)
PREDICTION = (0.5, 0.3, 0.2)                            # 004 §3.3.4 ŷ (predicted)
CAT_SENTENCE = "The cat sat on the mat"                 # 003 §4.3
# 000: Transformer(d_model=512, nhead=8, num_layers=6, dim_feedforward=2048, num_classes=10)
TRANSFORMER = dict(d_model=512, nhead=8, num_layers=6, dim_feedforward=2048)
MLP_WIDTHS = (3, 128, 64, 32, 16)                       # 004 §4.2: Dense 128-64-32-16 on 3 inputs
# 000 step 5 and 001 §3.3 name metrics but work none out; these toy cases are ours.
# Ten messages, 1 = spam: four spam, the filter flags five, three of them spam.
SPAM_TRUE = (1, 1, 1, 1, 0, 0, 0, 0, 0, 0)
SPAM_PREDICTED = (1, 1, 1, 0, 1, 1, 0, 0, 0, 0)
TRUTH_PROBABILITIES = (0.5, 0.25, 0.5, 0.125)            # what a model gave each true next word
BLEU_REFERENCE = "the cat sat on the mat"               # 猫坐在垫子上, translated by a person
BLEU_CANDIDATE = "the cat sat on a mat"                 # ... and by a machine

# ---- what it printed, digit for digit ---------------------------------------------------------
PRINTED_EMBEDDING = ("0", "1", "1")                     # 004 §3.3.1 embed_1 = W · x
PRINTED_PRE_ACTIVATION = ("1", "2", "2")                # 004 §3.3.2 inside softmax(...)
PRINTED_OUTPUT = ("0.25", "0.5", "0.25")                # 004 §3.3.2 output_j
PRINTED_SCORES = ("1", "1", "1")                        # 004 §3.3.3 scores_j
PRINTED_ATTENTION = ("0.33", "0.33", "0.33")            # 004 §3.3.3 attention_j
PRINTED_MSE = ("0.0667",)                               # 004 §3.3.4
PRINTED_CROSS_ENTROPY = ("0.342",)                      # 004 §3.3.4, a log of no stated base
PRINTED_CAT_WORDS = ("6",)                              # 003 §4.3 "六个单词"


# ---- one verdict vocabulary -------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    key: str       # right | right_to_rounding | wrong | not_stated
    icon: str      # plain symbols, not emoji: they draw in every font, also in a dataframe's canvas
    colour: str    # background of its cell in a table
    tone: str      # how a page frames it: st.success, st.error or st.info

    def label(self, lang: str = "en") -> str:
        """Icon and translated word, the same on every page: '✗ wrong', '✗ 错误'."""
        return f"{self.icon} {t('worked_numbers.verdict_' + self.key, lang)}"


VERDICTS = {v.key: v for v in (Verdict("right", "✓", "#d9f2d9", "success"),
                               Verdict("right_to_rounding", "≈", "#fff3c4", "success"),
                               Verdict("wrong", "✗", "#f9d6d5", "error"),
                               Verdict("not_stated", "–", "#eeeeee", "info"))}
VERDICT_COLOURS = {v.icon: v.colour for v in VERDICTS.values()}   # a table cell starts with its icon


def judge(document: Sequence[str] | None, ours: Sequence[float]) -> str:
    """The verdict on the document's printed digits against our exact values.

    >>> judge(["0.33", "0.33", "0.33"], [1/3, 1/3, 1/3])
    'right_to_rounding'
    >>> judge(["0", "1", "1"], [0.0, 1.0, 0.0]), judge(["0.0667"], [0.02]), judge(None, [6.0])
    ('wrong', 'wrong', 'not_stated')
    >>> judge(["0.02"], [0.1**2 * 2])      # 0.020000000000000004 is 0.02 up to float noise
    'right'
    """
    if document is None:
        return "not_stated"
    if len(document) != len(ours):
        return "wrong"
    printed = [Decimal(d) for d in document]
    if all(math.isclose(float(p), o, rel_tol=1e-12, abs_tol=1e-12) for p, o in zip(printed, ours)):
        return "right"
    if all(abs(float(p) - o) <= _half_unit(p) + 1e-12 for p, o in zip(printed, ours)):
        return "right_to_rounding"
    return "wrong"


def _half_unit(printed: Decimal) -> float:
    """Half a unit of the last printed digit: '0.33' -> 0.005, '6' -> 0.5."""
    return 0.5 * 10.0 ** printed.as_tuple().exponent


def worst_verdict(rows) -> str:
    """The verdict of several rows shown together: one wrong number makes the example wrong.

    >>> worst_verdict([worked_number("attention_scores"), worked_number("attention_weights")])
    'right_to_rounding'
    """
    order = ("right", "right_to_rounding", "not_stated", "wrong")
    return max((row.verdict for row in rows), key=order.index)


# ---- one row ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkedNumber:
    id: str                            # also names its prose: worked_numbers.<id>_what / _why
    source: str                        # post and section of the document: "004 §3.3.1"
    document: tuple[str, ...] | None   # the digits it printed; None: it never gives the number
    ours: tuple[float, ...]            # computed by our own lessons functions
    decimals: int = 4                  # how many decimals to show ours with
    inputs: Mapping = field(default_factory=dict)   # what the document starts from: {"W": ...}
    facts: Mapping = field(default_factory=dict)    # what else a page shows about it

    def __post_init__(self):   # rows are computed once and shared: keep them read-only
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))
        object.__setattr__(self, "facts", MappingProxyType(dict(self.facts)))

    @property
    def verdict(self) -> str:
        return judge(self.document, self.ours)

    @property
    def tone(self) -> str:
        return VERDICTS[self.verdict].tone

    def label(self, lang: str = "en") -> str:
        return VERDICTS[self.verdict].label(lang)

    @property
    def differing_entries(self) -> tuple[int, ...]:
        """0-based positions where the printed digits are not ours, not even rounded."""
        if self.document is None:
            return ()
        return tuple(i for i, (d, o) in enumerate(zip(self.document, self.ours))
                     if judge([d], [o]) == "wrong")

    @property
    def differences(self) -> tuple[float, ...]:
        """|printed - ours|, entry by entry."""
        return tuple(abs(float(d) - o) for d, o in zip(self.document or (), self.ours))

    @property
    def distance(self) -> float | None:
        """Euclidean distance between the printed vector and ours (None: nothing printed)."""
        return None if self.document is None else math.sqrt(sum(d * d for d in self.differences))

    def what(self, lang: str = "en") -> str:
        return t(f"worked_numbers.{self.id}_what", lang)

    def why(self, lang: str = "en") -> str:
        """Why the verdict; where an erratum qualifies the row (the number right, the idea
        behind it not), that erratum's caveat follows (lessons/errata.py)."""
        caveats = [t("errata.caveat", lang, fix=e.fix(lang)) for e in errata.for_worked_number(self.id)]
        return " ".join([t(f"worked_numbers.{self.id}_why", lang), *caveats])

    def document_text(self, lang: str = "en") -> str:
        """The printed digits as the document wrote them: '[0.33, 0.33, 0.33]', '0.342'."""
        if self.document is None:
            return t("worked_numbers.not_stated", lang)
        return self.document[0] if len(self.document) == 1 else "[" + ", ".join(self.document) + "]"

    def ours_text(self) -> str:
        return format_values(self.ours, self.decimals)

    def describe(self, lang: str = "en") -> str:
        """Three lines for a notebook: where and what; the document's value, ours, the verdict;
        why.

        >>> print(worked_number("cat_words").describe("en").splitlines()[1])
          the document says: 6 · our value: 6 · verdict: ✓ right
        """
        values = t("worked_numbers.describe", lang, document=self.document_text(lang),
                   ours=self.ours_text(), verdict=self.label(lang))
        return f"{self.source} · {self.what(lang)}\n  {values}\n  {self.why(lang)}"


def format_values(values: Sequence[float], decimals: int = 4) -> str:
    """[0.1554, 0.4223] -> '[0.1554, 0.4223]'; a single value without brackets; 44140544 ->
    '44,140,544'.

    >>> format_values([1/3, 2/3], 3), format_values([44140544.0], 0)
    ('[0.333, 0.667]', '44,140,544')
    """
    shown = [f"{v:,.0f}" if decimals == 0 else f"{v:.{decimals}f}" for v in values]
    return shown[0] if len(shown) == 1 else "[" + ", ".join(shown) + "]"


# ---- the rows, each computed by our own functions -----------------------------------------------

def _product(matrix, vector) -> tuple[float, ...]:
    """W · v as plain numbers, from the same per-entry steps the embeddings page shows."""
    return tuple(float(step.total) for step in matrix_times_vector(matrix, vector))


def _plus(a, b) -> tuple[float, ...]:
    return tuple(float(x + y) for x, y in zip(a, b, strict=True))


def _as_numbers(printed: Sequence[str]) -> tuple[float, ...]:
    return tuple(float(d) for d in printed)


def _embedding() -> WorkedNumber:
    steps = matrix_times_vector(EMBEDDING_MATRIX, HELLO_ONE_HOT)
    columns = {tuple(row[j] for row in EMBEDDING_MATRIX) for j in range(len(EMBEDDING_MATRIX[0]))}
    rows = {tuple(row) for row in EMBEDDING_MATRIX}
    printed = tuple(int(d) for d in PRINTED_EMBEDDING)
    return WorkedNumber("embedding", "004 §3.3.1", PRINTED_EMBEDDING,
                        tuple(float(step.total) for step in steps), 0,
                        inputs={"W": EMBEDDING_MATRIX, "x": HELLO_ONE_HOT},
                        # could any lookup, by row or column, give the printed vector?
                        facts={"steps": tuple(steps),
                               "printed_is_a_column_or_row": printed in columns | rows})


def _pre_activation(row_id: str, embedding) -> WorkedNumber:
    return WorkedNumber(row_id, "004 §3.3.2", PRINTED_PRE_ACTIVATION,
                        _plus(_product(LAYER_WEIGHTS, embedding), LAYER_BIAS), 0,
                        inputs={"W": LAYER_WEIGHTS, "embed_1": tuple(embedding), "b": LAYER_BIAS})


def _output_probs(row_id: str, logits) -> WorkedNumber:
    return WorkedNumber(row_id, "004 §3.3.2", PRINTED_OUTPUT, tuple(softmax(logits).tolist()),
                        inputs={"logits": tuple(logits)})


def _attention_scores() -> WorkedNumber:
    steps = matrix_times_vector(ATTENTION_MATRIX, HIDDEN_STATE)
    return WorkedNumber("attention_scores", "004 §3.3.3", PRINTED_SCORES,
                        tuple(float(step.total) for step in steps), 0,
                        inputs={"W_a": ATTENTION_MATRIX, "h_t": HIDDEN_STATE},
                        facts={"steps": tuple(steps)})


def _attention_weights() -> WorkedNumber:
    scores = worked_number("attention_scores").ours
    return WorkedNumber("attention_weights", "004 §3.3.3", PRINTED_ATTENTION,
                        tuple(softmax(scores).tolist()), inputs={"scores": scores})


def _mse() -> WorkedNumber:
    return WorkedNumber("mse", "004 §3.3.4", PRINTED_MSE,
                        (mean_squared_error(TARGET, PREDICTION).item(),),
                        inputs={"y": TARGET, "y_hat": PREDICTION})


def _cross_entropy(row_id: str, base: str) -> WorkedNumber:
    """base: "nats" (ln), "bits" (log2) or "bans" (log10); the document names none."""
    nats = cross_entropy_of_probabilities(TARGET, PREDICTION).item()
    return WorkedNumber(row_id, "004 §3.3.4", PRINTED_CROSS_ENTROPY,
                        (cross_entropy_of_probabilities(TARGET, PREDICTION, base).item(),),
                        inputs={"y": TARGET, "y_hat": PREDICTION},
                        # cross-entropy is never below the entropy of y; and which base
                        # b would make CE = 0.342: ln(b) = CE in nats / 0.342
                        facts={"entropy": entropy(TARGET, base).item(),
                               "base_giving_the_document": math.exp(nats / float(PRINTED_CROSS_ENTROPY[0]))})


def _cat_words() -> WorkedNumber:
    words = WordTokenizer.train(CAT_SENTENCE).encode(CAT_SENTENCE)   # the whitespace tokenizer
    return WorkedNumber("cat_words", "003 §4.3", PRINTED_CAT_WORDS, (float(len(words)),), 0,
                        inputs={"sentence": CAT_SENTENCE}, facts={"characters": len(CAT_SENTENCE)})


def _next_word(row_id: str) -> WorkedNumber:
    """003 §4.3: the document's next-word recipe as written, or done the way a GPT does it."""
    ours = document_next_word() if row_id == "next_word_document" else next_word_done_right()
    return WorkedNumber(row_id, "003 §4.3", None, ours, inputs={"sentence": CAT_SENTENCE},
                        facts={"outputs": len(ours), "vocabulary": len(CAT_SENTENCE.split())})


def transformer_parameter_counts(d_model=512, nhead=8, num_layers=6, dim_feedforward=2048) -> dict[str, int]:
    """Parameters of ``torch.nn.Transformer`` with the document's settings (encoder and decoder
    each ``num_layers`` deep), and of its encoder half alone. Embeddings and the output layer are
    not part of nn.Transformer, so they are not counted.

    >>> transformer_parameter_counts(d_model=8, nhead=2, num_layers=1, dim_feedforward=16)["encoder"]
    616
    """
    # on the "meta" device the parameters have shapes but no storage: counting 44 M of them
    # costs nothing. batch_first changes no parameter; it only avoids a warning.
    model = nn.Transformer(d_model=d_model, nhead=nhead, num_encoder_layers=num_layers,
                           num_decoder_layers=num_layers, dim_feedforward=dim_feedforward,
                           batch_first=True, device="meta")
    count = lambda module: sum(p.numel() for p in module.parameters())   # noqa: E731
    return {"total": count(model), "encoder": count(model.encoder), "decoder": count(model.decoder)}


def mlp_parameter_count(widths=MLP_WIDTHS) -> int:
    """A stack of fully connected layers (Keras Dense == torch nn.Linear: weights + bias).

    >>> mlp_parameter_count([3, 2])      # 3·2 weights + 2 biases
    8
    """
    layers = [nn.Linear(a, b, device="meta") for a, b in zip(widths[:-1], widths[1:])]
    return sum(p.numel() for layer in layers for p in layer.parameters())


def _parameters(row_id: str, part: str) -> WorkedNumber:
    return WorkedNumber(row_id, "000", None, (float(transformer_parameter_counts(**TRANSFORMER)[part]),),
                        0, inputs=TRANSFORMER)


def _spam_metrics():
    return classification_metrics(list(SPAM_TRUE), list(SPAM_PREDICTED), n_classes=2)


def _spam_row(row_id: str, value: float) -> WorkedNumber:
    confusion = _spam_metrics().confusion
    return WorkedNumber(row_id, "000 §5", None, (value,), 4,
                        inputs={"true": SPAM_TRUE, "predicted": SPAM_PREDICTED},
                        facts={"confusion": confusion,
                               "spam_precision": class_scores(confusion, 1).precision})


def _perplexity() -> WorkedNumber:
    return WorkedNumber("perplexity_toy", "001 §3.3", None,
                        (perplexity_of_probabilities(list(TRUTH_PROBABILITIES)),), 4,
                        inputs={"p_true": TRUTH_PROBABILITIES})


def _bleu() -> WorkedNumber:
    result = bleu([BLEU_CANDIDATE], [BLEU_REFERENCE])
    return WorkedNumber("bleu_toy", "001 §3.3", None, (result.score,), 4,
                        inputs={"reference": BLEU_REFERENCE, "candidate": BLEU_CANDIDATE},
                        facts={"precisions": result.precisions,
                               "brevity_penalty": result.brevity_penalty})


# id -> how to compute that row, in the order the document works them out
ROWS: dict[str, Callable[[], WorkedNumber]] = {
    "embedding": _embedding,
    "pre_activation": lambda: _pre_activation("pre_activation", _as_numbers(PRINTED_EMBEDDING)),
    "pre_activation_fixed": lambda: _pre_activation("pre_activation_fixed", worked_number("embedding").ours),
    "output_probs": lambda: _output_probs("output_probs", _as_numbers(PRINTED_PRE_ACTIVATION)),
    "output_probs_chain": lambda: _output_probs("output_probs_chain", worked_number("pre_activation").ours),
    "attention_scores": _attention_scores,
    "attention_weights": _attention_weights,
    "mse": _mse,
    "ce_nats": lambda: _cross_entropy("ce_nats", "nats"),
    "ce_bits": lambda: _cross_entropy("ce_bits", "bits"),
    "ce_log10": lambda: _cross_entropy("ce_log10", "bans"),
    "cat_words": _cat_words,
    "next_word_document": lambda: _next_word("next_word_document"),
    "next_word_fixed": lambda: _next_word("next_word_fixed"),
    "transformer_params": lambda: _parameters("transformer_params", "total"),
    "encoder_params": lambda: _parameters("encoder_params", "encoder"),
    "mlp_params": lambda: WorkedNumber("mlp_params", "004 §4.2", None, (float(mlp_parameter_count()),), 0,
                                       inputs={"widths": MLP_WIDTHS}),
    "accuracy_toy": lambda: _spam_row("accuracy_toy", _spam_metrics().accuracy),
    "recall_toy": lambda: _spam_row("recall_toy", _spam_metrics().per_class[1].recall),
    "f1_toy": lambda: _spam_row("f1_toy", _spam_metrics().per_class[1].f1),
    "perplexity_toy": _perplexity,
    "bleu_toy": _bleu,
}


@lru_cache(maxsize=None)
def worked_number(row_id: str) -> WorkedNumber:
    """One row by id, computed the first time it is asked for.

    >>> worked_number("mse").document, round(worked_number("mse").ours[0], 12), worked_number("mse").verdict
    (('0.0667',), 0.02, 'wrong')
    """
    if row_id not in ROWS:
        raise KeyError(f"no worked number {row_id!r}; the rows are {list(ROWS)}")
    return ROWS[row_id]()


def worked_numbers() -> list[WorkedNumber]:
    """Every row, in the order the document works them out."""
    return [worked_number(row_id) for row_id in ROWS]


def errors_summary(lang: str = "en") -> str:
    """Plainly, where the document got a number wrong: a count, then one line per wrong row.

    >>> print(errors_summary("en").splitlines()[1])
      ✗ wrong · 004 §3.3.1 · Embedding of "hello": W·x with x the one-hot vector [1, 0, 0]
    """
    rows = worked_numbers()
    wrong = [row for row in rows if row.verdict == "wrong"]
    printed = sum(row.document is not None for row in rows)
    lines = [t("worked_numbers.errors_count", lang, rows=len(rows), printed=printed, wrong=len(wrong))]
    lines += [f"  {row.label(lang)} · {row.source} · {row.what(lang)}" for row in wrong]
    return "\n".join(lines)


def worked_numbers_table(lang: str = "en") -> list[dict[str, str]]:
    """The rows as plain dicts of strings, column names translated: ready for a dataframe."""
    col = lambda key: t(f"worked_numbers.col_{key}", lang)   # noqa: E731
    return [{col("what"): row.what(lang), col("source"): row.source,
             col("document"): row.document_text(lang), col("ours"): row.ours_text(),
             col("verdict"): row.label(lang), col("why"): row.why(lang)}
            for row in worked_numbers()]
