"""Every number the source document works out by hand, recomputed with our own code.

The document is the five Chinese blog posts in ``shared/seeds/``. For each number we keep what
the document printed (as text, exactly its digits), compute our value, and let ``judge`` decide:

- right:              equal;
- right to rounding:  our value, rounded to as many decimals as the document printed, is equal;
- wrong:              anything else;
- not stated:         the document sets the example up but never gives the number.

What each row computes and why the document slipped are lesson text, in the prose files
(keys ``wn_<row id>_what`` and ``wn_<row id>_why``), so the table reads in both languages.

>>> judge(["0.33", "0.33", "0.33"], [1/3, 1/3, 1/3])
'right_to_rounding'
>>> judge(["0.0667"], [0.02])
'wrong'
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from lessons.i18n import t
from lessons.concepts.softmax.compute import cross_entropy_of_probabilities, mean_squared_error, softmax

# plain symbols, not emoji: they draw in every font, also in the canvas of a dataframe
VERDICT_ICONS = {"right": "✓", "right_to_rounding": "≈", "wrong": "✗", "not_stated": "–"}
VERDICT_COLOURS = {"✓": "#d9f2d9", "≈": "#fff3c4", "✗": "#f9d6d5", "–": "#eeeeee"}

# ---- the document's examples, as it sets them up (004, section 3.3) -------------------------
EMBEDDING_MATRIX = [[0, 1, 0], [1, 0, 1], [0, 1, 0]]     # 3.3.1 W (symmetric)
HELLO_ONE_HOT = [1, 0, 0]                                 # "hello" has index 1, counted from 1
DOCUMENT_EMBEDDING = [0, 1, 1]                            # what 3.3.1 prints for W·x
LAYER_WEIGHTS = [[1, 0, 1], [0, 1, 0], [1, 1, 0]]         # 3.3.2 W
LAYER_BIAS = [1, 1, 1]                                    # 3.3.2 b
DOCUMENT_PRE_ACTIVATION = [1, 2, 2]                       # what 3.3.2 prints inside softmax
ATTENTION_MATRIX = [[0, 1, 0], [1, 0, 1], [0, 1, 0]]      # 3.3.3 W_a
HIDDEN_STATE = [0, 1, 1]                                  # 3.3.3 h_t
TARGET = [0.7, 0.2, 0.1]                                  # 3.3.4 y (true)
PREDICTION = [0.5, 0.3, 0.2]                              # 3.3.4 y-hat (predicted)
CAT_SENTENCE = "The cat sat on the mat"                   # 003, section 4.3
# 000: Transformer(d_model=512, nhead=8, num_layers=6, dim_feedforward=2048, num_classes=10)
TRANSFORMER = dict(d_model=512, nhead=8, num_layers=6, dim_feedforward=2048)
MLP_WIDTHS = [3, 128, 64, 32, 16]                         # 004 section 4.2: Dense 128-64-32-16


@dataclass
class WorkedNumber:
    id: str
    source: str                  # file and section of the document
    document: list[str] | None   # the digits the document printed; None: not stated
    ours: list[float]            # computed by our code
    decimals: int = 4            # how many decimals to show ours with

    @property
    def verdict(self) -> str:
        return judge(self.document, self.ours)


def judge(document: list[str] | None, ours: list[float]) -> str:
    """Compare the document's printed digits with our exact values (see the module doc)."""
    if document is None:
        return "not_stated"
    if len(document) != len(ours):
        return "wrong"
    printed = [float(d) for d in document]
    if all(abs(p - o) < 1e-9 for p, o in zip(printed, ours)):
        return "right"
    places = [len(d.split(".")[1]) if "." in d else 0 for d in document]
    if all(abs(p - round(o, n)) < 1e-9 for p, o, n in zip(printed, ours, places)):
        return "right_to_rounding"
    return "wrong"


def matrix_times_vector(matrix, vector) -> list[float]:
    """W·x with torch; a one-hot x picks one column of W.

    >>> matrix_times_vector([[1, 2], [3, 4]], [1, 0])
    [1.0, 3.0]
    """
    return (torch.tensor(matrix, dtype=torch.float64) @ torch.tensor(vector, dtype=torch.float64)).tolist()


def transformer_parameter_counts(d_model=512, nhead=8, num_layers=6, dim_feedforward=2048) -> dict[str, int]:
    """Parameters of ``torch.nn.Transformer`` with the document's settings (encoder and decoder
    each ``num_layers`` deep), and of its encoder half alone. Embeddings and the output layer are
    not part of nn.Transformer, so they are not counted."""
    torch.manual_seed(0)     # the count does not depend on the values; this only keeps it tidy
    model = nn.Transformer(d_model=d_model, nhead=nhead, num_encoder_layers=num_layers,
                           num_decoder_layers=num_layers, dim_feedforward=dim_feedforward,
                           batch_first=True)   # batch_first changes no parameter; it avoids a warning
    count = lambda m: sum(p.numel() for p in m.parameters())
    return {"total": count(model), "encoder": count(model.encoder), "decoder": count(model.decoder)}


def mlp_parameter_count(widths=MLP_WIDTHS) -> int:
    """A stack of fully connected layers (Keras Dense == torch nn.Linear: weights + bias)."""
    layers = [nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:])]
    return sum(p.numel() for layer in layers for p in layer.parameters())


def worked_numbers() -> list[WorkedNumber]:
    """All rows, each computed here by our own functions."""
    embedding = matrix_times_vector(EMBEDDING_MATRIX, HELLO_ONE_HOT)
    pre_from_document = [a + b for a, b in zip(matrix_times_vector(LAYER_WEIGHTS, DOCUMENT_EMBEDDING), LAYER_BIAS)]
    pre_from_correct = [a + b for a, b in zip(matrix_times_vector(LAYER_WEIGHTS, embedding), LAYER_BIAS)]
    scores = matrix_times_vector(ATTENTION_MATRIX, HIDDEN_STATE)
    counts = transformer_parameter_counts(**TRANSFORMER)
    ce = {base: cross_entropy_of_probabilities(TARGET, PREDICTION, base).item()
          for base in ("nats", "bits", "bans")}
    printed_output = ["0.25", "0.5", "0.25"]
    return [
        WorkedNumber("embedding", "004 §3.3.1", ["0", "1", "1"], embedding, 0),
        WorkedNumber("pre_activation", "004 §3.3.2", ["1", "2", "2"], pre_from_document, 0),
        WorkedNumber("pre_activation_fixed", "004 §3.3.2", ["1", "2", "2"], pre_from_correct, 0),
        WorkedNumber("output_probs", "004 §3.3.2", printed_output,
                     softmax(DOCUMENT_PRE_ACTIVATION).tolist()),
        WorkedNumber("output_probs_chain", "004 §3.3.2", printed_output,
                     softmax(pre_from_document).tolist()),
        WorkedNumber("attention_scores", "004 §3.3.3", ["1", "1", "1"], scores, 0),
        WorkedNumber("attention_weights", "004 §3.3.3", ["0.33", "0.33", "0.33"],
                     softmax(scores).tolist()),
        WorkedNumber("mse", "004 §3.3.4", ["0.0667"], [mean_squared_error(TARGET, PREDICTION).item()]),
        WorkedNumber("ce_nats", "004 §3.3.4", ["0.342"], [ce["nats"]]),
        WorkedNumber("ce_bits", "004 §3.3.4", ["0.342"], [ce["bits"]]),
        WorkedNumber("ce_log10", "004 §3.3.4", ["0.342"], [ce["bans"]]),
        WorkedNumber("cat_words", "003 §4.3", ["6"], [len(CAT_SENTENCE.split())], 0),
        WorkedNumber("transformer_params", "000", None, [counts["total"]], 0),
        WorkedNumber("encoder_params", "000", None, [counts["encoder"]], 0),
        WorkedNumber("mlp_params", "004 §4.2", None, [mlp_parameter_count()], 0),
    ]


def format_values(values: list[float] | None, decimals: int = 4) -> str:
    """[0.1554, 0.4223] -> '[0.1554, 0.4223]'; a single value without brackets; 44140544 ->
    '44,140,544'."""
    if values is None:
        return "—"
    shown = [f"{v:,.0f}" if decimals == 0 else f"{v:.{decimals}f}" for v in values]
    return shown[0] if len(shown) == 1 else "[" + ", ".join(shown) + "]"


def worked_numbers_table(lang: str = "en") -> list[dict[str, str]]:
    """The rows as plain dicts of strings, column names translated: ready for a dataframe."""
    rows = []
    for row in worked_numbers():
        document = None if row.document is None else (
            row.document[0] if len(row.document) == 1 else "[" + ", ".join(row.document) + "]")
        rows.append({
            t("softmax.col_what", lang): t(f"softmax.wn_{row.id}_what", lang),
            t("softmax.col_source", lang): row.source,
            t("softmax.col_document", lang): document or t("softmax.not_stated", lang),
            t("softmax.col_ours", lang): format_values(row.ours, row.decimals),
            t("softmax.col_verdict", lang): f"{VERDICT_ICONS[row.verdict]} "
                                            f"{t('softmax.verdict_' + row.verdict, lang)}",
            t("softmax.col_why", lang): t(f"softmax.wn_{row.id}_why", lang),
        })
    return rows
