"""Attention lesson: every number against an independent reference (torch's fused attention,
NumPy, hand-checked values) and the offline, escaped bertviz page."""
import json
import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lessons.concepts.attention import bertviz as bv
from lessons.concepts.attention import compute as A
from lessons.concepts.attention import figures as AF
from lessons.engine.checkpoint import load_checkpoint

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def tiny(tiny_checkpoint_bytes):
    return load_checkpoint(tiny_checkpoint_bytes)


@pytest.fixture(scope="module")
def two_layer(two_layer_checkpoint_bytes):
    return load_checkpoint(two_layer_checkpoint_bytes)


# ---- the document's simple attention and its W_a . h_t example ---------------------------

def test_simple_attention_against_numpy():
    x = np.array(A.DEFAULT_WORD_VECTORS, dtype=np.float64)
    scores = x @ x.T
    expected = np.exp(scores - scores.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    weights, y = A.simple_attention(torch.tensor(x))
    np.testing.assert_allclose(weights.numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(y.numpy(), expected @ x, atol=1e-5)


def test_simple_attention_hand_checked():
    weights, _ = A.simple_attention(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    assert weights[0].tolist() == pytest.approx([math.e / (math.e + 1), 1 / (math.e + 1)])


def test_unprojected_words_attend_most_to_themselves_and_query_map_changes_that():
    x = torch.tensor(A.DEFAULT_WORD_VECTORS)
    plain, _ = A.simple_attention(x)
    assert all(A.diagonal_is_row_max(plain))
    assert plain[0, 0].item() == pytest.approx(plain[0, 4].item())   # "The" and "the" tie
    projected, _ = A.simple_attention(x, A.DEMO_QUERY_MAP)
    words = A.DOCUMENT_WORDS
    assert words[projected[words.index("sat")].argmax()] in ("cat", "mat")
    assert words[projected[words.index("on")].argmax()] == "sat"
    assert not all(A.diagonal_is_row_max(projected))


def test_document_attention_example_is_right_to_rounding():
    from lessons.worked_numbers import worked_number
    scores, weights = worked_number("attention_scores"), worked_number("attention_weights")
    w_a, h_t = np.array(scores.inputs["W_a"]), np.array(scores.inputs["h_t"])
    assert (w_a @ h_t).tolist() == list(scores.ours) == [float(d) for d in scores.document] == [1, 1, 1]
    assert scores.verdict == "right"
    assert list(weights.ours) == pytest.approx([1 / 3] * 3)
    assert weights.document == ("0.33", "0.33", "0.33")
    assert weights.verdict == "right_to_rounding"


# ---- scaled dot-product attention, step by step --------------------------------------------

@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("T,C,hs", [(1, 4, 2), (7, 12, 4), (16, 32, 16)])
def test_steps_equal_torch_scaled_dot_product_attention(causal, T, C, hs):
    gen = torch.Generator().manual_seed(T * 100 + hs)
    x = torch.randn(T, C, generator=gen)
    w = [torch.randn(C, hs, generator=gen) for _ in range(3)]
    b = [torch.randn(hs, generator=gen) for _ in range(3)]
    steps = A.attention_steps(x, *w, *b, causal=causal)
    q, k, v = (x @ wi + bi for wi, bi in zip(w, b))
    reference = F.scaled_dot_product_attention(q[None], k[None], v[None], is_causal=causal)[0]
    torch.testing.assert_close(steps.output, reference, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(steps.scaled, q @ k.T / math.sqrt(hs))
    rows = steps.weights.sum(-1)
    torch.testing.assert_close(rows, torch.ones(T))
    above = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    if causal:
        assert (steps.weights[above] == 0).all() and torch.isinf(steps.masked[above]).all()
    else:
        torch.testing.assert_close(steps.masked, steps.scaled)    # nothing hidden


def test_head_inputs_reproduce_the_models_own_attention(two_layer):
    model, tok = two_layer.model, two_layer.tokenizer
    ids = tok.encode("the cat sat on the mat.")
    inspection = model.inspect(torch.tensor(ids))
    for layer in range(model.config.n_layer):
        block = model.blocks[layer]
        q_model, k_model, v_model = block.attn.split_heads(
            block.ln_attn(inspection.hidden_states[layer])[None])
        for head in range(model.config.n_head):
            inputs = A.head_inputs(model, ids, layer, head)
            steps = A.attention_steps(inputs.x, inputs.w_q, inputs.w_k, inputs.w_v,
                                      inputs.b_q, inputs.b_k, inputs.b_v)
            torch.testing.assert_close(steps.q, q_model[0, head])
            torch.testing.assert_close(steps.v, v_model[0, head])
            torch.testing.assert_close(steps.weights, inspection.attention[layer][head])


def test_a_bidirectional_models_weights_match_the_steps_without_the_mask():
    from lessons.concepts.masked_vs_causal.compute import masked_toy_checkpoint
    ckpt = masked_toy_checkpoint("the cat sat on the mat.", seed=3)
    ids = ckpt.tokenizer.encode("the cat sat")
    weights = ckpt.model.inspect(torch.tensor(ids)).attention[0][1]
    assert weights.triu(1).abs().max() > 0.01          # it does look ahead
    inputs = A.head_inputs(ckpt.model, ids, 0, 1)
    for causal in (False, True):
        steps = A.attention_steps(inputs.x, inputs.w_q, inputs.w_k, inputs.w_v,
                                  inputs.b_q, inputs.b_k, inputs.b_v, causal=causal)
        found = A.differences_from_references(steps, weights, causal, model_causal=False)
        assert found["sdpa"] < 1e-5
        assert (found["model"] < 1e-5) if not causal else found["model"] is None


def test_model_attention_rows_sum_to_one_and_never_look_ahead(tiny):
    ids = tiny.tokenizer.encode("the dog sat on the log.")
    attn = A.attention_maps(tiny.model, ids)                      # (L, H, T, T)
    T = len(ids)
    assert attn.shape == (tiny.model.config.n_layer, tiny.model.config.n_head, T, T)
    torch.testing.assert_close(attn.sum(-1), torch.ones(attn.shape[:-1]))
    assert (attn[..., torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)] == 0).all()


def test_scaling_experiment_variance_grows_with_dk_and_scaling_fixes_it():
    ex = A.scaling_experiment(d_values=(4, 64, 256), n_trials=400)
    for d, raw, scaled in zip(ex["d_k"], ex["var_raw"], ex["var_scaled"]):
        assert raw == pytest.approx(d, rel=0.15)           # Var(q.k) = d_k
        assert scaled == pytest.approx(1.0, rel=0.15)
    assert ex["max_raw"][-1] > 0.9                          # unscaled: nearly one-hot
    assert ex["max_scaled"][-1] < 0.6
    assert ex["max_scaled"][0] == pytest.approx(ex["max_scaled"][-1], abs=0.1)


# ---- head summaries (hand-made heads) -------------------------------------------------------

def _heads(T=5):
    previous = torch.zeros(T, T)
    previous[0, 0] = 1
    previous[torch.arange(1, T), torch.arange(T - 1)] = 1
    first = torch.zeros(T, T)
    first[:, 0] = 1
    uniform = torch.tril(torch.ones(T, T))
    uniform = uniform / uniform.sum(-1, keepdim=True)
    return torch.stack([previous, first, uniform])[None]          # (1, 3, T, T)


def test_head_summaries_hand_checked():
    T = 5
    prev, first, uniform = A.head_summaries(_heads(T))
    assert (prev["distance"], prev["entropy"], prev["previous"], prev["pattern"]) == (1.0, 0.0, 1.0, "previous")
    assert first["pattern"] == "first" and first["first"] == 1.0
    assert first["distance"] == pytest.approx(np.mean([1, 2, 3, 4]))
    # a uniform causal head: row i spreads over i+1 tokens -> log2(i+1) bits, i/2 tokens back
    assert uniform["entropy"] == pytest.approx(np.mean([math.log2(i + 1) for i in range(1, T)]))
    assert uniform["distance"] == pytest.approx(np.mean([i / 2 for i in range(1, T)]))
    assert uniform["pattern"] == "spread"


def test_attention_through_training_uses_every_snapshot(two_layer):
    ids = two_layer.tokenizer.encode("a cat")
    timeline = A.attention_through_training(two_layer, ids)
    assert [s for s, _ in timeline] == sorted(two_layer.snapshots) and len(timeline) == 3
    first, last = timeline[0][1], timeline[-1][1]
    assert not torch.allclose(first, last)                  # training changed the maps
    final = A.attention_maps(two_layer.model, ids)
    torch.testing.assert_close(last, final, atol=2e-3, rtol=0)   # snapshots are float16


# ---- figures ---------------------------------------------------------------------------------

def test_heatmap_keeps_repeated_tokens_and_escapes_html():
    tokens = ["t", "h", "e", "␣", "t", EVIL]
    fig = AF.attention_heatmap(torch.eye(6), tokens, tokens)
    x = list(fig.data[0].x)
    assert len(set(x)) == 6 and x[0] != x[4]                     # "t" twice, not merged
    assert [label.replace("\u200b", "") for label in x][:5] == ["t", "h", "e", "␣", "t"]
    assert list(fig.layout.xaxis.categoryarray) == x and fig.layout.xaxis.type == "category"
    shown = fig.to_json()                                          # all the browser gets
    assert EVIL not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown
    grid = AF.attention_grid_figure(_heads(6), tokens, "zh")
    assert len(grid.data) == 3 and list(grid.data[2].y) == x
    assert EVIL not in grid.to_json()


def test_matrix_figure_writes_numbers_and_the_mask():
    scores = torch.tensor([[0.5, float("-inf")], [1.25, -2.0]])
    fig = AF.matrix_figure(scores, ["a", "a"], ["a", "a"])
    assert fig.data[0].text.tolist() == [["0.50", "−∞"], ["1.25", "-2.00"]]
    assert math.isnan(fig.data[0].z[0][1]) and fig.data[0].z[1][0] == 1.25
    plain = AF.matrix_figure(scores.clamp(min=0), ["a", "b"])
    assert plain.data[0].text is None and plain.data[0].texttemplate == "%{z:.2f}"
    assert list(plain.data[0].x) == ["0", "1"]


# ---- bertviz, offline and escaped --------------------------------------------------------------

@pytest.mark.parametrize("view", ["head", "model"])
def test_bertviz_page_is_offline_and_escapes_tokens(view):
    tokens = ["a", "</script>" + EVIL, "&amp;"]
    attn = torch.softmax(torch.randn(2, 3, 3, 3), -1)
    page = bv.head_view_html(attn, tokens) if view == "head" else bv.model_view_html(attn, tokens)
    assert not re.search(r"https?://", page)
    assert EVIL not in page and "<img" not in page
    assert page.lower().count("</script") == 4               # only our four script elements
    # the tokens survive the escaping exactly
    params = re.search(r"const params = (\{.*?\});", page).group(1)
    assert json.loads(params)["attention"][0]["left_text"] == tokens
    assert "d3.v5" not in page and "cdnjs" not in page
    framed = bv.iframe_html(page, 400)
    assert "<img" not in framed and not re.search(r"https?://", framed)


def test_bertviz_rejects_mismatched_tokens():
    with pytest.raises(ValueError):
        bv.head_view_html(torch.ones(1, 1, 2, 2), ["only one"])


@pytest.mark.parametrize("kind", ["char", "bpe"])
def test_the_start_of_a_long_text_splits_as_the_whole_text_does(kind):
    from lessons.display import position_labels
    from lessons.engine.tokenizers import train_tokenizer
    sample = "All the world's a stage, and all the men and women merely players. 世界是一个舞台。\n"
    tokenizer = train_tokenizer(kind, sample * 20, vocab_size=300)
    text = sample * 400                                # ~32 k characters
    whole = tokenizer.token_spans(text)
    for n in (1, 24, 48):
        ids, labels, cut = A.tokens_for(tokenizer, text, n)
        # the whole text's first n, less the bytes of a character the cut falls inside
        assert ids == [s.id for s in whole[:len(ids)]] and n - 4 < len(ids) <= n and cut
        assert labels == position_labels(tokenizer, ids)      # no byte piece left unreadable


def test_a_cut_inside_a_character_shows_the_whole_characters_before_it():
    from lessons.engine.tokenizers import CharTokenizer
    tokenizer = CharTokenizer.train("ab")                  # 猫 and 霜 are three byte tokens each
    for n, shown in [(3, ["a"]), (4, ["a", "猫·1/3", "猫·2/3", "猫·3/3"]), (5, None)]:
        ids, labels, cut = A.tokens_for(tokenizer, "a猫霜", n)
        assert cut and labels == (shown or ["a", "猫·1/3", "猫·2/3", "猫·3/3"])
