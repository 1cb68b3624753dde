"""A small transformer, in one file, read top to bottom:
SelfAttention -> MLP -> Block -> GPT (forward, features, inspect).

One setting picks the attention mask (``ModelConfig.causal``): causal, GPT-style (position i
sees positions <= i; a next-token predictor) or bidirectional, BERT-style (every position sees
the whole sequence; a masked-token predictor). Everything else is the same classes and weights.

Two paths through attention share the same weights:
- the *fast path* (training, decoding) calls torch's fused ``scaled_dot_product_attention``;
- the *inspection path* (the pages) writes every step out, so ``GPT.inspect`` can return each
  layer's pieces: the LayerNorm outputs, every head's attention weights and output, the MLP's
  activations before and after GELU, and the residual stream between them.
Tests prove the two paths give the same logits, and that the pieces add back up to them.

Turning logits into text lives in ``lessons.engine.decoding``; this file is only the network.

Shapes: B = batch, T = sequence length, C = n_embd, nh = n_head, hs = head size = C // nh.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from lessons.engine.config import ModelConfig


class SelfAttention(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.n_head = config.n_head
        self.head_size = config.head_size
        self.causal = config.causal
        self.dropout = config.dropout
        # one matrix makes query, key and value for all heads at once
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.out_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.out_dropout = nn.Dropout(config.dropout)

    def split_heads(self, x: torch.Tensor):
        """(B, T, C) -> q, k, v each (B, nh, T, hs)."""
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        return [t.view(B, T, self.n_head, self.head_size).transpose(1, 2) for t in (q, k, v)]

    def merge_heads(self, y: torch.Tensor) -> torch.Tensor:
        """(B, nh, T, hs) -> (B, T, C), then the output projection."""
        B, nh, T, hs = y.shape
        y = y.transpose(1, 2).contiguous().view(B, T, nh * hs)
        return self.out_dropout(self.out_proj(y))

    def forward(self, x: torch.Tensor, attend: torch.Tensor | None = None) -> torch.Tensor:
        """``attend`` (B, T) bool, optional: False marks padding no position may look at."""
        q, k, v = self.split_heads(x)
        dropout = self.dropout if self.training else 0.0
        if attend is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal, dropout_p=dropout)
        else:
            allowed = attend[:, None, None, :]                     # (B, 1, 1, T) real keys
            if self.causal:
                allowed = allowed & causal_mask(x.shape[1], x.device)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=dropout)
        return self.merge_heads(y)

    def step_by_step(self, x: torch.Tensor):
        """The same computation, written out so its pieces can be returned.

        Returns (head outputs (B, nh, T, hs), attention weights (B, nh, T, T)); row i of a
        head's weights says how much position i draws from each position j (only j <= i
        when causal). ``merge_heads(head outputs)`` is the sub-layer's output.
        """
        q, k, v = self.split_heads(x)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_size)   # (B, nh, T, T)
        if self.causal:
            scores = scores.masked_fill(~causal_mask(x.shape[1], x.device), float("-inf"))
        weights = F.softmax(scores, dim=-1)
        # subtle: no attention dropout here; inspection always runs in eval mode
        return weights @ v, weights

    def forward_with_weights(self, x: torch.Tensor):
        """(output (B, T, C), attention weights (B, nh, T, T)) by the inspection path."""
        head_outputs, weights = self.step_by_step(x)
        return self.merge_heads(head_outputs), weights


def causal_mask(T: int, device=None) -> torch.Tensor:
    """(T, T) bool, True where position i (row) may look at position j (column): j <= i.

    >>> causal_mask(3).int().tolist()
    [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


class MLP(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.expand = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.contract = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.contract(F.gelu(self.expand(x))))


@dataclass
class LayerTrace:
    """What one block did to one sequence (batch dimension removed). Pre-LayerNorm block:
    residual_after_attn = residual_before + attn_out; residual_after = that + mlp_out."""
    residual_before: torch.Tensor      # (T, C) the residual stream entering the block
    attn_input: torch.Tensor           # (T, C) ln_attn(residual_before)
    attn_weights: torch.Tensor         # (nh, T, T)
    head_outputs: torch.Tensor         # (nh, T, hs) each head's weights @ values, before out_proj
    attn_out: torch.Tensor             # (T, C) the attention sub-layer's output (after out_proj)
    residual_after_attn: torch.Tensor  # (T, C)
    mlp_input: torch.Tensor            # (T, C) ln_mlp(residual_after_attn)
    mlp_pre_gelu: torch.Tensor         # (T, 4C) mlp.expand's output
    mlp_post_gelu: torch.Tensor        # (T, 4C) GELU of that
    mlp_out: torch.Tensor              # (T, C) mlp.contract's output
    residual_after: torch.Tensor       # (T, C) the residual stream leaving the block


class Block(nn.Module):
    """Pre-LayerNorm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.ln_attn = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = SelfAttention(config)
        self.ln_mlp = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, attend: torch.Tensor | None = None):
        x = x + self.attn(self.ln_attn(x), attend)
        return x + self.mlp(self.ln_mlp(x))

    def trace(self, x: torch.Tensor) -> LayerTrace:
        """The inspection path through the block for x (1, T, C); eval mode, no dropout."""
        attn_input = self.ln_attn(x)
        head_outputs, weights = self.attn.step_by_step(attn_input)
        attn_out = self.attn.merge_heads(head_outputs)
        mid = x + attn_out
        mlp_input = self.ln_mlp(mid)
        pre_gelu = self.mlp.expand(mlp_input)
        post_gelu = F.gelu(pre_gelu)
        mlp_out = self.mlp.contract(post_gelu)
        pieces = (x, attn_input, weights, head_outputs, attn_out, mid, mlp_input, pre_gelu,
                  post_gelu, mlp_out, mid + mlp_out)
        return LayerTrace(*(p[0] for p in pieces))


@dataclass
class Inspection:
    """Everything the pages draw for one input sequence (batch of 1, batch dim removed)."""
    logits: torch.Tensor               # (T, vocab)
    token_embeddings: torch.Tensor     # (T, C) rows of the embedding table for the input
    position_embeddings: torch.Tensor  # (T, C)
    layers: list[LayerTrace]           # one per block
    final_ln_out: torch.Tensor         # (T, C) ln_final(last residual); logits = lm_head(this)

    @property
    def hidden_states(self) -> list[torch.Tensor]:
        """n_layer + 1 tensors (T, C): the input to block 0, ..., the output of the last."""
        return [self.layers[0].residual_before] + [layer.residual_after for layer in self.layers]

    @property
    def attention(self) -> list[torch.Tensor]:
        """n_layer tensors (nh, T, T)."""
        return [layer.attn_weights for layer in self.layers]


class GPT(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.n_embd)
        self.position_embedding = nn.Embedding(config.block_size, config.n_embd)
        self.embed_dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_final = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # Weight tying: reading a token in and writing it out use the same vectors.
        self.lm_head.weight = self.token_embedding.weight
        self.apply(self._init_weights)
        # GPT-2's trick: shrink the residual projections so the sum over layers stays ~unit scale
        for name, p in self.named_parameters():
            if name.endswith("out_proj.weight") or name.endswith("contract.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_parameters(self) -> int:
        """Trainable parameters, counting the tied embedding/head matrix once."""
        return sum(p.numel() for p in self.parameters())

    def _embed(self, idx):
        T = idx.shape[1]
        if T > self.config.block_size:
            raise ValueError(f"sequence of {T} tokens is longer than the block size "
                             f"({self.config.block_size})")
        positions = torch.arange(T, device=idx.device)
        tok, pos = self.token_embedding(idx), self.position_embedding(positions)  # (B,T,C), (T,C)
        return tok, pos, self.embed_dropout(tok + pos)

    def features(self, idx: torch.Tensor, attend: torch.Tensor | None = None) -> torch.Tensor:
        """idx (B, T) -> the final LayerNorm's output (B, T, C): what every head reads.
        ``attend`` (B, T) bool marks real tokens when a batch is padded (False: padding)."""
        _, _, x = self._embed(idx)
        for block in self.blocks:
            x = block(x, attend)
        return self.ln_final(x)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None,
                attend: torch.Tensor | None = None):
        """idx (B, T) token ids -> logits (B, T, vocab) and, given targets (B, T), the mean
        cross-entropy of predicting them. A target of -100 is skipped (F.cross_entropy's
        ignore_index): a masked-token objective scores only the positions it hid."""
        logits = self.lm_head(self.features(idx, attend))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss

    @torch.no_grad()
    def inspect(self, idx: torch.Tensor) -> Inspection:
        """Run one sequence (T,) or (1, T) through the inspection path."""
        if idx.dim() == 1:
            idx = idx.unsqueeze(0)
        was_training = self.training
        self.eval()
        tok, pos, x = self._embed(idx)
        layers = []
        for block in self.blocks:
            layers.append(block.trace(x))
            x = layers[-1].residual_after.unsqueeze(0)
        final = self.ln_final(x)
        logits = self.lm_head(final)
        self.train(was_training)
        return Inspection(logits[0], tok[0], pos, layers, final[0])
