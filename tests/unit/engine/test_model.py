import pytest
import torch

from lessons.engine.config import ConfigError, ModelConfig
from lessons.engine.decoding import filter_logits, generate, sample_next
from lessons.engine.model import GPT


@pytest.fixture
def model():
    torch.manual_seed(0)
    return GPT(ModelConfig(vocab_size=50, block_size=16, n_layer=2, n_head=4, n_embd=32)).eval()


def test_shapes_and_loss(model):
    idx, targets = torch.randint(50, (3, 10)), torch.randint(50, (3, 10))
    logits, loss = model(idx, targets)
    assert logits.shape == (3, 10, 50)
    # an untrained model guesses roughly uniformly: loss close to ln(50) = 3.91
    assert abs(loss.item() - torch.log(torch.tensor(50.0)).item()) < 0.3


def test_loss_is_torch_cross_entropy(model):
    idx, targets = torch.randint(50, (2, 8)), torch.randint(50, (2, 8))
    logits, loss = model(idx, targets)
    expected = torch.nn.functional.cross_entropy(logits.reshape(-1, 50), targets.reshape(-1))
    assert torch.allclose(loss, expected)


def test_causality_later_tokens_never_change_earlier_logits(model):
    idx = torch.randint(50, (1, 12))
    changed = idx.clone()
    changed[0, 7:] = (changed[0, 7:] + 1) % 50
    a, _ = model(idx)
    b, _ = model(changed)
    assert torch.allclose(a[0, :7], b[0, :7], atol=1e-6)
    assert not torch.allclose(a[0, 7:], b[0, 7:])


def test_fast_path_equals_inspection_path(model):
    idx = torch.randint(50, (1, 16))
    fast, _ = model(idx)
    seen = model.inspect(idx)
    assert torch.allclose(fast[0], seen.logits, atol=1e-5)
    assert len(seen.attention) == 2 and seen.attention[0].shape == (4, 16, 16)
    assert len(seen.hidden_states) == 3 and seen.hidden_states[-1].shape == (16, 32)
    for weights in seen.attention:
        assert torch.allclose(weights.sum(-1), torch.ones(4, 16), atol=1e-6)
        assert torch.all(weights.triu(diagonal=1) == 0)
    assert torch.equal(seen.token_embeddings, model.token_embedding.weight[idx[0]])
    assert torch.equal(seen.position_embeddings, model.position_embedding.weight[:16])


def test_inspection_attention_matches_torch_sdpa(model):
    idx = torch.randint(50, (1, 9))
    block = model.blocks[0]
    x = model.token_embedding(idx) + model.position_embedding(torch.arange(9))
    h = block.ln_attn(x)
    _, weights = block.attn.forward_with_weights(h)
    q, k, v = block.attn.split_heads(h)
    reference = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(weights @ v, reference, atol=1e-6)


def test_output_head_is_tied_to_token_embedding(model):
    assert model.lm_head.weight is model.token_embedding.weight


def test_too_long_input_is_refused(model):
    with pytest.raises(ValueError, match="longer than the block size"):
        model(torch.zeros(1, 17, dtype=torch.long))


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_embd=30, n_head=4), "multiple of the number of heads"),
    (dict(block_size=0), "block size"),
    (dict(dropout=1.5), "dropout"),
])
def test_impossible_configs_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ModelConfig(**kwargs)


def test_top_k_keeps_only_k_tokens():
    logits = torch.tensor([[1.0, 4.0, 3.0, 2.0]])
    kept = filter_logits(logits, top_k=2)
    assert torch.isinf(kept).tolist() == [[True, False, False, True]]


def test_top_p_keeps_smallest_set_reaching_p():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    kept = filter_logits(probs.log(), top_p=0.75)
    # 0.5 alone < 0.75, 0.5 + 0.3 >= 0.75 -> keep two
    assert torch.isinf(kept).tolist() == [[False, False, True, True]]


def test_temperature_zero_is_greedy_and_generation_extends(model):
    logits = torch.tensor([[0.1, 2.0, 0.3]])
    assert sample_next(logits, temperature=0).item() == 1
    out = generate(model, torch.zeros(1, 1, dtype=torch.long), 20, temperature=0.8, top_k=5,
                         generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 21)


def test_generation_never_emits_masked_tokens(model):
    never = torch.ones(50, dtype=torch.bool)
    never[[3, 7]] = False        # only tokens 3 and 7 are allowed
    out = generate(model, torch.zeros(1, 1, dtype=torch.long), 30, temperature=1.5,
                         generator=torch.Generator().manual_seed(0), never=never)
    assert set(out[0, 1:].tolist()) <= {3, 7}
