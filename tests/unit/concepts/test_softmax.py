"""Softmax, log-softmax, cross-entropy and friends against torch.nn.functional and hand-checked
numbers; the model's next-token distribution against its own logits."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lessons.concepts.softmax import compute as sm
from lessons.concepts.softmax import figures as smf
from lessons.engine.checkpoint import load_checkpoint

EXTREME = [
    [1000.0, -1000.0, 0.0],
    [1000.0, 1000.0, 999.0],
    [-1000.0, -1000.0, -999.0],
    [1e4, 0.0, -1e4, 5.0],
    [88.0, 89.0, 710.0, -745.0],      # around float32 / float64 exp overflow and underflow
]


def random_logits(seed, shape=(5, 7), scale=10.0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * scale


# ---- softmax family against torch ----------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_softmax_log_softmax_cross_entropy_match_torch_on_random_logits(seed):
    x = random_logits(seed)
    targets = torch.randint(0, 7, (5,), generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(sm.softmax(x), F.softmax(x, dim=-1))
    torch.testing.assert_close(sm.log_softmax(x), F.log_softmax(x, dim=-1))
    torch.testing.assert_close(sm.cross_entropy(x, targets), F.cross_entropy(x, targets))
    for temperature in (0.3, 1.0, 2.5):
        torch.testing.assert_close(sm.softmax(x, temperature), F.softmax(x / temperature, dim=-1))


@pytest.mark.parametrize("logits", EXTREME)
def test_softmax_family_matches_torch_on_extreme_logits(logits):
    x = torch.tensor(logits, dtype=torch.float64)
    assert torch.isfinite(sm.softmax(x)).all()
    torch.testing.assert_close(sm.softmax(x), F.softmax(x, dim=-1))
    torch.testing.assert_close(sm.log_softmax(x), F.log_softmax(x, dim=-1))
    for target in range(len(logits)):
        torch.testing.assert_close(sm.cross_entropy(x, target),
                                   F.cross_entropy(x.unsqueeze(0), torch.tensor([target])))


def test_naive_softmax_overflows_at_1000_and_the_stable_one_does_not():
    naive = sm.naive_softmax([1000.0, 999.0, 998.0])
    assert torch.isnan(naive).all()                      # inf / inf
    stable = sm.softmax([1000.0, 999.0, 998.0])
    expected = np.exp([0.0, -1.0, -2.0]) / np.exp([0.0, -1.0, -2.0]).sum()
    np.testing.assert_allclose(stable.numpy(), expected, rtol=1e-12)
    # and where it does not overflow, the naive formula agrees
    np.testing.assert_allclose(sm.naive_softmax([1.0, 2.0, 2.0]).numpy(), sm.softmax([1.0, 2.0, 2.0]).numpy())


def test_log_softmax_keeps_tiny_probabilities_that_log_of_softmax_loses():
    x = torch.tensor([0.0, -1000.0], dtype=torch.float64)
    assert torch.log(sm.softmax(x))[1] == -math.inf
    assert sm.log_softmax(x)[1].item() == pytest.approx(-1000.0)


def test_softmax_is_shift_invariant_and_sums_to_one():
    x = random_logits(7, (3, 4))
    for c in (-500.0, 3.0, 800.0):
        torch.testing.assert_close(sm.softmax(x + c), sm.softmax(x))
    torch.testing.assert_close(sm.softmax(x).sum(-1), torch.ones(3, dtype=torch.float64))


def test_temperature_keeps_the_order_and_sharpens_or_flattens():
    x = [2.0, 1.0, 0.0]
    cold, warm = sm.softmax(x, 0.25), sm.softmax(x, 4.0)
    assert cold[0] > sm.softmax(x)[0] > warm[0] > 1 / 3
    assert torch.equal(torch.argsort(cold), torch.argsort(warm))
    with pytest.raises(ValueError):
        sm.softmax(x, 0.0)


# ---- cross-entropy, entropy, KL, perplexity -----------------------------------------------

def test_soft_target_cross_entropy_entropy_and_kl_against_torch():
    y = torch.tensor([0.7, 0.2, 0.1], dtype=torch.float64)
    y_hat = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    # F.cross_entropy accepts probabilities as targets; feed it logits log(y_hat)
    torch.testing.assert_close(sm.cross_entropy_of_probabilities(y, y_hat),
                               F.cross_entropy(torch.log(y_hat).unsqueeze(0), y.unsqueeze(0)))
    torch.testing.assert_close(sm.entropy(y), torch.distributions.Categorical(probs=y).entropy())
    torch.testing.assert_close(sm.kl_divergence(y, y_hat),
                               F.kl_div(torch.log(y_hat), y, reduction="sum"))
    bits = sm.cross_entropy_of_probabilities(y, y_hat, "bits").item()
    assert bits == pytest.approx(-sum(a * math.log2(b) for a, b in zip(y.tolist(), y_hat.tolist())))
    assert sm.kl_divergence(y, y).item() == pytest.approx(0.0, abs=1e-12)


def test_one_hot_target_gives_minus_log_p_and_zero_entropy():
    probs = sm.softmax([1.0, 2.0, 2.0])
    one_hot = [0.0, 1.0, 0.0]
    assert sm.cross_entropy_of_probabilities(one_hot, probs).item() == pytest.approx(-math.log(probs[1].item()))
    assert sm.entropy(one_hot).item() == 0.0


def test_uniform_guess_has_perplexity_equal_to_the_vocabulary():
    ce = sm.cross_entropy(torch.zeros(4, 65), [0, 5, 17, 64]).item()
    assert ce == pytest.approx(math.log(65))
    assert sm.perplexity(ce) == pytest.approx(65.0)


def test_mse():
    assert sm.mean_squared_error([0.7, 0.2, 0.1], [0.5, 0.3, 0.2]).item() == pytest.approx(0.02)
    torch.testing.assert_close(sm.mean_squared_error([1.0, 2.0], [0.0, 0.0]),
                               F.mse_loss(torch.tensor([0.0, 0.0], dtype=torch.float64),
                                          torch.tensor([1.0, 2.0], dtype=torch.float64)))


def test_loss_gradients_match_closed_forms():
    p = torch.tensor([0.01, 0.2, 0.5, 0.9], dtype=torch.float64)
    two = sm.loss_gradients(p, num_classes=2)
    torch.testing.assert_close(two["cross_entropy"], p - 1)
    # two classes: MSE = (1-p)^2 and dp/dz = p(1-p), so dMSE/dz = -2 p (1-p)^2
    torch.testing.assert_close(two["mse"], -2 * p * (1 - p) ** 2)
    three = sm.loss_gradients(p, num_classes=3)
    torch.testing.assert_close(three["cross_entropy"], p - 1)
    # confidently wrong: cross-entropy pushes ~100x harder than MSE
    assert abs(three["cross_entropy"][0]) > 50 * abs(three["mse"][0])


def test_figures_are_built_in_both_languages():
    for lang in ("en", "zh"):
        assert smf.temperature_figure([1, 2, 2], lang=lang).data
        assert len(smf.surprise_curve(0.4, lang=lang).data) == 3
        assert len(smf.gradient_figure(lang=lang).data) == 2
        fig = smf.probability_bars(["a", "b"], [0.25, 0.75], "t", highlight=1, lang=lang)
        assert list(fig.data[0].y) == [0.25, 0.75]


# ---- the model's next token -----------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tiny_checkpoint_bytes):
    return load_checkpoint(tiny_checkpoint_bytes)


def test_next_token_distribution_is_the_models_softmax(tiny):
    model, tok = tiny.model, tiny.tokenizer
    result = sm.next_token(model, tok, "the cat", temperature=0.7)
    with torch.no_grad():
        logits, _ = model(torch.tensor([tok.encode("the cat")]))
    torch.testing.assert_close(result.probs, F.softmax(logits[0, -1].double() / 0.7, dim=-1))
    assert result.probs[result.sampled_id] > 0
    again = sm.next_token(model, tok, "the cat", temperature=0.7)
    assert again.sampled_id == result.sampled_id            # same seed, same sample


def test_top_k_and_top_p_filter_like_the_model(tiny):
    model, tok = tiny.model, tiny.tokenizer
    top5 = sm.next_token(model, tok, "the ", top_k=5)
    assert int((top5.probs > 0).sum()) == 5
    assert top5.probs.sum().item() == pytest.approx(1.0)
    nucleus = sm.next_token(model, tok, "the ", top_p=0.5)
    kept = nucleus.probs > 0
    full = sm.softmax(nucleus.logits)
    # the kept tokens are the likeliest ones and just reach p = 0.5
    assert full[kept].min() >= full[~kept].max()
    assert full[kept].sum() >= 0.5 > full[kept].sum() - full[kept].min()


def test_next_token_handles_empty_unseen_and_long_prompts(tiny):
    model, tok = tiny.model, tiny.tokenizer
    empty = sm.next_token(model, tok, "")
    assert empty.started_empty and empty.context_ids == [0]
    unseen = sm.next_token(model, tok, "the 🙂 cat")            # the emoji becomes 4 byte tokens
    assert len(unseen.context_ids) == len("the  cat") + 4
    long = sm.next_token(model, tok, "the cat sat on the mat. " * 20)
    assert long.cropped and len(long.context_ids) == model.config.block_size
    assert sm.token_label(tok, tok.encode("\n")[0]) == "↵"


def test_next_token_with_a_bpe_tokenizer(tiny_text):
    from lessons.engine.config import ModelConfig
    from lessons.engine.model import GPT
    from lessons.engine.tokenizers import BPETokenizer
    tok = BPETokenizer.train(tiny_text, vocab_size=300)
    model = GPT(ModelConfig(vocab_size=tok.vocab_size, block_size=8, n_layer=1, n_head=1, n_embd=8)).eval()
    for prompt in ("", "the cat sat on the mat and the dog", "猫"):
        result = sm.next_token(model, tok, prompt, top_p=0.9)
        assert result.probs.sum().item() == pytest.approx(1.0)
        assert len(result.context_ids) <= 8
        assert smf.next_token_figure(tok, result).data[0].x


def test_loss_curve_figure_marks_the_text(tiny):
    fig = smf.loss_curve_figure(tiny.metrics, 2.5)
    assert [trace.name for trace in fig.data] == ["training loss", "validation loss"]
    assert fig.layout.shapes[0].y0 == 2.5


def test_per_position_cross_entropy_averages_to_the_training_loss(tiny):
    model, tok = tiny.model, tiny.tokenizer
    ids = tok.encode("the dog sat on the log.")
    per_position = sm.per_position_cross_entropy(model, ids)
    with torch.no_grad():
        _, loss = model(torch.tensor([ids[:-1]]), torch.tensor([ids[1:]]))
    assert per_position.shape == (len(ids) - 1,)
    assert per_position.mean().item() == pytest.approx(loss.item(), rel=1e-5)
