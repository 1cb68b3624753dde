"""The model: both attention masks against torch's SDPA, and every piece ``GPT.inspect``
returns against torch forward hooks on the unmodified modules and against re-adding it up."""
import pytest
import torch
import torch.nn.functional as F

from lessons.engine.checkpoint import checkpoint_bytes, load_checkpoint, load_shipped_model
from lessons.engine.config import ModelConfig, config_from_dict, config_to_dict
from lessons.engine.model import GPT, SelfAttention
from lessons.engine.tokenizers import CharTokenizer

V, T, C, NH = 40, 12, 32, 4


def make_model(causal: bool, n_layer: int = 2) -> GPT:
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=V, block_size=16, n_layer=n_layer, n_head=NH, n_embd=C,
                      causal=causal)
    model = GPT(cfg).eval()
    with torch.no_grad():      # non-zero biases and gains, so a piece left out would show
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.add_(0.1 * torch.randn_like(p))
    return model


@pytest.fixture(params=[True, False], ids=["causal", "bidirectional"])
def model(request):
    return make_model(request.param)


@pytest.fixture
def ids():
    return torch.randint(V, (T,), generator=torch.Generator().manual_seed(1))


def test_fast_path_equals_inspection_path(model, ids):
    fast = model(ids[None])[0][0]
    torch.testing.assert_close(model.inspect(ids).logits, fast, atol=1e-5, rtol=0)


def test_inspection_weights_times_values_is_torch_sdpa(model, ids):
    causal = model.config.causal
    for block, layer in zip(model.blocks, model.inspect(ids).layers):
        q, k, v = block.attn.split_heads(layer.attn_input[None])
        # causal: SDPA's own causal mask; bidirectional: no mask at all
        reference = F.scaled_dot_product_attention(q, k, v, is_causal=causal)[0]
        torch.testing.assert_close(layer.attn_weights @ v[0], reference, atol=1e-6, rtol=0)
        torch.testing.assert_close(layer.head_outputs, reference, atol=1e-6, rtol=0)
        above_diagonal = layer.attn_weights.triu(diagonal=1)
        assert torch.all(above_diagonal == 0) == causal


def test_only_a_bidirectional_model_sees_later_tokens(model, ids):
    changed = ids.clone()
    changed[7:] = (changed[7:] + 1) % V
    a, b = model(ids[None])[0][0, :7], model(changed[None])[0][0, :7]
    assert torch.allclose(a, b, atol=1e-6) == model.config.causal


def test_padding_mask_hides_the_padding(model, ids):
    """A padded row with ``attend`` gives the real positions exactly what the text alone gets."""
    alone = model.features(ids[None, :8])[0]
    padded = torch.cat([ids[:8], torch.zeros(4, dtype=torch.long)])[None]
    attend = torch.arange(12)[None] < 8
    torch.testing.assert_close(model.features(padded, attend)[0, :8], alone, atol=1e-5, rtol=0)
    unmasked = model.features(padded)[0, :8]
    assert torch.allclose(unmasked, alone, atol=1e-5) == model.config.causal


def test_a_config_without_causal_loads_causal_and_the_setting_round_trips():
    old = {k: v for k, v in config_to_dict(ModelConfig()).items() if k != "causal"}
    assert config_from_dict(ModelConfig, old).causal is True
    shipped = load_shipped_model()
    assert shipped.model.config.causal and isinstance(shipped.model.blocks[0].attn, SelfAttention)
    tok = CharTokenizer.train("abcdefgh")
    model = GPT(ModelConfig(vocab_size=tok.vocab_size, block_size=8, n_layer=1, n_head=2,
                            n_embd=8, causal=False))
    loaded = load_checkpoint(checkpoint_bytes(model, tok)).model
    assert loaded.config.causal is False and loaded.blocks[0].attn.causal is False


def test_state_dict_names_are_the_old_ones():
    names = set(make_model(True, n_layer=1).state_dict())
    for name in ["token_embedding.weight", "position_embedding.weight", "lm_head.weight",
                 "blocks.0.ln_attn.weight", "blocks.0.attn.qkv.weight",
                 "blocks.0.attn.out_proj.weight", "blocks.0.ln_mlp.weight",
                 "blocks.0.mlp.expand.weight", "blocks.0.mlp.contract.weight", "ln_final.weight"]:
        assert name in names


# ---- full inspection ------------------------------------------------------------------------

def record_with_hooks(model, ids) -> dict:
    """What torch's forward hooks see during a plain forward pass (the fast path)."""
    seen, handles = {}, []

    def output_of(key):
        return lambda module, args, out: seen.__setitem__(key, out[0].detach().clone())

    def input_of(key):
        return lambda module, args: seen.__setitem__(key, args[0][0].detach().clone())

    for l, block in enumerate(model.blocks):
        handles += [block.register_forward_pre_hook(input_of(("residual_before", l))),
                    block.ln_attn.register_forward_hook(output_of(("attn_input", l))),
                    block.attn.out_proj.register_forward_pre_hook(input_of(("heads", l))),
                    block.attn.register_forward_hook(output_of(("attn_out", l))),
                    block.ln_mlp.register_forward_pre_hook(input_of(("residual_after_attn", l))),
                    block.ln_mlp.register_forward_hook(output_of(("mlp_input", l))),
                    block.mlp.expand.register_forward_hook(output_of(("mlp_pre_gelu", l))),
                    block.mlp.contract.register_forward_pre_hook(input_of(("mlp_post_gelu", l))),
                    block.mlp.register_forward_hook(output_of(("mlp_out", l))),
                    block.register_forward_hook(output_of(("residual_after", l)))]
    handles.append(model.ln_final.register_forward_hook(output_of("final_ln_out")))
    try:
        with torch.no_grad():
            seen["logits"] = model(ids[None])[0][0]
    finally:
        for handle in handles:
            handle.remove()
    return seen


def test_every_piece_equals_what_forward_hooks_record(model, ids):
    seen = record_with_hooks(model, ids)
    inspection = model.inspect(ids)
    close = dict(atol=1e-5, rtol=0)
    for l, layer in enumerate(inspection.layers):
        for name in ["residual_before", "attn_input", "attn_out", "residual_after_attn",
                     "mlp_input", "mlp_pre_gelu", "mlp_post_gelu", "mlp_out", "residual_after"]:
            torch.testing.assert_close(getattr(layer, name), seen[(name, l)], **close, msg=name)
        # the heads side by side, (nh, T, hs) -> (T, nh * hs), are what out_proj reads
        side_by_side = layer.head_outputs.transpose(0, 1).reshape(T, C)
        torch.testing.assert_close(side_by_side, seen[("heads", l)], **close)
    torch.testing.assert_close(inspection.final_ln_out, seen["final_ln_out"], **close)
    torch.testing.assert_close(inspection.logits, seen["logits"], **close)


def test_the_pieces_add_back_up_to_the_logits(model, ids):
    ins = model.inspect(ids)
    close = dict(atol=1e-5, rtol=0)
    residual = ins.token_embeddings + ins.position_embeddings
    for block, layer in zip(model.blocks, ins.layers):
        attn = block.attn
        projected = layer.head_outputs.transpose(0, 1).reshape(T, C) @ attn.out_proj.weight.T \
            + attn.out_proj.bias
        torch.testing.assert_close(projected, layer.attn_out, **close)
        torch.testing.assert_close(F.gelu(layer.mlp_pre_gelu), layer.mlp_post_gelu, **close)
        residual = residual + layer.attn_out + layer.mlp_out
    torch.testing.assert_close(residual, ins.layers[-1].residual_after, **close)
    ln = model.ln_final
    final = F.layer_norm(residual, (C,), ln.weight, ln.bias)
    torch.testing.assert_close(final @ model.token_embedding.weight.T, ins.logits, **close)


def test_inspection_keeps_the_fields_pages_read(model, ids):
    ins = model.inspect(ids)
    n_layer = model.config.n_layer
    assert len(ins.hidden_states) == n_layer + 1 and len(ins.attention) == n_layer
    assert torch.equal(ins.hidden_states[0], ins.token_embeddings + ins.position_embeddings)
    assert torch.equal(ins.hidden_states[-1], ins.layers[-1].residual_after)
    layer = ins.layers[0]
    assert ins.attention[0].shape == (NH, T, T) and layer.head_outputs.shape == (NH, T, C // NH)
    assert layer.mlp_pre_gelu.shape == layer.mlp_post_gelu.shape == (T, 4 * C)
    assert torch.equal(ins.token_embeddings, model.token_embedding.weight[ids])
