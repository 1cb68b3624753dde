"""Every number the source document works out: our value, checked here by hand or with NumPy
and torch (independently of lessons/), and the verdict on the document's own."""
import math

import numpy as np
import pytest
import torch

from lessons import worked_numbers as wx

# id -> (our value, checked by hand or with NumPy here, independently of lessons/, and verdict)
W = np.array(wx.EMBEDDING_MATRIX, float)


Y, Y_HAT = np.array([0.7, 0.2, 0.1]), np.array([0.5, 0.3, 0.2])


CE_NATS = float(-(Y * np.log(Y_HAT)).sum())


def _softmax(v):
    e = np.exp(v - v.max())
    return e / e.sum()


# 003 §4.3 on the attention lesson's word vectors: rows of attention weights softmax(x x^T)
X = np.array([[0.2, 0.0, 2.0], [2.0, 0.2, 0.0], [0.2, 2.0, 0.0], [0.0, 0.6, 1.9],
              [0.2, 0.0, 2.0], [1.9, 0.0, 0.6]])
A = np.array([_softmax(row) for row in X @ X.T])
# the document's: softmax(ReLU(y_1)); ours: from the last word, h = x_6 + y_6, and the FFN's
# W_2 ReLU(W_1 h) with hidden pairs (+h, -h) and W_2 = [I, -I] / 2 is 0.5 (ReLU(h) - ReLU(-h))
# = h / 2, so z = 1.5 h and the probabilities are softmax(X z) over the six words
H = X[5] + A[5] @ X
NEXT_DOCUMENT = _softmax(np.maximum(A[0] @ X, 0))
NEXT_FIXED = _softmax(X @ (1.5 * H))


EXPECTED = {
    "embedding": ([0, 1, 0], "wrong"),
    "pre_activation": ([2, 2, 2], "wrong"),
    "pre_activation_fixed": ([1, 2, 2], "right"),
    "output_probs": ([1 / (1 + 2 * math.e), math.e / (1 + 2 * math.e), math.e / (1 + 2 * math.e)], "wrong"),
    "output_probs_chain": ([1 / 3] * 3, "wrong"),
    "attention_scores": (list(W @ np.array([0, 1, 1])), "right"),
    "attention_weights": ([1 / 3] * 3, "right_to_rounding"),
    "mse": ([0.02], "wrong"),
    "ce_nats": ([CE_NATS], "wrong"),
    "ce_bits": ([CE_NATS / math.log(2)], "wrong"),
    "ce_log10": ([float(-(Y * np.log10(Y_HAT)).sum())], "wrong"),
    "cat_words": ([6], "right"),
    "next_word_document": (list(NEXT_DOCUMENT), "not_stated"),
    "next_word_fixed": (list(NEXT_FIXED), "not_stated"),
    # per encoder layer: attention 4*512*512 + 4*512, feed-forward 2*512*2048 + 2048 + 512,
    # two LayerNorms 2*2*512; a decoder layer adds a second attention and a third LayerNorm
    "transformer_params": ([6 * 3_152_384 + 1024 + 6 * (3_152_384 + 1_050_624 + 1024) + 1024], "not_stated"),
    "encoder_params": ([6 * 3_152_384 + 1024], "not_stated"),
    "mlp_params": ([(3 * 128 + 128) + (128 * 64 + 64) + (64 * 32 + 32) + (32 * 16 + 16)], "not_stated"),
    # 000/001 name metrics but compute none: our toy cases, by hand (sklearn and sacrebleu
    # check the same functions in tests/unit/concepts/test_evaluation.py)
    "accuracy_toy": ([7 / 10], "not_stated"),
    "recall_toy": ([3 / 4], "not_stated"),
    "f1_toy": ([2 * 0.6 * 0.75 / (0.6 + 0.75)], "not_stated"),
    "perplexity_toy": ([2 ** 1.75], "not_stated"),
    "bleu_toy": ([(5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25], "not_stated"),
}


def test_every_row_has_an_expectation():
    assert [row.id for row in wx.worked_numbers()] == list(EXPECTED)


@pytest.mark.parametrize("row", wx.worked_numbers(), ids=lambda row: row.id)
def test_worked_number(row):
    value, verdict = EXPECTED[row.id]
    np.testing.assert_allclose(row.ours, value, rtol=1e-12)
    assert row.verdict == verdict


def test_cross_entropy_value_of_the_document_matches_no_usual_base():
    assert CE_NATS == pytest.approx(0.8869, abs=1e-4)
    for base in (math.e, 2, 10):
        assert round(CE_NATS / math.log(base), 3) != 0.342
    # 0.342 would need a logarithm of base ~13.4
    assert math.exp(CE_NATS / 0.342) == pytest.approx(13.37, abs=0.01)


def test_encoder_layer_count_matches_torch():
    layer = torch.nn.TransformerEncoderLayer(512, 8, 2048)
    assert sum(p.numel() for p in layer.parameters()) == 3_152_384


def test_judge():
    assert wx.judge(["1", "2"], [1.0, 2.0]) == "right"
    assert wx.judge(["0.33"], [1 / 3]) == "right_to_rounding"
    assert wx.judge(["0.34"], [1 / 3]) == "wrong"
    assert wx.judge(["1"], [1.0, 2.0]) == "wrong"
    assert wx.judge(None, [5.0]) == "not_stated"
    assert wx.format_values([44140544.0], 0) == "44,140,544"
    assert wx.format_values([0.155, 0.5], 3) == "[0.155, 0.500]"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_worked_numbers_table_is_complete(lang):
    table = wx.worked_numbers_table(lang)
    assert len(table) == len(EXPECTED)
    assert all(len(row) == 6 and all(row.values()) for row in table)
