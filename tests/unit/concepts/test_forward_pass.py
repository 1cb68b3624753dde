"""The forward-pass lesson against independent references: the model's own fast path (fused
attention), forward hooks on the unmodified model for ablations, F.layer_norm, the published
parameter counts (transformers' GPT-2 on the meta device, torch's nn.Transformer) and
torch's FLOP counter."""
import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from lessons.concepts.forward_pass import compute as C
from lessons.concepts.forward_pass import costs
from lessons.engine.config import ModelConfig
from lessons.engine.model import GPT

VOCAB, T = 11, 7


def random_model(causal=True, bias=True, seed=0):
    """A tiny GPT with every parameter random (biases, LayerNorm gains and shifts included), so
    no bias term can hide behind a zero."""
    torch.manual_seed(seed)
    model = GPT(ModelConfig(VOCAB, block_size=8, n_layer=2, n_head=2, n_embd=8, bias=bias,
                            causal=causal)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    return model


@pytest.fixture(params=[True, False], ids=["causal", "bidirectional"])
def model(request):
    return random_model(request.param)


@pytest.fixture
def ids():
    return [3, 1, 4, 1, 5, 9, 2]


@torch.no_grad()
def own_logits(model, ids):
    return model(torch.tensor([ids]))[0][0]            # the fast path, fused attention


def test_pieces_add_back_up_to_the_models_logits(model, ids):
    inspection = model.inspect(torch.tensor(ids))
    assert (C.rebuild_logits(model, inspection) - own_logits(model, ids)).abs().max() <= 1e-5


def test_step_tensors_shapes_and_the_output_projection(model, ids):
    inspection = model.inspect(torch.tensor(ids))
    steps = {name: tensor for name, _, tensor in C.step_tensors(model, inspection, 1)}
    assert steps["attn_weights"].shape == (2, T, T) and steps["concat"].shape == (T, 8)
    assert steps["mlp_pre_gelu"].shape == (T, 32) and steps["logits"].shape == (T, VOCAB)
    block = model.blocks[1]
    assert torch.allclose(block.attn.out_proj(steps["concat"]), steps["attn_out"], atol=1e-6)
    assert torch.allclose(F.gelu(steps["mlp_pre_gelu"]), steps["mlp_post_gelu"])
    heads = C.head_contributions(model, inspection, 1).sum(0) + C.attention_bias(model, 1, 8)
    assert torch.allclose(heads, steps["attn_out"], atol=1e-5)
    assert torch.allclose(steps["probabilities"].sum(-1), torch.ones(T))
    stages = C.follow_position(inspection, 2)
    assert len(stages) == 2 + 2 * 2
    assert torch.equal(stages[-2][2], inspection.layers[-1].residual_after[2])
    assert [s[0] for s in stages][:3] == ["embedding", "attn", "mlp"]


def test_logit_lens_ends_at_the_models_prediction(model, ids):
    inspection = model.inspect(torch.tensor(ids))
    lens = C.logit_lens(model, inspection)
    assert lens.shape == (3, T, VOCAB)
    assert (lens[-1] - own_logits(model, ids)).abs().max() <= 1e-5
    ln = model.ln_final
    x0 = model.token_embedding.weight[ids] + model.position_embedding.weight[:T]
    by_hand = F.layer_norm(x0, (8,), ln.weight, ln.bias, ln.eps) @ model.token_embedding.weight.T
    assert torch.allclose(lens[0], by_hand, atol=1e-5)
    labels, probs = C.lens_top(type("Tok", (), {"token_label": staticmethod(str)}), lens)
    assert len(labels) == 3 and probs.shape == (3, T)


@pytest.mark.parametrize("bias", [True, False])
def test_attributions_and_bias_terms_add_up_to_the_logit(bias, ids):
    model = random_model(bias=bias, seed=1)
    inspection = model.inspect(torch.tensor(ids))
    for position in (0, 4, T - 1):
        token = int(own_logits(model, ids)[position].argmax())
        parts = C.logit_attribution(model, inspection, position, token)
        assert len(parts) == 2 + 2 * (2 + 2) + 1
        total = sum(p.value for p in parts)
        assert [p.kind for p in parts][:3] == ["token", "position", "head"]
        assert abs(total - float(own_logits(model, ids)[position, token])) <= 1e-4


def test_ablating_nothing_changes_nothing(model, ids):
    for mode in ("zero", "mean"):
        assert (C.ablated_logits(model, ids, (), mode) - own_logits(model, ids)).abs().max() <= 1e-5


def hooked_logits(model, ids, layer, kind, head=None, mode="zero"):
    """The reference: forward hooks on the unmodified model's fast path. A clean run records
    what each piece produced (for the mean), then the hooked run replaces it."""
    block, hs = model.blocks[layer], model.config.head_size
    seen = {}
    record = [block.attn.out_proj.register_forward_pre_hook(
                  lambda m, args: seen.__setitem__("concat", args[0].clone())),
              block.attn.register_forward_hook(lambda m, a, out: seen.__setitem__("attn", out.clone())),
              block.mlp.register_forward_hook(lambda m, a, out: seen.__setitem__("mlp", out.clone()))]
    clean = own_logits(model, ids)
    for h in record:
        h.remove()

    def replacement(tensor):
        return torch.zeros_like(tensor) if mode == "zero" else \
            tensor.mean(dim=1, keepdim=True).expand_as(tensor)

    def head_hook(module, args):
        concat = args[0].clone()
        piece = slice(head * hs, (head + 1) * hs)
        concat[..., piece] = replacement(seen["concat"][..., piece])
        return (concat,)

    hooks = []
    if kind == "head":
        hooks.append(block.attn.out_proj.register_forward_pre_hook(head_hook))
    if kind == "block":
        hooks.append(block.attn.register_forward_hook(lambda m, a, out: replacement(seen["attn"])))
    if kind in ("mlp", "block"):
        hooks.append(block.mlp.register_forward_hook(lambda m, a, out: replacement(seen["mlp"])))
    try:
        ablated = own_logits(model, ids)
    finally:
        for h in hooks:
            h.remove()
    assert (own_logits(model, ids) - clean).abs().max() == 0       # hooks gone, model untouched
    return ablated


@pytest.mark.parametrize("mode", ["zero", "mean"])
@pytest.mark.parametrize("kind,layer,head", [("head", 0, 1), ("head", 1, 0), ("mlp", 0, None),
                                             ("block", 1, None)])
def test_ablation_matches_forward_hooks(model, ids, mode, kind, layer, head):
    ours = C.ablated_logits(model, ids, [C.Ablation(kind, layer, head)], mode)
    reference = hooked_logits(model, ids, layer, kind, head, mode)
    assert (ours - reference).abs().max() <= 1e-5
    assert (ours - own_logits(model, ids)).abs().max() > 1e-3      # it did change something


def test_ranking_covers_every_head_and_mlp_sorted_by_change(model, ids):
    token = int(own_logits(model, ids)[-1].argmax())
    rows = C.ablation_ranking(model, ids, T - 1, token, "zero")
    assert len(rows) == 2 * 2 + 2
    assert [r["change"] for r in rows] == sorted(r["change"] for r in rows)
    r = rows[0]
    a = C.Ablation(r["piece"], r["layer"], r["head"])
    p = F.softmax(hooked_logits(model, ids, a.layer, a.kind, a.head)[-1], -1)[token]
    assert abs(float(p) - r["probability"]) <= 1e-5


@pytest.mark.parametrize("bias", [True, False])
def test_parameter_count_by_component_matches_the_model(bias):
    model = random_model(bias=bias)
    parts = costs.parameters_by_component(costs.architecture_of(model))
    assert sum(parts.values()) == model.num_parameters() and parts["head"] == 0
    mlp = sum(p.numel() for b in model.blocks for p in b.mlp.parameters())
    assert parts["MLP"] == mlp


def test_published_counts():
    from transformers import GPT2Config, GPT2LMHeadModel
    with torch.device("meta"):
        gpt2 = GPT2LMHeadModel(GPT2Config())
        transformer = torch.nn.Transformer(d_model=512, nhead=8, num_encoder_layers=6,
                                           num_decoder_layers=6, dim_feedforward=2048, batch_first=True)
    counts = [sum(costs.parameters_by_component(a).values()) for a in costs.PUBLISHED]
    assert counts[0] == sum(p.numel() for p in gpt2.parameters()) == 124_439_808
    assert abs(counts[1] / 175e9 - 1) < 0.01
    assert counts[2] == sum(p.numel() for p in transformer.parameters())


def test_flops_per_token_match_torchs_flop_counter():
    model = random_model(bias=False)
    ids = torch.randint(0, VOCAB, (model.config.block_size,))
    with FlopCounterMode(display=False) as counter:
        model.inspect(ids)                         # the written-out path: every matmul is visible
    per_token = counter.get_total_flops() / model.config.block_size
    assert per_token == costs.flops_per_token(costs.architecture_of(model))


def test_model_pass_on_a_checkpoint():
    from lessons.engine.checkpoint import toy_checkpoint
    ckpt = toy_checkpoint("猫ab", block_size=8, n_layer=2, n_head=2, n_embd=8)
    run = C.model_pass(ckpt, "猫ab猫ab猫ab", 8)
    assert run.cut and len(run.ids) == 8 and run.tokens[0] == "猫"
    assert C.model_pass(ckpt, "", 8).inspection is None
    before, after = C.ablation_result(ckpt, run.ids, (C.Ablation("block", 0),), "zero", 7)
    assert len(before) == len(after) == 6
    assert C.lens_through_training(ckpt, run.ids, 7) == []          # no snapshots kept


def test_lens_and_key_piece_over_training_snapshots(two_layer_checkpoint_bytes):
    from lessons.engine.checkpoint import load_checkpoint
    ckpt = load_checkpoint(two_layer_checkpoint_bytes)
    ids = ckpt.tokenizer.encode("the cat sat")
    rows = C.lens_through_training(ckpt, ids, len(ids) - 1)
    assert [r["step"] for r in rows] == sorted(ckpt.snapshots) and rows
    final = int(own_logits(ckpt.model, ids)[-1].argmax())
    for row in rows:
        model = ckpt.snapshot_model(row["step"])
        lens_last = own_logits(model, ids)[-1]                   # the lens after the last block
        assert row["right"][-1] == (int(lens_last.argmax()) == final)
        assert abs(row["probability"] - float(F.softmax(lens_last, -1)[final])) <= 1e-5
        piece = row["key"]
        ablated = hooked_logits(model, ids, piece.layer, piece.kind, piece.head)[-1]
        drop = row["probability"] - float(F.softmax(ablated, -1)[final])
        assert abs(drop - row["drop"]) <= 1e-5
