"""Embeddings: how a token id becomes a vector, and how the table of vectors organises itself.

Four pieces, each a pure function the page and the notebook share:

1. The source document's worked example (section 3.3.1): an embedding is ``W · x`` with ``x`` a
   one-hot vector, which is the same as picking one column of ``W`` -- and ``torch.nn.Embedding``
   is that pick, stored row-wise. ``matrix_times_vector`` writes ``W · x`` out entry by entry;
   the document's numbers themselves, and the verdict on them, live in ``lessons/worked_numbers.py``.
2. The trained model's token table: a PCA projection, a simple class for every token, nearest
   neighbours and cosine similarity.
3. The learned position vectors and how similar positions are to each other, and what
   attention alone knows of word order (``order_without_positions``).
4. A timeline: the same projection at every weight snapshot kept while training
   (``timeline.py``).

>>> [step.total for step in matrix_times_vector([[0, 1, 0], [1, 0, 1], [0, 1, 0]], [1, 0, 0])]
[0, 1, 0]

Shapes: V = vocabulary size, C = embedding width (n_embd), T = block size, k = 2 or 3 axes.
"""
from __future__ import annotations

import copy
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F


# ---- 1. W · x, one entry at a time -------------------------------------------------------------

class RowProduct(NamedTuple):
    """One entry of W · x: row i of W, its products with x entry by entry, and their sum."""
    row: tuple
    products: tuple
    total: float    # an int when W and x are ints


def matrix_times_vector(matrix, vector) -> list[RowProduct]:
    """W · x written out one entry at a time: entry i is row i of W dotted with x.

    The plain vector is ``[step.total for step in ...]``; the page shows every step.

    >>> matrix_times_vector(((1, 2), (3, 4)), (1, 0))
    [RowProduct(row=(1, 2), products=(1, 0), total=1), RowProduct(row=(3, 4), products=(3, 0), total=3)]
    """
    steps = []
    for row in matrix:
        products = tuple(a * b for a, b in zip(row, vector, strict=True))
        steps.append(RowProduct(tuple(row), products, sum(products)))
    return steps


def embedding_lookup_demo(index: int, matrix) -> dict:
    """Three ways to get token ``index``'s vector (index counted from 0, as Python does).

    W · one_hot(index) picks column ``index`` of W. ``nn.Embedding`` keeps one *row* per token,
    so it holds W transposed; its forward pass is plain indexing, no multiplication.

    >>> demo = embedding_lookup_demo(0, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    >>> demo["matmul"], demo["embedding"], demo["same"]
    ([0.0, 1.0, 0.0], [0.0, 1.0, 0.0], True)
    """
    W = torch.tensor(matrix, dtype=torch.float32)               # (C, V): one column per token
    one_hot = F.one_hot(torch.tensor(index), W.shape[1]).float()  # (V,)
    matmul = W @ one_hot                                          # (C,)
    table = torch.nn.Embedding(W.shape[1], W.shape[0])
    with torch.no_grad():
        table.weight.copy_(W.T)                                   # (V, C): row i = column i of W
    looked_up = table(torch.tensor([index]))[0].detach()          # (C,)
    return {"one_hot": one_hot.tolist(), "matmul": matmul.tolist(),
            "column": W[:, index].tolist(), "embedding": looked_up.tolist(),
            "same": bool(torch.equal(matmul, looked_up))}


def latex_vector(values) -> str:
    r"""A column vector; entries may be numbers or the document's printed digits.

    >>> print(latex_vector([0.0, "1", 2]))
    \begin{bmatrix}0 \\ 1 \\ 2\end{bmatrix}
    """
    return r"\begin{bmatrix}" + r" \\ ".join(_num(v) for v in values) + r"\end{bmatrix}"


def latex_matrix(rows) -> str:
    return r"\begin{bmatrix}" + r" \\ ".join(" & ".join(_num(v) for v in r) for r in rows) \
        + r"\end{bmatrix}"


def latex_steps(matrix, vector) -> str:
    """'W · x = [0·1 + 1·0 + 0·0, ...] = [...]' as LaTeX, for st.latex or a notebook, from the
    steps of ``matrix_times_vector``."""
    steps = matrix_times_vector(matrix, vector)
    sums = [" + ".join(rf"{_num(a)}\cdot{_num(b)}" for a, b in zip(step.row, vector))
            for step in steps]
    return (latex_matrix(matrix) + r"\cdot" + latex_vector(vector) + "="
            + r"\begin{bmatrix}" + r" \\ ".join(sums) + r"\end{bmatrix}" + "="
            + latex_vector([step.total for step in steps]))


def _num(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


# ---- 2. the trained model's token table ---------------------------------------------------------

TOKEN_CLASSES = ("letter", "digit", "punctuation", "whitespace", "cjk", "byte", "other")


@dataclass(frozen=True)
class TokenInfo:
    id: int
    label: str     # readable and unique: the tokenizer's label (␣, ↵ ...), "#id" added to a repeat
    kind: str      # one of TOKEN_CLASSES


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x3000 <= code <= 0x303F
            or 0xFF00 <= code <= 0xFFEF or 0x20000 <= code <= 0x2FA1F)


def token_class(text: str, is_byte: bool = False) -> str:
    """A simple class for a token's text, used only to colour the scatter.

    >>> [token_class(s) for s in ["e", " the", "7", ",", "\\n", "猫", "x2"]]
    ['letter', 'letter', 'digit', 'punctuation', 'whitespace', 'cjk', 'other']
    """
    if is_byte:
        return "byte"
    if not text:
        return "other"
    if text.isspace():
        return "whitespace"
    if any(_is_cjk(c) for c in text):
        return "cjk"
    core = text.strip()     # subtle: BPE tokens often carry a leading space (" the")
    if core.isalpha():
        return "letter"
    if core.isdigit():
        return "digit"
    if all(unicodedata.category(c)[0] in "PS" for c in core):   # P: punctuation, S: symbols
        return "punctuation"
    return "other"


def token_table(tokenizer) -> list[TokenInfo]:
    """Every token id with a readable label and its class, for any tokenizer.

    Byte tokens -- a char tokenizer's 256 ``<0xNN>`` fallbacks, or a BPE token that is only part
    of a UTF-8 character -- get the class "byte": they are rarely or never seen in training.
    Special tokens (``<|endoftext|>``, ``[MASK]`` ...) are "other".

    >>> from lessons.engine.tokenizers import CharTokenizer
    >>> [(t.label, t.kind) for t in token_table(CharTokenizer.train("a\\n1"))][:4]
    [('↵', 'whitespace'), ('1', 'digit'), ('a', 'letter'), ('<0x00>', 'byte')]
    """
    infos, seen = [], set()
    for i in range(tokenizer.vocab_size):
        label = tokenizer.token_label(i)
        if tokenizer.is_special(i):
            kind = "other"
        elif tokenizer.is_byte_piece(i):
            kind = "byte"
        else:
            kind = token_class(tokenizer.token_bytes(i).decode("utf-8"))
        if label in seen:                 # plotly merges equal category names: keep them apart
            label = f"{label}#{i}"
        seen.add(label)
        infos.append(TokenInfo(i, label, kind))
    return infos


def visible_ids(tokens: list[TokenInfo], show_bytes: bool = False) -> list[int]:
    return [tok.id for tok in tokens if show_bytes or tok.kind != "byte"]


def visible_tokens(checkpoint, show_bytes: bool = False) -> tuple[list[TokenInfo], list[int]]:
    """(the token table of the checkpoint's tokenizer, the ids shown: all, or all but the
    byte tokens). Both indexed by id: ``tokens[i].id == i``.

    >>> from lessons.engine.checkpoint import Checkpoint
    >>> from lessons.engine.tokenizers import CharTokenizer
    >>> tokens, ids = visible_tokens(Checkpoint(None, CharTokenizer.train("ab")))
    >>> len(tokens), [tokens[i].label for i in ids]     # a, b and 256 hidden byte tokens
    (258, ['a', 'b'])
    """
    tokens = token_table(checkpoint.tokenizer)
    return tokens, visible_ids(tokens, show_bytes)


@dataclass(frozen=True)
class Projection:
    coords: torch.Tensor      # (N, k) each vector's coordinates along the axes
    axes: torch.Tensor        # (k, C) unit-length principal directions, largest variance first
    mean: torch.Tensor        # (C,) the mean vector that was subtracted
    explained: torch.Tensor   # (k,) share of the total variance along each axis


def pca_project(vectors: torch.Tensor, n_components: int = 2) -> Projection:
    """Principal component analysis by SVD of the centred matrix: (N, C) -> (N, k).

    Centre the rows, factor X - mean = U S Vh; the first k rows of Vh are the directions of
    largest spread, and the coordinates are (X - mean) @ Vh[:k].T. An axis and its negative are
    equally good, so each axis is flipped to make its largest loading positive (a fixed choice,
    so the picture does not mirror itself between runs).

    >>> p = pca_project(torch.tensor([[0., 0.], [2., 0.], [4., 0.]]), n_components=1)
    >>> p.coords.flatten().tolist(), p.explained.tolist()
    ([-2.0, 0.0, 2.0], [1.0])
    """
    if vectors.dim() != 2 or vectors.shape[0] < 2:
        raise ValueError("PCA needs a matrix with at least two rows")
    if not 1 <= n_components <= min(vectors.shape):
        raise ValueError(f"cannot take {n_components} axes from a {tuple(vectors.shape)} matrix")
    X = vectors.detach().double()                            # (N, C); float64 for a stable SVD
    mean = X.mean(dim=0)
    centred = X - mean
    _, S, Vh = torch.linalg.svd(centred, full_matrices=False)   # S (r,), Vh (r, C)
    axes = Vh[:n_components]
    biggest = axes.abs().argmax(dim=1)
    signs = torch.sign(axes[torch.arange(n_components), biggest])
    axes = axes * signs[:, None]
    variance = S ** 2
    explained = variance[:n_components] / variance.sum().clamp_min(1e-30)
    return Projection((centred @ axes.T).float(), axes.float(), mean.float(), explained.float())


def cosine_similarity_matrix(vectors: torch.Tensor) -> torch.Tensor:
    """(N, C) -> (N, N): entry (i, j) is cos(angle between vector i and vector j)."""
    unit = F.normalize(vectors.float(), dim=1)
    return unit @ unit.T


def nearest_neighbours(vectors: torch.Tensor, index: int, k: int = 10,
                       candidates: list[int] | None = None) -> list[tuple[int, float]]:
    """The k rows most similar to row ``index`` by cosine, best first, never ``index`` itself.

    ``candidates`` restricts the search (e.g. to the tokens on screen).

    >>> table = torch.tensor([[1., 0.], [0.9, 0.1], [0., 1.], [-1., 0.]])
    >>> [i for i, _ in nearest_neighbours(table, 0, k=3)]
    [1, 2, 3]
    """
    unit = F.normalize(vectors.float(), dim=1)               # (V, C)
    similarity = unit @ unit[index]                          # (V,)
    pool = torch.tensor([c for c in (candidates if candidates is not None
                                     else range(len(vectors))) if c != index], dtype=torch.long)
    if len(pool) == 0:
        return []
    best = torch.topk(similarity[pool], min(k, len(pool)))
    return [(int(pool[i]), float(v)) for v, i in zip(best.values, best.indices)]


def class_separation(vectors: torch.Tensor, kinds: list[str]) -> float:
    """Mean cosine between tokens of the same class minus mean cosine across classes.

    Near 0: the classes are mixed together (random vectors). Larger: same-class tokens point the
    same way, i.e. clusters have formed. A class with a single token has no same-class pair.

    >>> round(class_separation(torch.tensor([[1., 0.], [1., .1], [0., 1.], [.1, 1.]]), "aabb"), 2)
    0.9
    """
    sim = cosine_similarity_matrix(vectors)
    codes = {kind: n for n, kind in enumerate(dict.fromkeys(kinds))}
    code = torch.tensor([codes[kind] for kind in kinds])     # (N,) one integer per class
    same = code[:, None] == code[None, :]                      # (N, N)
    off_diagonal = ~torch.eye(len(code), dtype=torch.bool)
    within, across = sim[same & off_diagonal], sim[~same]
    if len(within) == 0 or len(across) == 0:
        return 0.0
    return float(within.mean() - across.mean())


def mean_vector_length(vectors: torch.Tensor) -> float:
    """Mean Euclidean length of the rows of vectors (N, C).

    >>> mean_vector_length(torch.tensor([[3., 4.], [0., 1.]]))
    3.0
    """
    return float(vectors.norm(dim=1).mean())


# ---- 3. position embeddings -----------------------------------------------------------------------

def position_similarity_by_distance(position_weight: torch.Tensor) -> list[float]:
    """Mean cosine between positions d apart, for d = 1 .. T-1 (entry d-1).

    A learned position table usually makes near positions more alike than far ones; this
    number shows whether the model in hand has learned that.

    >>> position_similarity_by_distance(torch.tensor([[1., 0.], [1., 0.], [0., 1.]]))
    [0.5, 0.0]
    """
    sim = cosine_similarity_matrix(position_weight)
    return [float(torch.diagonal(sim, offset=d).mean()) for d in range(1, sim.shape[0])]


class OrderTest(NamedTuple):
    """What a model with its position table zeroed makes of two orders of the same tokens."""
    unmasked: float    # largest difference of a token's output between the orders, no mask
    masked: float      # largest difference of the last position's scores, the causal mask on


def order_without_positions(checkpoint, first: str, second: str) -> OrderTest | None:
    """Run ``first`` and ``second`` (the same tokens in another order, e.g. "cat sat" and
    "sat cat") through a copy of the model whose position vectors are all zero.

    Without a mask, attention is blind to order: each token's output is the same in both
    orders, only moved (``unmasked`` is rounding, ~1e-6). With the causal mask each token
    sees only its left side, so order leaks in and the last position's next-token scores
    differ (``masked``). None when the two texts are not the same tokens."""
    tokenizer = checkpoint.tokenizer
    a, b = tokenizer.encode(first), tokenizer.encode(second)
    if not a or sorted(a) != sorted(b) or len(a) > checkpoint.model.config.block_size:
        return None
    model = copy.deepcopy(checkpoint.model).eval()
    with torch.no_grad():
        model.position_embedding.weight.zero_()
        masked = (_last_scores(model, a, True) - _last_scores(model, b, True)).abs().max()
        out_a, out_b = _outputs(model, a, False), _outputs(model, b, False)
    # match each token of b to a place of the same token in a (equal tokens, equal outputs)
    unused = {}
    for place, token in enumerate(a):
        unused.setdefault(token, []).append(place)
    moved = torch.stack([out_a[unused[token].pop(0)] for token in b])
    return OrderTest(float((moved - out_b).abs().max()), float(masked))


def _outputs(model, ids: list[int], causal: bool) -> torch.Tensor:
    """(T, V) scores at every position, with the causal mask on or off for this call."""
    saved = [block.attn.causal for block in model.blocks]
    for block in model.blocks:
        block.attn.causal = causal
    try:
        return model(torch.tensor([ids]))[0][0]
    finally:
        for block, was in zip(model.blocks, saved):
            block.attn.causal = was


def _last_scores(model, ids: list[int], causal: bool) -> torch.Tensor:
    return _outputs(model, ids, causal)[-1]
