"""Inside one forward pass, from a prompt to the next token, on the model the learner trained.

Read top to bottom:
1. one inspection pass (``model_pass``) and the steps it holds, with shapes, re-added into the
   model's own logits (``rebuild_logits``); one position followed through the stack;
2. the residual stream: its size, the logit lens, direct logit attribution;
3. interventions: zero- or mean-ablation of heads, MLPs and whole blocks, and a ranking;
4. (costs.py: where the parameters and the compute are, beside published configurations.)

Every function returns numbers; figures.py draws them, so no figure re-runs the model.
Shapes: T = tokens, C = n_embd, L = n_layer, H = n_head, hs = head size, V = vocabulary.

>>> from lessons.engine.checkpoint import toy_checkpoint
>>> p = model_pass(toy_checkpoint("ab", block_size=8, n_layer=2, n_head=2, n_embd=8), "abba", 8)
>>> p.tokens, len(p.inspection.layers)
(['a', 'b', 'b', 'a'], 2)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lessons.concepts.attention.compute import DEFAULT_WORD_VECTORS, tokens_for
from lessons.engine.model import Inspection


# ---- 1. one pass, step by step ----------------------------------------------------------

@dataclass
class Pass:
    """One prompt through the model: everything the page draws comes from here."""
    ids: list[int]
    tokens: list[str]
    cut: bool
    inspection: Inspection | None      # None for a prompt with no tokens


def model_pass(checkpoint, text: str, max_tokens: int) -> Pass:
    """The first max_tokens tokens of text through the inspection path, once (inspect() runs
    without gradients; no decorator here, since shared() refuses the closure it would make)."""
    ids, tokens, cut = tokens_for(checkpoint.tokenizer, text, max_tokens)
    inspection = checkpoint.model.inspect(torch.as_tensor(ids)) if ids else None
    return Pass(ids, tokens, cut, inspection)


def head_contributions(model, inspection: Inspection, layer: int) -> torch.Tensor:
    """(H, T, C): what each head writes into the residual stream. The output projection is
    linear, so out_proj(concat) = sum_h head_h @ W_o[:, h-th slice]^T + b_o; the bias b_o
    belongs to no head (``attention_bias``)."""
    heads = inspection.layers[layer].head_outputs                 # (H, T, hs)
    H, T, hs = heads.shape
    w_o = model.blocks[layer].attn.out_proj.weight                # (C, H*hs)
    w_per_head = w_o.view(w_o.shape[0], H, hs).permute(1, 2, 0)  # (H, hs, C)
    return torch.bmm(heads, w_per_head)                           # (H, T, C)


def attention_bias(model, layer: int, C: int) -> torch.Tensor:
    bias = model.blocks[layer].attn.out_proj.bias
    return torch.zeros(C) if bias is None else bias.detach()


def step_tensors(model, inspection: Inspection, layer: int) -> list[tuple[str, str, torch.Tensor]]:
    """[(step name, formula, tensor)] in the order the model computes them: embeddings, then
    block ``layer`` piece by piece, then the final LayerNorm and the logits."""
    tr = inspection.layers[layer]
    H, T, hs = tr.head_outputs.shape
    concat = tr.head_outputs.transpose(0, 1).reshape(T, H * hs)  # (T, C)
    probs = F.softmax(inspection.logits, dim=-1)
    return [
        ("token_embedding", "E[token]", inspection.token_embeddings),
        ("position_embedding", "P[position]", inspection.position_embeddings),
        ("residual_before", "x", tr.residual_before),
        ("attn_input", "LN1(x)", tr.attn_input),
        ("attn_weights", "softmax(QKᵀ/√hs)", tr.attn_weights),
        ("head_outputs", "A·V", tr.head_outputs),
        ("concat", "[head_1 … head_H]", concat),
        ("attn_out", "concat·W_Oᵀ + b_O", tr.attn_out),
        ("residual_after_attn", "x + attn", tr.residual_after_attn),
        ("mlp_input", "LN2(x)", tr.mlp_input),
        ("mlp_pre_gelu", "LN2(x)·W_1ᵀ + b_1", tr.mlp_pre_gelu),
        ("mlp_post_gelu", "GELU(·)", tr.mlp_post_gelu),
        ("mlp_out", "GELU(·)·W_2ᵀ + b_2", tr.mlp_out),
        ("residual_after", "x + mlp", tr.residual_after),
        ("final_ln", "LN_f(x_L)", inspection.final_ln_out),
        ("logits", "LN_f(x_L)·Eᵀ", inspection.logits),
        ("probabilities", "softmax(logits)", probs),
    ]


@torch.no_grad()
def rebuild_logits(model, inspection: Inspection) -> torch.Tensor:
    """The logits (T, V) re-added from the pieces alone: residual = token + position embedding
    + every block's attention and MLP outputs, then the final LayerNorm and the head."""
    residual = inspection.token_embeddings + inspection.position_embeddings
    for layer in inspection.layers:
        residual = residual + layer.attn_out + layer.mlp_out
    return model.lm_head(model.ln_final(residual))


def top_tokens(tokenizer, logits: torch.Tensor, k: int = 5) -> list[tuple[str, float]]:
    """[(token label, probability)] of the k most likely next tokens for logits (V,)."""
    probs = F.softmax(logits.float(), dim=-1)
    values, ids = probs.topk(min(k, probs.shape[-1]))
    return [(tokenizer.token_label(int(i)), float(v)) for v, i in zip(values, ids)]


def follow_position(inspection: Inspection, position: int) -> list[tuple[str, int | None, torch.Tensor]]:
    """[(stage, block, vector (C,))]: one token's vector from its embedding ("embedding"),
    after each block's attention ("attn") and MLP ("mlp"), to the final LayerNorm ("final")."""
    stages = [("embedding", None, inspection.hidden_states[0][position])]
    for i, layer in enumerate(inspection.layers):
        stages += [("attn", i, layer.residual_after_attn[position]),
                   ("mlp", i, layer.residual_after[position])]
    stages.append(("final", None, inspection.final_ln_out[position]))
    return stages


def firing_neurons(inspection: Inspection, layer: int, k: int = 8) -> list[dict]:
    """The k hidden MLP neurons of a block with the largest GELU output anywhere in the
    prompt: [{neuron, max, position}], most active first."""
    post = inspection.layers[layer].mlp_post_gelu                 # (T, 4C)
    best, where = post.max(dim=0)
    order = best.argsort(descending=True)[:k]
    return [dict(neuron=int(n), max=float(best[n]), position=int(where[n])) for n in order]


# ---- 2. the residual stream -------------------------------------------------------------

def residual_norms(inspection: Inspection) -> torch.Tensor:
    """(L+1, T): the length of the residual vector after the embedding and after each block."""
    return torch.stack([h.norm(dim=-1) for h in inspection.hidden_states])


@torch.no_grad()
def logit_lens(model, inspection: Inspection) -> torch.Tensor:
    """(L+1, T, V): the logits the model would give if it stopped after the embedding (row 0)
    and after each block: the final LayerNorm and the head applied to that residual. The last
    row is the model's own logits."""
    return torch.stack([model.lm_head(model.ln_final(h)) for h in inspection.hidden_states])


@dataclass(frozen=True)
class Share:
    """One component's share of a logit: kind "token", "position", "head", "attn_bias",
    "mlp" or "final_bias", with its layer and head where it has them."""
    kind: str
    value: float
    layer: int | None = None
    head: int | None = None


@torch.no_grad()
def logit_attribution(model, inspection: Inspection, position: int, token: int) -> list[Share]:
    """Direct logit attribution: each component's share of the logit of ``token`` at
    ``position``; the shares add up to that logit exactly.

    The final LayerNorm is LN(x) = (x - mean(x)) / s * gamma + beta with s = sqrt(var(x) + eps).
    We hold s at its value for the whole residual (the one non-linear part); then centring,
    the scale, gamma and the head are linear, so each component c of the residual adds
    ((c - mean(c)) / s * gamma) . e_token, and beta adds beta . e_token ("final_bias").
    The attention out_proj bias of each block belongs to no head and is listed by itself.
    """
    C = inspection.token_embeddings.shape[-1]
    ln = model.ln_final
    x = inspection.hidden_states[-1][position]
    scale = torch.sqrt(x.var(unbiased=False) + ln.eps)
    w_token = model.lm_head.weight[token]                             # (C,)
    gamma = ln.weight if ln.weight is not None else torch.ones(C)

    def share(c):
        return float(((c - c.mean()) / scale * gamma) @ w_token)

    parts = [Share("token", share(inspection.token_embeddings[position])),
             Share("position", share(inspection.position_embeddings[position]))]
    for i, layer in enumerate(inspection.layers):
        heads = head_contributions(model, inspection, i)[:, position]   # (H, C)
        parts += [Share("head", share(heads[h]), i, h) for h in range(heads.shape[0])]
        parts.append(Share("attn_bias", share(attention_bias(model, i, C)), i))
        parts.append(Share("mlp", share(layer.mlp_out[position]), i))
    beta = ln.bias if ln.bias is not None else torch.zeros(C)
    parts.append(Share("final_bias", float(beta @ w_token)))
    return parts


def lens_top(tokenizer, lens: torch.Tensor):
    """(labels, probabilities), each (L+1, T): the logit lens's top guess in every cell."""
    probs, ids = F.softmax(lens, dim=-1).max(dim=-1)
    labels = [[tokenizer.token_label(int(i)) for i in row] for row in ids]
    return labels, probs.numpy()


# ---- 3. interventions --------------------------------------------------------------------

@dataclass(frozen=True)
class Ablation:
    """One piece switched off: kind "head" (with a head), "mlp" or "block", in a layer."""
    kind: str
    layer: int
    head: int | None = None


@torch.no_grad()
def ablated_logits(model, ids, ablations=(), mode: str = "zero") -> torch.Tensor:
    """(T, V) logits with the given pieces switched off. "zero" puts zeros in place of the
    piece's output; "mean" its mean over the prompt's positions in the unablated run (so the
    piece still adds its average, only the position-specific part is gone). A head's output is
    replaced before the output projection (its bias stays); a block loses attention and MLP."""
    was_training = model.training
    model.eval()
    idx = torch.as_tensor(ids).unsqueeze(0)
    clean = model.inspect(idx) if mode == "mean" else None

    def replace(tensor, clean_tensor):            # tensor (1, T, D), clean_tensor (T, D)
        if mode == "zero":
            return torch.zeros_like(tensor)
        return clean_tensor.mean(dim=0, keepdim=True).expand_as(tensor).clone()

    _, _, x = model._embed(idx)
    for i, block in enumerate(model.blocks):
        mine = [a for a in ablations if a.layer == i]
        head_outputs, _ = block.attn.step_by_step(block.ln_attn(x))       # (1, H, T, hs)
        for a in mine:
            if a.kind == "head":
                ref = clean.layers[i].head_outputs[a.head] if clean else None
                head_outputs[:, a.head] = replace(head_outputs[:, a.head], ref)
        attn_out = block.attn.merge_heads(head_outputs)
        if any(a.kind == "block" for a in mine):
            attn_out = replace(attn_out, clean.layers[i].attn_out if clean else None)
        x = x + attn_out
        mlp_out = block.mlp(block.ln_mlp(x))
        if any(a.kind in ("mlp", "block") for a in mine):
            mlp_out = replace(mlp_out, clean.layers[i].mlp_out if clean else None)
        x = x + mlp_out
    logits = model.lm_head(model.ln_final(x))[0]
    model.train(was_training)
    return logits


@torch.no_grad()
def ablation_ranking(model, ids, position: int, token: int, mode: str = "zero") -> list[dict]:
    """Every head and every MLP switched off alone: [{piece, layer, head, probability,
    change}] of ``token`` at ``position``, the largest drop first."""
    base = float(F.softmax(model.inspect(torch.as_tensor(ids)).logits[position], -1)[token])
    cfg = model.config
    pieces = [Ablation("head", layer, h) for layer in range(cfg.n_layer) for h in range(cfg.n_head)]
    pieces += [Ablation("mlp", layer) for layer in range(cfg.n_layer)]
    rows = []
    for a in pieces:
        p = float(F.softmax(ablated_logits(model, ids, [a], mode)[position], -1)[token])
        rows.append(dict(piece=a.kind, layer=a.layer, head=a.head, probability=p,
                         change=p - base))
    return sorted(rows, key=lambda r: r["change"])


# ---- 5. the document's feed-forward and next-word example, done right ---------------------
# Post 003 writes the feed-forward network as z_i = f(W y_i + b) (§3.2.4, §4.1: one linear layer
# and an activation) and predicts the next word of "The cat sat on the mat" from z_1, the first
# word's vector after it attended to all six words, with a softmax straight over z_1 (§4.3).
# It gives no numbers, so we use the attention lesson's word vectors (3 features a word) and
# the simplest weights: W = I, b = 0 for its version; for ours, a two-layer FFN whose hidden
# pairs (+h, -h) pass ReLU, so it can write h back with either sign: W_2 relu(W_1 h) = h / 2.
FFN_EXPAND = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0],
              [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]]       # W_1 (6, 3)
FFN_CONTRACT = [[0.5 * v for v in row] for row in zip(*FFN_EXPAND)]      # W_2 (3, 6)


def _word_vectors() -> torch.Tensor:
    return torch.tensor(DEFAULT_WORD_VECTORS, dtype=torch.float64)   # float64: worked numbers


def _document_attention(x: torch.Tensor) -> torch.Tensor:
    """(T, T) the document's weights softmax_j(x_i . x_j), no mask (attention lesson, part 1)."""
    return F.softmax(x @ x.T, dim=-1)


def document_next_word() -> tuple[float, ...]:
    """The document's recipe as written: y_1 from "The" attending to every word (no mask),
    z_1 = ReLU(W y_1 + b) with W = I, b = 0, then softmax(z_1): three numbers, one per
    feature, not one per word.

    >>> [round(p, 4) for p in document_next_word()]
    [0.1355, 0.1307, 0.7338]
    """
    x = _word_vectors()
    y = _document_attention(x) @ x                                 # (6, 3), every word sees all
    return tuple(F.softmax(F.relu(y[0]), dim=-1).tolist())


def next_word_done_right() -> tuple[float, ...]:
    """The same sentence the way a GPT predicts: from the LAST word ("mat"), which may see
    every word before it (for the last position the causal mask hides nothing); the residual
    h = x_6 + y_6; a feed-forward with both layers, z = h + W_2 ReLU(W_1 h); then logits over
    the vocabulary (the six word vectors, tied as in our GPT) and a softmax over the words.

    >>> [round(p, 4) for p in next_word_done_right()]
    [0.0006, 0.396, 0.0, 0.0002, 0.0006, 0.6026]
    """
    x = _word_vectors()                                            # (6 words, 3 features)
    h = x[-1] + _document_attention(x)[-1] @ x                     # (3,) residual + attention
    w_1, w_2 = (torch.tensor(w, dtype=torch.float64) for w in (FFN_EXPAND, FFN_CONTRACT))
    z = h + w_2 @ F.relu(w_1 @ h)
    return tuple(F.softmax(x @ z, dim=-1).tolist())                # (6,) one per word


# ---- the page's shared entry points: keyed by the checkpoint, so one result per model --------

def ablation_result(checkpoint, ids, ablations, mode: str, position: int, k: int = 6):
    """(top next tokens before, after) at ``position`` with ``ablations`` switched off."""
    model, tok = checkpoint.model, checkpoint.tokenizer
    before = top_tokens(tok, model.inspect(torch.as_tensor(ids)).logits[position], k)
    after = top_tokens(tok, ablated_logits(model, ids, ablations, mode)[position], k)
    return before, after


def ranking_for(checkpoint, ids, position: int, token: int, mode: str) -> list[dict]:
    return ablation_ranking(checkpoint.model, ids, position, token, mode)


def lens_through_training(checkpoint, ids, position: int) -> list[dict]:
    """For every weight snapshot kept: {step, guesses: the logit lens's top label after the
    embedding and after each block at ``position``, right: whether each is the final model's
    predicted token, probability: that token's probability by the snapshot, key: the head or
    MLP whose zero-ablation lowers it most then (an Ablation), drop: by how much}."""
    final = int(checkpoint.model.inspect(torch.as_tensor(ids)).logits[position].argmax())
    rows = []
    for step in sorted(checkpoint.snapshots):
        model = checkpoint.snapshot_model(step)
        inspection = model.inspect(torch.as_tensor(ids))
        lens = logit_lens(model, inspection)[:, position]                  # (L+1, V)
        top = ablation_ranking(model, ids, position, final)[0]
        rows.append(dict(step=step, guesses=[checkpoint.tokenizer.token_label(int(i))
                                             for i in lens.argmax(-1)],
                         right=[bool(int(i) == final) for i in lens.argmax(-1)],
                         probability=float(F.softmax(inspection.logits[position], -1)[final]),
                         key=Ablation(top["piece"], top["layer"], top["head"]),
                         drop=-top["change"]))
    return rows
