"""A small decoder-only GPT, in one file, read top to bottom:
CausalSelfAttention -> MLP -> Block -> GPT (forward, inspect, generate).

Two paths through attention share the same weights:
- the *fast path* (training) calls torch's fused ``scaled_dot_product_attention``;
- the *inspection path* (the pages) writes attention out step by step, so it can return
  every layer's and head's attention weights and every block's hidden state.
A test proves they produce the same logits.

Shapes: B = batch, T = sequence length, C = n_embd, nh = n_head, hs = head size = C // nh.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from lessons.engine.config import ModelConfig
from lessons.engine.decoding import sample_next


class CausalSelfAttention(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.n_head = config.n_head
        self.head_size = config.head_size
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.split_heads(x)
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0)
        return self.merge_heads(y)

    def forward_with_weights(self, x: torch.Tensor):
        """The same computation, written out so the weights can be returned.

        Returns (output (B, T, C), attention weights (B, nh, T, T)); row i of a head's
        weights says how much position i draws from each position j <= i.
        """
        q, k, v = self.split_heads(x)
        T = x.shape[1]
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_size)   # (B, nh, T, T)
        future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
        scores = scores.masked_fill(future, float("-inf"))
        weights = F.softmax(scores, dim=-1)
        # subtle: no attention dropout here; inspection always runs in eval mode
        return self.merge_heads(weights @ v), weights


class MLP(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.expand = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.contract = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.contract(F.gelu(self.expand(x))))


class Block(nn.Module):
    """Pre-LayerNorm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.ln_attn = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_mlp = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_attn(x))
        return x + self.mlp(self.ln_mlp(x))

    def forward_with_weights(self, x):
        attn_out, weights = self.attn.forward_with_weights(self.ln_attn(x))
        x = x + attn_out
        return x + self.mlp(self.ln_mlp(x)), weights


@dataclass
class Inspection:
    """Everything the pages draw for one input sequence (batch of 1, batch dim removed)."""
    logits: torch.Tensor               # (T, vocab)
    token_embeddings: torch.Tensor     # (T, C) rows of the embedding table for the input
    position_embeddings: torch.Tensor  # (T, C)
    hidden_states: list[torch.Tensor]  # n_layer + 1 tensors (T, C): input to block 0, ..., output of last
    attention: list[torch.Tensor]      # n_layer tensors (nh, T, T)


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

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """idx (B, T) token ids -> logits (B, T, vocab) and, given targets (B, T), the mean
        cross-entropy of predicting each next token."""
        _, _, x = self._embed(idx)
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_final(x))
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
        hidden, attention = [x[0]], []
        for block in self.blocks:
            x, weights = block.forward_with_weights(x)
            hidden.append(x[0])
            attention.append(weights[0])
        logits = self.lm_head(self.ln_final(x))
        self.train(was_training)
        return Inspection(logits[0], tok[0], pos, hidden, attention)

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None,
                 generator: torch.Generator | None = None,
                 never: torch.Tensor | None = None) -> torch.Tensor:
        """Extend idx (B, T) by sampling one token at a time.

        temperature 0 means greedy; top_k keeps the k likeliest tokens; top_p keeps the smallest
        set whose probabilities add up to at least p (nucleus sampling); ``never`` is a bool
        mask (vocab,) of tokens never to emit (e.g. byte tokens absent from the training text).
        """
        was_training = self.training
        self.eval()
        for _ in range(max_new_tokens):
            context = idx[:, -self.config.block_size:]
            logits, _ = self(context)
            last = logits[:, -1, :]
            if never is not None:
                last = last.masked_fill(never, float("-inf"))
            next_id = sample_next(last, temperature, top_k, top_p, generator)
            idx = torch.cat((idx, next_id), dim=1)
        self.train(was_training)
        return idx

