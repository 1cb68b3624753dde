"""Where a transformer's parameters and compute are: counts by component from the formulas, for
the learner's model and for published configurations (GPT-2 small, GPT-3 175B, the source
document's nn.Transformer).

>>> sum(parameters_by_component(PUBLISHED[0]).values())     # GPT-2 small, tied head
124439808
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Architecture:
    """Enough of a configuration to count its parameters by component."""
    name: str
    vocab_size: int
    context: int
    n_layer: int
    d_model: int
    d_ff: int
    bias: bool = True
    tied: bool = True
    decoder_layers: int = 0          # an encoder-decoder (the original Transformer)


# published configurations: GPT-2 small (Radford et al. 2019, the released config.json),
# GPT-3 175B (Brown et al. 2020, Table 2.1), the source document's nn.Transformer (d_model 512,
# 6 encoder + 6 decoder layers, feed-forward 2048), counted without its embeddings
PUBLISHED = (
    Architecture("GPT-2 small", 50257, 1024, 12, 768, 3072),
    Architecture("GPT-3 175B", 50257, 2048, 96, 12288, 49152),
    Architecture("Transformer (512, 6+6)", 0, 0, 6, 512, 2048, decoder_layers=6),
)


def architecture_of(model, name: str = "model") -> Architecture:
    c = model.config
    return Architecture(name, c.vocab_size, c.block_size, c.n_layer, c.n_embd, 4 * c.n_embd,
                        c.bias, model.lm_head.weight is model.token_embedding.weight)


def parameters_by_component(arch: Architecture) -> dict[str, int]:
    """{embeddings, attention, MLP, LayerNorm, head}: parameter counts from the formulas.
    Attention: 4 d^2 (+ 4 d biases); MLP: 2 d d_ff (+ d_ff + d); LayerNorm: 2 d each (d
    without bias); a decoder layer has a second (cross-)attention and a third LayerNorm.

    >>> parameters_by_component(PUBLISHED[0])["attention"]       # 12 * (4 * 768^2 + 4 * 768)
    28348416
    """
    d, b = arch.d_model, int(arch.bias)
    attention = 4 * d * d + b * 4 * d
    mlp = 2 * d * arch.d_ff + b * (arch.d_ff + d)
    norm = d * (1 + b)
    layers, dec = arch.n_layer, arch.decoder_layers
    final_norms = 1 if dec == 0 else 2
    return {"embeddings": arch.vocab_size * d + arch.context * d,
            "attention": layers * attention + dec * 2 * attention,
            "MLP": (layers + dec) * mlp,
            "LayerNorm": (2 * layers + 3 * dec + final_norms) * norm,
            "head": 0 if arch.tied else arch.vocab_size * d}


def flops_per_token(arch: Architecture) -> int:
    """Forward-pass FLOPs for one token with a full context: 2 per weight (a multiply and an
    add) in every matrix of attention and MLP, 2 * context * d for the scores Q K^T and as much
    for weights @ V in each attention, and 2 V d for the output layer. Biases, LayerNorm,
    softmax and GELU are left out (a few per cent in a small model, nothing in a large one).

    >>> round(flops_per_token(PUBLISHED[0]) / 1e6)                # GPT-2 small, in millions
    285
    """
    d, T = arch.d_model, arch.context
    attention_weights, mlp_weights = 4 * d * d, 2 * d * arch.d_ff
    encoder = arch.n_layer * (2 * (attention_weights + mlp_weights) + 4 * T * d)
    decoder = arch.decoder_layers * (2 * (2 * attention_weights + mlp_weights) + 8 * T * d)
    return encoder + decoder + 2 * arch.vocab_size * d
