"""judge() and the one verdict vocabulary; every row's value against an independent reference
(NumPy, torch.nn.functional, math, torch's own modules) and the verdict the document deserves,
checked by hand."""
import math
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lessons import worked_numbers as wn
from lessons.i18n import LANGUAGES

# ---- judge ------------------------------------------------------------------------------------


@pytest.mark.parametrize("document, ours, verdict", [
    (["1", "2"], [1.0, 2.0], "right"),
    (["0.02"], [0.04 / 2], "right"),                      # float noise is not an error
    (["0.33"], [1 / 3], "right_to_rounding"),
    (["0.33"], [0.335], "right_to_rounding"),             # half a unit of the last digit ...
    (["0.33"], [0.3351], "wrong"),                        # ... and no more
    (["0.34"], [1 / 3], "wrong"),
    (["0.5"], [0.4223], "wrong"),                         # one printed decimal allows ±0.05
    (["6"], [6.4], "right_to_rounding"),                  # an integer stands for ±0.5
    (["0.333"], [1 / 3], "right_to_rounding"),
    (["1"], [1.0, 2.0], "wrong"),                         # not even the same length
    (None, [5.0], "not_stated"),
])
def test_judge(document, ours, verdict):
    assert wn.judge(document, ours) == verdict


def test_judge_refuses_what_is_not_a_number():
    with pytest.raises(Exception):
        wn.judge(["one"], [1.0])


# ---- one vocabulary -----------------------------------------------------------------------------

def test_four_verdicts_with_distinct_icons_colours_and_labels():
    assert list(wn.VERDICTS) == ["right", "right_to_rounding", "wrong", "not_stated"]
    icons = [v.icon for v in wn.VERDICTS.values()]
    assert len(set(icons)) == 4 and len(set(wn.VERDICT_COLOURS)) == 4
    assert {v.tone for v in wn.VERDICTS.values()} <= {"success", "error", "info"}
    assert wn.VERDICTS["wrong"].tone == "error" and wn.VERDICTS["right"].tone == "success"
    for lang in LANGUAGES:
        labels = [v.label(lang) for v in wn.VERDICTS.values()]
        assert len(set(labels)) == 4
        assert all(label.startswith(v.icon + " ") for label, v in zip(labels, wn.VERDICTS.values()))
    assert wn.VERDICTS["wrong"].label("en") == "✗ wrong"
    assert wn.VERDICTS["right_to_rounding"].label("zh") == "≈ 四舍五入后正确"


def test_worst_verdict():
    row = lambda verdict: type("Row", (), {"verdict": verdict})()   # noqa: E731
    assert wn.worst_verdict([row("right"), row("right_to_rounding")]) == "right_to_rounding"
    assert wn.worst_verdict([row("wrong"), row("right")]) == "wrong"
    assert wn.worst_verdict([row("right")]) == "right"


# ---- the rows -----------------------------------------------------------------------------------

W = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])          # retyped from 004 §3.3.1 and §3.3.3
W_LAYER, B = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]]), np.array([1, 1, 1])   # §3.3.2
Y, Y_HAT = torch.tensor([0.7, 0.2, 0.1], dtype=torch.float64), torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
CE_NATS = F.cross_entropy(Y_HAT.log()[None], Y[None]).item()   # soft target; log-softmax(log ŷ) = log ŷ


def test_embedding_is_wrong_in_its_third_entry():
    row = wn.worked_number("embedding")
    assert np.array_equal(row.ours, W @ np.array([1, 0, 0])) and row.ours == (0, 1, 0)
    assert row.ours == tuple(F.embedding(torch.tensor(0), torch.tensor(W.T, dtype=torch.float64)).tolist())
    assert row.document == ("0", "1", "1") and row.verdict == "wrong"
    assert row.differing_entries == (2,) and row.differences == (0, 0, 1) and row.distance == 1.0
    assert row.facts["printed_is_a_column_or_row"] is False
    assert [step.products for step in row.facts["steps"]] == [(0, 0, 0), (1, 0, 0), (0, 0, 0)]


def test_pre_activation_chains():
    wrong, fixed = wn.worked_number("pre_activation"), wn.worked_number("pre_activation_fixed")
    assert np.array_equal(wrong.ours, W_LAYER @ np.array([0, 1, 1]) + B) and wrong.verdict == "wrong"
    assert np.array_equal(fixed.ours, W_LAYER @ (W @ np.array([1, 0, 0])) + B) and fixed.verdict == "right"


def test_the_simplest_reading_of_the_printed_embedding_is_one_step_early():
    """The page's reading (1): the printed (0, 1, 1) is 3.3.2's matrix times the correct
    embedding, and that product plus the bias is 3.3.2's printed [1, 2, 2]."""
    correct = W @ np.array([1, 0, 0])
    printed = np.array([int(v) for v in wn.worked_number("embedding").document])
    assert np.array_equal(W_LAYER @ correct, printed)
    assert np.array_equal(W_LAYER @ correct + B, [1, 2, 2])
    assert not np.array_equal(W_LAYER @ printed + B, [1, 2, 2])   # reading (2) needs a second slip


def test_output_probabilities_are_wrong_either_way():
    probs = wn.worked_number("output_probs")
    expected = F.softmax(torch.tensor([1.0, 2.0, 2.0], dtype=torch.float64), 0)
    np.testing.assert_allclose(probs.ours, expected.numpy(), rtol=1e-12)
    np.testing.assert_allclose(probs.ours, [1 / (1 + 2 * math.e), math.e / (1 + 2 * math.e), math.e / (1 + 2 * math.e)])
    assert probs.verdict == "wrong" and probs.differing_entries == (0, 1, 2)
    chain = wn.worked_number("output_probs_chain")
    np.testing.assert_allclose(chain.ours, [1 / 3] * 3, rtol=1e-12)
    assert chain.verdict == "wrong"


def test_attention_softmax_of_three_ones_is_a_third_each_right_to_rounding():
    scores, weights = wn.worked_number("attention_scores"), wn.worked_number("attention_weights")
    assert np.array_equal(scores.ours, W @ np.array([0, 1, 1])) and scores.verdict == "right"
    np.testing.assert_allclose(weights.ours, [1 / 3] * 3, rtol=1e-12)
    assert weights.document == ("0.33", "0.33", "0.33")
    assert weights.verdict == "right_to_rounding" and weights.differing_entries == ()


def test_mse_is_0_02_not_0_0667():
    row = wn.worked_number("mse")
    assert row.ours[0] == pytest.approx(F.mse_loss(Y_HAT, Y).item(), rel=1e-12)
    assert row.ours[0] == pytest.approx((0.04 + 0.01 + 0.01) / 3, rel=1e-12) == pytest.approx(0.02)
    assert row.verdict == "wrong"


@pytest.mark.parametrize("row_id, log, base", [("ce_nats", math.log, math.e), ("ce_bits", math.log2, 2),
                                               ("ce_log10", math.log10, 10)])
def test_cross_entropy_in_every_usual_base_is_not_0_342(row_id, log, base):
    row = wn.worked_number(row_id)
    by_hand = -sum(y * log(p) for y, p in zip(Y.tolist(), Y_HAT.tolist()))
    assert row.ours[0] == pytest.approx(by_hand, rel=1e-12)
    assert row.ours[0] == pytest.approx(CE_NATS / math.log(base), rel=1e-12)      # F.cross_entropy, rebased
    assert row.verdict == "wrong"
    entropy = -sum(y * log(y) for y in Y.tolist())
    assert row.facts["entropy"] == pytest.approx(entropy, rel=1e-12) and row.ours[0] >= entropy
    # the base b with CE_b = 0.342: ln b = CE_nats / 0.342
    assert row.facts["base_giving_the_document"] == pytest.approx(13.375, abs=1e-3)
    assert -sum(y * math.log(p, row.facts["base_giving_the_document"]) for y, p in zip(Y.tolist(), Y_HAT.tolist())) \
        == pytest.approx(0.342, rel=1e-9)


def test_cat_sentence_has_six_words():
    row = wn.worked_number("cat_words")
    assert row.ours == (len("The cat sat on the mat".split()),) == (6,)
    assert row.verdict == "right" and row.facts["characters"] == 22


def test_parameter_counts_against_torch_modules():
    layer = torch.nn.TransformerEncoderLayer(512, 8, 2048)
    per_layer = sum(p.numel() for p in layer.parameters())
    assert per_layer == 4 * 512 * 512 + 4 * 512 + 2 * 512 * 2048 + 2048 + 512 + 2 * 2 * 512
    assert wn.worked_number("encoder_params").ours == (6 * per_layer + 2 * 512,)
    decoder_layer = sum(p.numel() for p in torch.nn.TransformerDecoderLayer(512, 8, 2048).parameters())
    assert wn.worked_number("transformer_params").ours == (6 * per_layer + 6 * decoder_layer + 4 * 512,)
    dense = [torch.nn.Linear(a, b) for a, b in zip([3, 128, 64, 32], [128, 64, 32, 16])]
    assert wn.worked_number("mlp_params").ours == (sum(p.numel() for m in dense for p in m.parameters()),)
    for row_id in ("transformer_params", "encoder_params", "mlp_params"):
        row = wn.worked_number(row_id)
        assert row.document is None and row.verdict == "not_stated" and row.distance is None


def test_every_row_has_its_prose_and_a_known_verdict():
    rows = wn.worked_numbers()
    assert [row.id for row in rows] == list(wn.ROWS) and len(rows) == 22
    for row in rows:
        assert row.verdict in wn.VERDICTS
        for lang in LANGUAGES:
            assert row.what(lang) and row.why(lang)
            assert row.label(lang) in row.describe(lang) and row.source in row.describe(lang)
    assert sum(row.verdict == "wrong" for row in rows) == 8


def test_rows_are_computed_once_and_read_only():
    row = wn.worked_number("embedding")
    assert wn.worked_number("embedding") is row
    with pytest.raises(FrozenInstanceError):
        row.document = ("0", "1", "0")
    with pytest.raises(TypeError):
        row.facts["printed_is_a_column_or_row"] = True
    with pytest.raises(KeyError):
        wn.worked_number("no_such_row")


def test_errors_summary_lists_exactly_the_wrong_rows():
    for lang in LANGUAGES:
        lines = wn.errors_summary(lang).splitlines()
        wrong = [row for row in wn.worked_numbers() if row.verdict == "wrong"]
        assert lines[1:] == [f"  {row.label(lang)} · {row.source} · {row.what(lang)}" for row in wrong]
        assert "8" in lines[0] and "12" in lines[0] and "22" in lines[0]
