"""Self-attention, from the source document's simplest form up to the trained model's heads.

Read top to bottom:
1. the document's simple attention: alpha = softmax(x_i . x_j), y_i = sum_j alpha_ij x_j
   (its worked example softmax(W_a . h_t), with the verdict on it, is a row of
   ``lessons/worked_numbers.py``);
2. scaled dot-product attention written out step by step, and why we divide by sqrt(d_k);
3. the trained model's attention: every layer and head, per-head summaries, and the same
   maps at the weight snapshots kept during training.

Every function returns numbers; figures.py draws them. Shapes: T = tokens, C = model width,
L = layers, H = heads, hs = head size (d_k).

>>> weights, y = simple_attention(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
>>> [round(w, 3) for w in weights[0].tolist()]     # e / (e + 1) on itself
[0.731, 0.269]
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from lessons.display import ends_inside_a_character, position_labels


# ---- 1. the document's simple attention ---------------------------------------------------

DOCUMENT_WORDS = ["The", "cat", "sat", "on", "the", "mat"]
# Three hand-made features per word: [thing, action, glue-word]. "The" and "the" are the same
# word, so they get the same vector (and therefore tie in every dot product). All six have
# length ~2: with equal lengths each word's best match is itself (see diagonal_is_row_max).
WORD_FEATURES = ["thing", "action", "glue"]
DEFAULT_WORD_VECTORS = [
    [0.2, 0.0, 2.0],   # The
    [2.0, 0.2, 0.0],   # cat
    [0.2, 2.0, 0.0],   # sat
    [0.0, 0.6, 1.9],   # on
    [0.2, 0.0, 2.0],   # the
    [1.9, 0.0, 0.6],   # mat
]
# A hand-made query map for the "why Q/K" demo: with keys = the word vectors themselves,
# q = x @ W_q turns "action" into a search for "thing", "glue" into a search for "action" and
# "thing" into a search for "glue": verbs look for nouns, little words look for verbs.
DEMO_QUERY_MAP = [
    [0.0, 0.0, 1.0],   # thing  -> looks for glue words
    [1.0, 0.0, 0.0],   # action -> looks for things
    [0.0, 1.0, 0.0],   # glue   -> looks for actions
]


def simple_attention(x: torch.Tensor, w_query: torch.Tensor | None = None):
    """The document's attention: scores x_i . x_j, softmax over j, then y_i = sum_j a_ij x_j.

    x (T, d) -> weights (T, T) with rows summing to 1, y (T, d). No mask: every word sees every
    word, as in the document. With ``w_query`` (d, d) the scores become (x_i W_q) . x_j, the
    smallest step towards separate queries and keys.

    >>> w, y = simple_attention(torch.tensor([[2.0, 0.0], [0.0, 1.0]]))
    >>> round(w[0, 0].item(), 4), round(w[1, 1].item(), 4)   # e^4/(e^4+1), e/(e+1)
    (0.982, 0.7311)
    """
    x = torch.as_tensor(x, dtype=torch.float32)
    queries = x if w_query is None else x @ torch.as_tensor(w_query, dtype=torch.float32)
    scores = queries @ x.T                       # (T, T): score[i, j] = q_i . x_j
    weights = F.softmax(scores, dim=-1)
    return weights, weights @ x                   # (T, T), (T, d)


def diagonal_is_row_max(weights: torch.Tensor) -> list[bool]:
    """For each row, does the word give itself the largest weight (ties count)?

    Without projections this is true whenever the vectors have similar lengths, because
    x_i . x_j <= |x_i| |x_j| (Cauchy-Schwarz): the best match for x_i is x_i itself.
    """
    return [bool(weights[i, i] >= weights[i].max() - 1e-6) for i in range(weights.shape[0])]


def list_text(values) -> str:
    """A vector (or nested vectors) written the way the document prints them.

    >>> list_text([0.5, [1.0, 2.0]])
    '[0.5, [1, 2]]'
    """
    return "[" + ", ".join(f"{v:g}" if isinstance(v, (int, float)) else list_text(v)
                           for v in values) + "]"


# ---- 2. scaled dot-product attention, one step at a time ---------------------------------

@dataclass
class AttentionSteps:
    """Every intermediate matrix of one head's attention, for one sequence."""
    q: torch.Tensor          # (T, hs) queries  = X W_q (+ b_q)
    k: torch.Tensor          # (T, hs) keys     = X W_k (+ b_k)
    v: torch.Tensor          # (T, hs) values   = X W_v (+ b_v)
    scores: torch.Tensor     # (T, T)  Q K^T
    scaled: torch.Tensor     # (T, T)  Q K^T / sqrt(hs)
    masked: torch.Tensor     # (T, T)  the same with -inf above the diagonal (if causal)
    weights: torch.Tensor    # (T, T)  softmax of each row
    output: torch.Tensor     # (T, hs) weights @ V


def attention_steps(x, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None,
                    causal: bool = True) -> AttentionSteps:
    """One head of scaled dot-product attention with every step kept.

    x (T, C), w_* (C, hs), b_* (hs,) or None.

    >>> s = attention_steps(torch.eye(2), torch.eye(2), torch.eye(2), torch.eye(2))
    >>> s.weights.tolist()[0]    # the first token can only look at itself
    [1.0, 0.0]
    """
    def project(w, b):
        out = x @ w
        return out if b is None else out + b
    q, k, v = project(w_q, b_q), project(w_k, b_k), project(w_v, b_v)
    return attention_steps_from_qkv(q, k, v, causal)


def attention_steps_from_qkv(q, k, v, causal: bool = True) -> AttentionSteps:
    T, hs = q.shape
    scores = q @ k.T                                    # (T, T)
    scaled = scores / math.sqrt(hs)
    masked = scaled
    if causal:   # position i may not look at j > i: those scores become -inf, weight 0
        future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        masked = scaled.masked_fill(future, float("-inf"))
    weights = F.softmax(masked, dim=-1)
    return AttentionSteps(q, k, v, scores, scaled, masked, weights, weights @ v)


def differences_from_references(steps: AttentionSteps, model_weights: torch.Tensor | None,
                                causal: bool, model_causal: bool = True) -> dict[str, float | None]:
    """How far the hand-written steps are from two independent references: the largest
    absolute difference of the output from torch's F.scaled_dot_product_attention on the same
    q, k, v, and of the weights from the model's own attention map (T, T) of this head.

    The model's map is only comparable when the steps used the model's own mask: a GPT
    (``model_causal``) masks the future, a BERT-style model does not ("model" is None when the
    two differ, and when no map is given).

    >>> s = attention_steps(torch.eye(2), torch.eye(2), torch.eye(2), torch.eye(2))
    >>> d = differences_from_references(s, s.weights, causal=True)
    >>> d["sdpa"] < 1e-6, d["model"]
    (True, 0.0)
    """
    q, k, v = (m[None, None] for m in (steps.q, steps.k, steps.v))      # (1, 1, T, hs)
    sdpa = F.scaled_dot_product_attention(q, k, v, is_causal=causal)[0, 0]
    model = None
    if causal == model_causal and model_weights is not None:
        model = (steps.weights - model_weights).abs().max().item()
    return {"sdpa": (sdpa - steps.output).abs().max().item(), "model": model}


@dataclass
class HeadInputs:
    """What one head of the trained model starts from: its input and its weight slices."""
    x: torch.Tensor                  # (T, C) the block's input after its LayerNorm
    w_q: torch.Tensor                # (C, hs)
    w_k: torch.Tensor
    w_v: torch.Tensor
    b_q: torch.Tensor | None         # (hs,) or None when the model has no biases
    b_k: torch.Tensor | None
    b_v: torch.Tensor | None


@torch.no_grad()
def head_inputs(model, ids, layer: int, head: int) -> HeadInputs:
    """Pull out head ``head`` of block ``layer``: X (after LayerNorm) and its W_q, W_k, W_v.

    The model's qkv Linear holds all heads: weight (3C, C) = [queries; keys; values], each part
    split into heads of hs rows. x @ weight.T is how nn.Linear applies it, so W = rows.T.
    """
    block = model.blocks[layer]
    hidden = model.inspect(torch.as_tensor(ids)).hidden_states[layer]   # (T, C) input to block
    x = block.ln_attn(hidden)
    C, hs = model.config.n_embd, model.config.head_size
    weight, bias = block.attn.qkv.weight, block.attn.qkv.bias
    rows = [slice(part * C + head * hs, part * C + (head + 1) * hs) for part in range(3)]
    ws = [weight[r].T.clone() for r in rows]                               # 3 x (C, hs)
    bs = [bias[r].clone() if bias is not None else None for r in rows]
    return HeadInputs(x, *ws, *bs)


def scaling_experiment(d_values=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512), n_keys: int = 16,
                       n_trials: int = 400, seed: int = 0) -> dict:
    """Why divide by sqrt(d_k): q and k with independent unit-variance entries.

    For each d_k: the variance of q . k (grows like d_k) and of q . k / sqrt(d_k) (stays ~1),
    and the mean largest softmax weight over n_keys keys with and without the scaling
    (near 1 means the softmax has saturated: almost one-hot, gradients almost zero).
    """
    gen = torch.Generator().manual_seed(seed)
    out = {"d_k": [], "var_raw": [], "var_scaled": [], "max_raw": [], "max_scaled": []}
    for d in d_values:
        q = torch.randn(n_trials, 1, d, generator=gen)
        k = torch.randn(n_trials, n_keys, d, generator=gen)
        raw = (q * k).sum(-1)                          # (n_trials, n_keys)
        scaled = raw / math.sqrt(d)
        out["d_k"].append(d)
        out["var_raw"].append(raw.var().item())
        out["var_scaled"].append(scaled.var().item())
        out["max_raw"].append(F.softmax(raw, -1).max(-1).values.mean().item())
        out["max_scaled"].append(F.softmax(scaled, -1).max(-1).values.mean().item())
    return out


# ---- 3. the trained model's attention ----------------------------------------------------

def tokens_for(tokenizer, text: str, max_tokens: int):
    """(ids, readable labels, was_cut) for at most max_tokens tokens of text; the labels are
    the tokenizer's own (spaces as ␣, line breaks as ↵), a character spelt by several byte
    tokens as that character with each token's place (猫·1/3, 猫·2/3, 猫·3/3).

    >>> from lessons.engine.tokenizers import CharTokenizer
    >>> tokens_for(CharTokenizer.train("a b"), "a b\\n", 3)
    ([1, 0, 2], ['a', '␣', 'b'], True)
    """
    spans = first_spans(tokenizer, text, max_tokens)
    cut = len(spans) > max_tokens
    ids = [s.id for s in spans[:max_tokens]]
    while cut and ids and ends_inside_a_character(tokenizer, ids):
        ids.pop()              # a cut inside a character: show the whole ones before it
    return ids, position_labels(tokenizer, ids), cut


def first_spans(tokenizer, text: str, max_tokens: int, margin: int = 8) -> list:
    """The token spans of the text's start, at least the first ``max_tokens`` of them exactly
    as in the whole text's spans (all of them for a short text).

    A long text is split in growing prefixes: splitting a pasted book whole took seconds for
    the 24 tokens a page shows. A prefix's spans are the text's own but for its last few
    tokens (a word the prefix cuts through), hence the margin.

    >>> from lessons.engine.tokenizers import CharTokenizer
    >>> tok = CharTokenizer.train("ab")
    >>> [s.id for s in first_spans(tok, "ab" * 10_000, 3)][:3], len(first_spans(tok, "ab", 3))
    ([0, 1, 0], 2)
    """
    size = 16 * (max_tokens + margin)
    while size < len(text):
        spans = tokenizer.token_spans(text[:size])
        if len(spans) > max_tokens + margin:
            return spans
        size *= 4
    return tokenizer.token_spans(text)


def model_pass(checkpoint, text: str, max_tokens: int):
    """Everything the attention page draws from the model for a text, as one result:
    (ids, token labels, was_cut, attention (L, H, T, T)) of its first max_tokens tokens;
    the attention is None for a text with no tokens.

    >>> from lessons.engine.checkpoint import toy_checkpoint
    >>> ckpt = toy_checkpoint("ab", block_size=8, n_layer=2, n_head=2, n_embd=8)
    >>> tok = ckpt.tokenizer
    >>> ids, tokens, cut, attn = model_pass(ckpt, "abba", 3)
    >>> tokens, cut, tuple(attn.shape)
    (['a', 'b', 'b'], True, (2, 2, 3, 3))
    >>> model_pass(ckpt, "", 3)
    ([], [], False, None)
    """
    ids, tokens, cut = tokens_for(checkpoint.tokenizer, text, max_tokens)
    return ids, tokens, cut, (attention_maps(checkpoint.model, ids) if ids else None)


@torch.no_grad()
def attention_maps(model, ids) -> torch.Tensor:
    """All attention weights of the model for one sequence: (L, H, T, T)."""
    return torch.stack(model.inspect(torch.as_tensor(ids)).attention)


def head_summaries(attn: torch.Tensor) -> list[dict]:
    """One row per (layer, head) of attn (L, H, T, T), averaged over query rows 1..T-1
    (row 0 can only look at itself, so it says nothing about the head):

    - distance: mean of sum_j w_ij (i - j), how far back the head looks, in tokens;
    - entropy: mean of -sum_j w_ij log2 w_ij in bits (0 = one key; log2(i+1) = uniform);
    - previous / first / self: mean weight on token i-1, on token 0, on token i;
    - pattern: whichever of those three holds more than half the weight, else "spread".

    >>> prev = torch.tensor([[[[1., 0, 0], [1, 0, 0], [0, 1, 0]]]])   # looks one back
    >>> row = head_summaries(prev)[0]
    >>> row["distance"], row["entropy"], row["pattern"]
    (1.0, 0.0, 'previous')
    """
    L, H, T, _ = attn.shape
    i = torch.arange(T)
    offsets = (i[:, None] - i[None, :]).clamp(min=0).float()      # (T, T): i - j, 0 above diag
    rows = slice(1, T) if T > 1 else slice(0, T)
    out = []
    for layer in range(L):
        for head in range(H):
            w = attn[layer, head].float()
            plogp = torch.where(w > 0, w * torch.log2(w.clamp_min(1e-12)), torch.zeros_like(w))
            shares = {
                "previous": w[i[1:], i[1:] - 1].mean().item() if T > 1 else 0.0,
                "first": w[rows, 0].mean().item(),
                "self": w[i, i][rows].mean().item(),
            }
            best = max(shares, key=shares.get)
            out.append({"layer": layer, "head": head,
                        "distance": (w * offsets).sum(-1)[rows].mean().item(),
                        "entropy": (-plogp.sum(-1))[rows].mean().item(),
                        **shares, "pattern": best if shares[best] > 0.5 else "spread"})
    return out


def attention_through_training(checkpoint, ids) -> list[tuple[int, torch.Tensor]]:
    """[(step, attention (L, H, T, T))] for every weight snapshot kept in the checkpoint."""
    return [(step, attention_maps(checkpoint.snapshot_model(step), ids))
            for step in sorted(checkpoint.snapshots)]
