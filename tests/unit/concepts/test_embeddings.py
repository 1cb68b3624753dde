"""Embeddings lesson: the document's W · x, PCA vs NumPy, neighbours vs brute force, figures."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lessons.concepts.embeddings import compute as E
from lessons.concepts.embeddings import figures as EF
from lessons.concepts.embeddings import timeline as ET
from lessons.engine.checkpoint import load_checkpoint
from lessons.engine.tokenizers import BPETokenizer, CharTokenizer
from lessons.worked_numbers import worked_number
from tests.references import brute_force_neighbours


# ---- 1. the document's worked example ---------------------------------------------------------

def test_document_example_value_and_verdict():
    W = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])       # retyped from section 3.3.1
    x = np.array([1, 0, 0])
    example = worked_number("embedding")
    assert example.inputs["W"] == tuple(map(tuple, W)) and example.inputs["x"] == tuple(x)
    assert example.ours == tuple(W @ x) == (0, 1, 0)
    assert example.document == ("0", "1", "1")
    assert example.verdict == "wrong"
    assert example.differing_entries == (2,)              # only the third entry is wrong ...
    assert example.distance == 1.0                        # ... and by exactly 1
    # no column and no row of W is the printed vector, so no lookup could produce it
    printed = np.array([int(d) for d in example.document])
    assert not any((W[:, j] == printed).all() or (W[j] == printed).all() for j in range(3))
    assert example.facts["printed_is_a_column_or_row"] is False
    assert [step.total for step in example.facts["steps"]] == [0, 1, 0]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_lookup_is_picking_a_column_and_nn_embedding_does_it(index):
    W = torch.tensor([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=torch.float32)   # section 3.3.1
    demo = E.embedding_lookup_demo(index, W.tolist())
    assert demo["one_hot"] == [1.0 if j == index else 0.0 for j in range(3)]
    assert demo["matmul"] == W[:, index].tolist() == demo["column"]
    assert demo["embedding"] == F.embedding(torch.tensor(index), W.T).tolist()
    assert demo["same"] is True


def test_zero_based_index_one_gives_the_middle_column():
    assert E.embedding_lookup_demo(1, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])["matmul"] == [1.0, 0.0, 1.0]


def test_latex_steps_spell_out_each_row():
    latex = E.latex_steps([[0, 1, 0], [1, 0, 1], [0, 1, 0]], [1, 0, 0])
    assert r"1\cdot1 + 0\cdot0 + 1\cdot0" in latex            # the middle row
    assert latex.endswith(r"\begin{bmatrix}0 \\ 1 \\ 0\end{bmatrix}")


# ---- 2. projection, neighbours, classes ----------------------------------------------------------

def numpy_pca(X: np.ndarray, k: int):
    centred = X - X.mean(axis=0)
    _, S, Vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ Vt[:k].T, (S ** 2 / (S ** 2).sum())[:k]


@pytest.mark.parametrize("k", [2, 3])
def test_pca_agrees_with_numpy_svd_up_to_sign(k):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 12)) * np.linspace(3, 0.2, 12) + 5.0   # a few dominant directions
    expected, expected_share = numpy_pca(X, k)
    got = E.pca_project(torch.tensor(X, dtype=torch.float32), k)
    coords = got.coords.numpy()
    for j in range(k):
        sign = np.sign(coords[:, j] @ expected[:, j])
        assert sign != 0
        np.testing.assert_allclose(coords[:, j], sign * expected[:, j], atol=1e-4)
    np.testing.assert_allclose(got.explained.numpy(), expected_share, rtol=1e-5)
    # and the variances are the eigenvalues of the covariance matrix, largest first
    eigen = np.sort(np.linalg.eigvalsh(np.cov(X.T, bias=True)))[::-1][:k]
    np.testing.assert_allclose(coords.var(axis=0), eigen, rtol=1e-4)
    # the fixed sign: each axis's biggest loading is positive
    axes = got.axes.numpy()
    assert all(axes[j, np.abs(axes[j]).argmax()] > 0 for j in range(k))


def test_pca_refuses_what_it_cannot_do():
    with pytest.raises(ValueError):
        E.pca_project(torch.zeros(1, 4))
    with pytest.raises(ValueError):
        E.pca_project(torch.randn(5, 2), n_components=3)


@pytest.mark.parametrize("index", [0, 7, 39])
def test_nearest_neighbours_agree_with_brute_force(index):
    torch.manual_seed(1)
    vectors = torch.randn(40, 6)
    for candidates in (list(range(40)), list(range(0, 40, 3))):
        got = E.nearest_neighbours(vectors, index, 5, candidates)
        expected = brute_force_neighbours(vectors, index, 5, candidates)
        assert [i for i, _ in got] == [i for i, _ in expected]
        assert np.allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)
        assert index not in [i for i, _ in got]


def test_cosine_matrix_is_torch_cosine_similarity():
    torch.manual_seed(2)
    v = torch.randn(9, 5)
    expected = F.cosine_similarity(v[:, None, :], v[None, :, :], dim=-1)
    assert torch.allclose(E.cosine_similarity_matrix(v), expected, atol=1e-6)


def test_class_separation_is_near_zero_for_noise_and_large_for_clusters():
    torch.manual_seed(3)
    kinds = ["letter"] * 20 + ["digit"] * 20
    noise = torch.randn(40, 64)
    centres = torch.randn(2, 64) * 3
    clustered = centres.repeat_interleave(20, dim=0) + torch.randn(40, 64) * 0.3
    assert abs(E.class_separation(noise, kinds)) < 0.05
    assert E.class_separation(clustered, kinds) > 0.5


def test_token_classes():
    cases = {"e": "letter", "Q": "letter", " the": "letter", "ß": "letter", "7": "digit",
             "42": "digit", ".": "punctuation", "+": "punctuation", "“": "punctuation",
             " ": "whitespace", "\n": "whitespace", "猫": "cjk", "。": "cjk", "x2": "other"}
    assert {text: E.token_class(text) for text in cases} == cases
    assert E.token_class("a", is_byte=True) == "byte"


def test_char_token_table_marks_the_256_byte_tokens(tiny_text):
    tok = CharTokenizer.train(tiny_text)
    table = E.token_table(tok)
    assert [t.id for t in table] == list(range(tok.vocab_size))
    assert sum(t.kind == "byte" for t in table) == 256
    assert len({t.label for t in table}) == len(table)
    labels = {t.label: t.kind for t in table}
    assert labels["␣"] == labels["↵"] == "whitespace" and labels["猫"] == "cjk"
    assert labels["<0xE4>"] == "byte"
    assert len(E.visible_ids(table)) == tok.vocab_size - 256
    assert len(E.visible_ids(table, show_bytes=True)) == tok.vocab_size


def test_bpe_token_table_uses_the_tokenizers_own_decoding(tiny_text):
    tok = BPETokenizer.train(tiny_text, vocab_size=300)
    table = E.token_table(tok)
    assert len(table) == tok.vocab_size and len({t.label for t in table}) == len(table)
    # a byte >= 0x80 alone is half a character: "byte"; an ASCII letter is a letter
    lone = {t.label: t.kind for t in table}
    assert lone["<0xE4>"] == "byte" and lone["a"] == "letter"
    cat = tok.encode(" cat")
    if len(cat) == 1:
        assert table[cat[0]].label == "␣cat" and table[cat[0]].kind == "letter"


def test_scatter_and_heatmap_figures():
    torch.manual_seed(4)
    tokens = [E.TokenInfo(0, "a", "letter"), E.TokenInfo(1, "b", "letter"),
              E.TokenInfo(2, "1", "digit"), E.TokenInfo(3, ".", "punctuation")]
    vectors = torch.randn(4, 8)
    p2, p3 = E.pca_project(vectors, 2), E.pca_project(vectors, 3)
    fig = EF.embedding_scatter(p2.coords, tokens, "zh", p2.explained, highlight=0, neighbours=[2])
    names = [trace.name for trace in fig.data]
    assert names == ["字母", "数字", "标点 / 符号", "选中的词元", "邻居"]
    assert fig.data[4].x == (float(p2.coords[2, 0]),)       # the ring sits on token 2
    no_pick = EF.embedding_scatter(p2.coords, tokens, "en", neighbours=[1, 3])
    assert [tr.name for tr in no_pick.data[3:]] == ["neighbour", "neighbour"]
    assert [tr.showlegend for tr in no_pick.data[3:]] == [True, False]
    assert list(fig.data[0].text) == ["a", "b"]
    assert fig.data[0].x == tuple(p2.coords[:2, 0].tolist())
    assert EF.embedding_scatter(p3.coords, tokens, "en").data[0].type == "scatter3d"
    heat = EF.cosine_heatmap(vectors, [0, 2, 3], tokens, "en")
    assert np.allclose(heat.data[0].z, E.cosine_similarity_matrix(vectors[[0, 2, 3]]).numpy())
    assert list(heat.data[0].x) == ["a", "1", "."]


# ---- 3. positions, 4. timeline ---------------------------------------------------------------------

def test_position_similarity_by_distance_is_the_mean_of_each_diagonal():
    torch.manual_seed(5)
    pos = torch.randn(7, 4)
    sim = F.cosine_similarity(pos[:, None], pos[None, :], dim=-1).numpy()
    expected = [np.mean([sim[i, i + d] for i in range(7 - d)]) for d in range(1, 7)]
    assert np.allclose(E.position_similarity_by_distance(pos), expected, atol=1e-6)
    fig = EF.position_similarity_heatmap(pos, "en")
    assert np.allclose(fig.data[0].z, sim, atol=1e-6)
    assert np.allclose(EF.position_heatmap(pos).data[0].z, pos.numpy())


def test_timeline_uses_the_last_snapshots_axes():
    torch.manual_seed(6)
    final = torch.randn(30, 8) * torch.linspace(2, 0.1, 8)
    tables = {0: torch.randn(30, 8) * 0.02, 50: 0.5 * final + 3.0, 100: final}
    ids = list(range(0, 30, 2))
    frames = ET.timeline_projections(tables, ids)
    own = E.pca_project(final[ids], 2)
    assert torch.allclose(frames[100].coords, own.coords, atol=1e-5)
    assert torch.allclose(frames[100].explained, own.explained, atol=1e-5)
    assert all(torch.equal(f.axes, own.axes) for f in frames.values())
    # a shifted, shrunken copy of the final table lands on the same picture, half the size
    assert torch.allclose(frames[50].coords, 0.5 * frames[100].coords, atol=1e-5)
    assert torch.allclose(frames[50].explained, own.explained, atol=1e-5)
    assert set(frames) == {0, 50, 100} and frames[0].coords.shape == (15, 2)
    # random step-0 vectors put only a small share of their variance on the final axes
    assert float(frames[0].explained.sum()) < float(own.explained.sum())
    with pytest.raises(ValueError):
        ET.timeline_projections({}, ids)


def test_snapshot_tables_from_a_trained_checkpoint(tiny_checkpoint_bytes):
    checkpoint = load_checkpoint(tiny_checkpoint_bytes)
    tables = ET.snapshot_token_tables(checkpoint)
    assert list(tables) == sorted(checkpoint.snapshots) and len(tables) >= 2
    last = max(tables)
    assert torch.allclose(tables[last], checkpoint.model.token_embedding.weight, atol=1e-2)
    first = min(tables)
    rebuilt = checkpoint.snapshot_model(first).token_embedding.weight
    assert torch.allclose(tables[first], rebuilt)


def test_without_positions_only_the_causal_mask_tells_word_order():
    """Issue #20 item 1: the shipped model with its position table zeroed. Without a mask the
    outputs of two orders are a permutation of each other (a swap of words, a reversal); with
    the causal mask the last scores differ (3.84 measured)."""
    from lessons.engine.checkpoint import load_shipped_model
    checkpoint = load_shipped_model()
    found = E.order_without_positions(checkpoint, "cat sat", "sat cat")
    assert found.unmasked < 1e-4 and found.masked > 1.0
    ids = checkpoint.tokenizer.encode("the mat")
    reversed_text = checkpoint.tokenizer.decode(ids[::-1])
    assert E.order_without_positions(checkpoint, "the mat", reversed_text).unmasked < 1e-4
    assert E.order_without_positions(checkpoint, "ab", "cd") is None
    assert checkpoint.model.position_embedding.weight.abs().sum() > 0     # the original is untouched
