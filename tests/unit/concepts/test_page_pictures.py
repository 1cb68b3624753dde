"""The functions the pages used to define for themselves and now call from lessons/ (through
shared()), each against an independent reference:

- attention: model_pass and head_steps against the model's own qkv Linear read with a forward
  hook, softmax(QK^T / sqrt(hs)) written out here and F.scaled_dot_product_attention; the grid
  has one heatmap per layer and head; the scaling experiment against Var(q . k) = d_k;
- embeddings: visible_tokens against the tokenizer's byte pieces; token_scatter and
  timeline_scatter against a PCA by NumPy's SVD; timeline_frames without snapshots;
- softmax: next_token_view against a forward pass with transformers' logits processors;
  sequence_view against F.cross_entropy;
- tokenization: replay_step against the `tokenizers` library's own encoding and merges;
- training: duration_text / metric_text against hand-checked strings;
- and the embeddings page on a model without snapshots (it used to raise there).
"""
from __future__ import annotations

import ast
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from lessons.palettes import VERMILLION
from lessons.concepts.attention import compute as A
from lessons.display import position_labels
from lessons.concepts.attention import figures as AF
from lessons.concepts.embeddings import compute as E
from lessons.concepts.embeddings import figures as EF
from lessons.concepts.embeddings import timeline as ET
from lessons.concepts.softmax import figures as SF
from lessons.concepts.tokenization import compute as tokenization
from lessons.concepts.training.compute import duration_text, metric_text
from lessons.engine.checkpoint import Checkpoint, load_checkpoint, load_shipped_model
from lessons.engine.config import ModelConfig
from lessons.engine.model import GPT
from lessons.engine.tokenizers import CharTokenizer
from tests.helpers import open_view

TEXT = "The cat sat on the mat."


@pytest.fixture(scope="module")
def shipped():
    return load_shipped_model()


@pytest.fixture(scope="module")
def two_layers(two_layer_checkpoint_bytes):
    return load_checkpoint(two_layer_checkpoint_bytes)


def qkv_from_hooks(model, ids: list[int]) -> list[torch.Tensor]:
    """Every block's qkv Linear output (T, 3C) for one plain forward pass, read with hooks:
    what the model really computed, without its inspection code."""
    seen = []
    hooks = [block.attn.qkv.register_forward_hook(lambda _m, _i, out: seen.append(out[0].detach()))
             for block in model.blocks]
    try:
        with torch.no_grad():
            model(torch.tensor([ids]))
    finally:
        for hook in hooks:
            hook.remove()
    return seen


def head_qkv(qkv: torch.Tensor, head: int, C: int, hs: int):
    """q, k, v (T, hs) of one head from a qkv output (T, 3C) laid out [queries; keys; values]."""
    return [qkv[:, part * C + head * hs: part * C + (head + 1) * hs] for part in range(3)]


def causal_weights(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(hs)) with the future masked, written out."""
    T, hs = q.shape
    scores = (q @ k.T) / math.sqrt(hs)
    scores = scores.masked_fill(torch.ones(T, T).triu(1).bool(), float("-inf"))
    return torch.softmax(scores, dim=-1)


def numpy_pca(rows: np.ndarray, k: int) -> np.ndarray:
    """Coordinates of rows on their first k principal axes, by NumPy's SVD, each axis signed
    so that its largest loading is positive (the convention the page's picture uses)."""
    centred = rows - rows.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:k]
    axes = axes * np.sign(axes[np.arange(k), np.abs(axes).argmax(axis=1)])[:, None]
    return centred @ axes.T


def scatter_points(fig) -> dict[str, np.ndarray]:
    """{token label: its point} from the class traces of an embedding scatter."""
    points = {}
    for trace in fig.data:
        if trace.text is None:               # the rings around the picked token and neighbours
            continue
        columns = [c for c in (trace.x, trace.y, getattr(trace, "z", None)) if c is not None]
        for label, *xyz in zip(trace.text, *columns):
            points[label] = np.array(xyz, dtype=float)
    return points


# ---- attention ---------------------------------------------------------------------------------

def test_model_pass_matches_the_models_own_queries_and_keys(two_layers):
    config = two_layers.model.config
    ids, tokens, cut, attn = A.model_pass(two_layers, TEXT, 8)
    every_id = two_layers.tokenizer.encode(TEXT)
    assert ids == every_id[:8] and cut == (len(every_id) > 8)
    assert tokens == position_labels(two_layers.tokenizer, ids)    # a byte token reads as its character
    assert attn.shape == (config.n_layer, config.n_head, 8, 8)
    for layer, qkv in enumerate(qkv_from_hooks(two_layers.model, ids)):
        for head in range(config.n_head):
            q, k, _ = head_qkv(qkv, head, config.n_embd, config.head_size)
            assert torch.allclose(attn[layer, head], causal_weights(q, k), atol=1e-5)


def test_model_pass_of_an_empty_text_has_no_attention(two_layers):
    assert A.model_pass(two_layers, "", 8) == ([], [], False, None)


@pytest.mark.parametrize("causal", [True, False])
def test_head_steps_against_hooks_and_sdpa(two_layers, causal):
    config = two_layers.model.config
    ids, tokens, _, attn = A.model_pass(two_layers, TEXT, 6)
    titles = tuple(f"step {n}" for n in range(9))
    steps, figures = AF.head_steps(two_layers, ids, tokens, 1, 1, causal, titles, "en")
    q, k, v = head_qkv(qkv_from_hooks(two_layers.model, ids)[1], 1, config.n_embd, config.head_size)
    assert torch.allclose(steps.q, q, atol=1e-5) and torch.allclose(steps.k, k, atol=1e-5)
    assert torch.allclose(steps.v, v, atol=1e-5)
    sdpa = F.scaled_dot_product_attention(q[None, None], k[None, None], v[None, None],
                                          is_causal=causal)[0, 0]
    assert torch.allclose(steps.output, sdpa, atol=1e-5)
    if causal:                                    # the model itself always masks the future
        assert torch.allclose(steps.weights, attn[1, 1], atol=1e-5)
    assert [f.layout.title.text for f in figures] == list(titles)
    weights_z = np.asarray(figures[7].data[0].z, dtype=float)
    assert np.allclose(weights_z, steps.weights.numpy(), atol=1e-6)
    # (T, T) matrices carry a token on both axes; X, Q, K, V and the output numbered columns
    assert len(figures[4].data[0].x) == len(tokens) and len(figures[1].data[0].x) == config.head_size


def test_the_grid_has_a_heatmap_for_every_layer_and_head(shipped):
    config = shipped.model.config
    _, tokens, _, attn = A.model_pass(shipped, TEXT, 48)
    grid = AF.attention_grid_figure(attn, tokens, "en", "grid")
    heatmaps = [trace for trace in grid.data if trace.type == "heatmap"]
    assert len(heatmaps) == config.n_layer * config.n_head
    assert np.allclose(np.asarray(heatmaps[-1].z, dtype=float), attn[-1, -1].numpy())


def test_scaling_figure_shows_variance_growing_like_d_k():
    fig = AF.scaling_experiment_figure("en")
    raw, scaled = fig.data[0], fig.data[1]                # the variance panel: raw, then scaled
    d = np.asarray(raw.x, dtype=float)
    assert np.allclose(np.asarray(raw.y) / d, 1.0, atol=0.2)    # Var(q . k) = d_k for N(0, 1)
    assert np.allclose(np.asarray(scaled.y), 1.0, atol=0.2)     # and 1 after dividing by sqrt


@pytest.mark.parametrize("values", [[0.5, -1.25, 3.0], [[1.0, 0.0], [0.25, 2.0]], [1, 2.5e-3]])
def test_list_text_reads_back_as_the_same_numbers(values):
    assert ast.literal_eval(A.list_text(values)) == values
    assert A.list_text([0.5, [1.0, 2.0]]) == "[0.5, [1, 2]]"


# ---- embeddings --------------------------------------------------------------------------------

@pytest.mark.parametrize("show_bytes", [False, True])
def test_visible_tokens_hide_exactly_the_byte_pieces(shipped, show_bytes):
    tokenizer = shipped.tokenizer
    tokens, ids = E.visible_tokens(shipped, show_bytes)
    assert [t.id for t in tokens] == list(range(tokenizer.vocab_size))
    expected = [i for i in range(tokenizer.vocab_size)
                if show_bytes or not tokenizer.is_byte_piece(i)]
    assert ids == expected


@pytest.mark.parametrize("dims", [2, 3])
def test_token_scatter_points_are_numpys_pca(shipped, dims):
    tokens, ids = E.visible_tokens(shipped)
    picked = ids[5]
    fig = EF.token_scatter(shipped, False, dims, picked, ids[6:9], "en")
    rows = shipped.model.token_embedding.weight.detach().double().numpy()[ids]
    expected = numpy_pca(rows, dims)
    points = scatter_points(fig)
    assert len(points) == len(ids)
    for row, i in enumerate(ids):
        assert np.allclose(points[tokens[i].label], expected[row], atol=1e-4)
    ring = next(trace for trace in fig.data if trace.hovertext == tokens[picked].label)
    assert np.allclose([ring.x[0], ring.y[0]], expected[ids.index(picked)][:2], atol=1e-4)


def test_timeline_frames_project_every_snapshot_on_the_last_ones_axes(shipped):
    tokens, ids = E.visible_tokens(shipped)
    snapshots, frames = ET.timeline_frames(shipped, False)
    assert list(snapshots) == list(frames) == sorted(shipped.snapshots)
    last = snapshots[max(snapshots)].double().numpy()[ids]
    centred = last - last.mean(axis=0)
    axes = np.linalg.svd(centred, full_matrices=False)[2][:2]
    first_step = min(snapshots)
    first = snapshots[first_step].double().numpy()[ids]
    by_numpy = (first - first.mean(axis=0)) @ axes.T
    assert np.allclose(np.abs(frames[first_step].coords.numpy()), np.abs(by_numpy), atol=1e-4)
    assert np.allclose(frames[max(frames)].coords.numpy(), numpy_pca(last, 2), atol=1e-4)
    fig = EF.timeline_scatter(shipped, False, first_step, None, 3.0, "title", "en")
    points = scatter_points(fig)
    for row, i in enumerate(ids):
        assert np.allclose(points[tokens[i].label], frames[first_step].coords[row].numpy(), atol=1e-6)
    assert list(fig.layout.xaxis.range) == [-3.0, 3.0] and fig.layout.title.text == "title"


def test_no_timeline_without_snapshots(shipped):
    without = Checkpoint(shipped.model, shipped.tokenizer, metrics=shipped.metrics)
    assert ET.timeline_frames(without, False) == ({}, {})


def test_the_embeddings_page_on_a_model_without_snapshots(shipped):
    at = open_view("embeddings", "en", Checkpoint(shipped.model, shipped.tokenizer))
    assert not at.exception, [e.value for e in at.exception]
    assert any("without snapshots" in info.value for info in at.info)


# ---- softmax -----------------------------------------------------------------------------------

def tiny_checkpoint(seed: int = 0) -> Checkpoint:
    torch.manual_seed(seed)
    tokenizer = CharTokenizer.train("abcdefgh ")
    model = GPT(ModelConfig(tokenizer.vocab_size, block_size=8, n_layer=1, n_head=2, n_embd=16))
    return Checkpoint(model.eval(), tokenizer, metrics=[{"step": 10, "train_loss": 5.0,
                                                         "val_loss": 5.1}])


@pytest.mark.parametrize("temperature, top_k, top_p", [(1.0, None, None), (0.7, 5, None),
                                                       (1.3, None, 0.6), (0.5, 20, 0.9)])
def test_next_token_view_against_transformers_logits_processors(temperature, top_k, top_p):
    checkpoint = tiny_checkpoint()
    prompt = "abc abc"
    result, fig = SF.next_token_view(checkpoint, prompt, temperature, top_k, top_p, 3, "en")
    ids = torch.tensor([checkpoint.tokenizer.encode(prompt)])
    with torch.no_grad():
        logits = checkpoint.model(ids)[0][:, -1].double()                # (1, V)
    scores = TemperatureLogitsWarper(temperature)(ids, logits)
    if top_k:
        scores = TopKLogitsWarper(top_k)(ids, scores)
    if top_p:
        scores = TopPLogitsWarper(top_p)(ids, scores)
    assert torch.allclose(result.probs, torch.softmax(scores, dim=-1)[0], atol=1e-9)
    assert result.probs[result.sampled_id] > 0
    bars = fig.data[0]
    assert np.allclose(sorted(bars.y, reverse=True), torch.sort(result.probs, descending=True)
                       .values[:15].numpy(), atol=1e-6)
    red = [n for n, colour in enumerate(bars.marker.color) if colour == VERMILLION]
    assert len(red) <= 1 and (not red or math.isclose(bars.y[red[0]],
                                                      float(result.probs[result.sampled_id])))


def test_sequence_view_against_cross_entropy():
    checkpoint = tiny_checkpoint()
    ids = checkpoint.tokenizer.encode("abc hgf edcb")          # 12 tokens, block size 8
    per_position, fig = SF.sequence_view(checkpoint, ids, "en")
    kept = ids[-9:]                # the model reads 8 tokens and predicts each one's successor
    with torch.no_grad():
        logits = checkpoint.model(torch.tensor([kept[:-1]]))[0][0].double()
    expected = F.cross_entropy(logits, torch.tensor(kept[1:]), reduction="none")
    assert torch.allclose(per_position, expected, atol=1e-9)
    dashed = [shape for shape in fig.layout.shapes if shape.line.dash == "dash"]
    assert len(dashed) == 1 and math.isclose(dashed[0].y0, float(expected.mean()), rel_tol=1e-9)
    no_curve = Checkpoint(checkpoint.model, checkpoint.tokenizer)
    assert SF.sequence_view(no_curve, ids, "en")[1] is None


# ---- tokenization ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bpe_lesson(tiny_text):
    return tokenization.bpe_lesson(tiny_text, 300)


@pytest.mark.parametrize("text", ["the cat sat on the mat.", "猫坐在 dog 上。", "zebra!"])
def test_replay_step_ends_at_the_tokenizers_own_encoding(bpe_lesson, text):
    bpe = bpe_lesson.bpe
    n_merges = len(bpe_lesson.merge_rows)
    every = tokenization.replay_step(bpe_lesson, text, n_merges)
    assert [v.id for v in every.views] == bpe.tokenizer.encode(text).ids
    assert every.matches_tokenizer
    none = tokenization.replay_step(bpe_lesson, text, 0)
    assert len(none.views) == len(text.encode("utf-8")) and none.newest == set()
    counts = [len(tokenization.replay_step(bpe_lesson, text, k).views) for k in range(0, n_merges + 1, 5)]
    assert counts == sorted(counts, reverse=True)          # a merge never adds a token


def test_replay_step_marks_the_token_merge_k_made(bpe_lesson):
    bpe = bpe_lesson.bpe
    for k in (1, 2, 10):
        left, right = bpe.merges()[k - 1]
        step = tokenization.replay_step(bpe_lesson, "the cat", k)
        assert step.newest == {bpe.tokenizer.token_to_id(left + right)}


# ---- training ----------------------------------------------------------------------------------

@pytest.mark.parametrize("seconds, text", [(None, "–"), (0.4, "< 1 s"), (0.6, "1 s"), (42.4, "42 s"),
                                           (119.4, "119 s"), (120, "2.0 min"), (754, "12.6 min")])
def test_duration_text(seconds, text):
    assert duration_text(seconds) == text


@pytest.mark.parametrize("value, digits, text", [(None, 3, "–"), (float("inf"), 3, "–"),
                                                 (float("nan"), 1, "–"), (2.34567, 3, "2.346"),
                                                 (1234567.8, 0, "1,234,568"), (9.96, 1, "10.0")])
def test_metric_text(value, digits, text):
    assert metric_text(value, digits) == text
