"""Attention lesson: every number against an independent reference (torch's fused attention,
NumPy, hand-checked values), the offline bertviz page, the page in AppTest and in Chromium."""
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lessons.concepts.attention import bertviz as bv
from lessons.concepts.attention import compute as A
from lessons.concepts.attention import figures as AF
from lessons.engine.checkpoint import load_checkpoint
from tests.conftest import open_view

ROOT = Path(__file__).resolve().parent.parent
MAIN = str(ROOT / "app" / "main.py")
EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def tiny(tiny_checkpoint_bytes):
    return load_checkpoint(tiny_checkpoint_bytes)


@pytest.fixture(scope="module")
def two_layer(tiny_text):
    """2 layers x 2 heads, a few steps, with snapshots: enough to pick a layer and a head."""
    from lessons.engine.config import preset
    from lessons.engine.training import Trainer
    model_cfg, train_cfg = preset("tiny", n_layer=2, max_iters=6, snapshot_count=3,
                                  eval_interval=6, eval_iters=1)
    trainer = Trainer(model_cfg, train_cfg, tiny_text, device="cpu")
    trainer.train()
    from lessons.engine.checkpoint import checkpoint_bytes
    return load_checkpoint(checkpoint_bytes(trainer.model, trainer.tokenizer, train_config=train_cfg,
                                            metrics=trainer.metrics, snapshots=trainer.snapshots))


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


def test_lessons_never_import_notebook_or_ui_packages():
    code = ("import sys, torch; from lessons.concepts.attention import compute, figures, bertviz as b; "
            "b.head_view_html(torch.ones(1,1,1,1), ['x']); "
            "print(sorted({'IPython', 'streamlit', 'bertviz'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.browser
def test_bertviz_draws_in_chromium_with_the_network_cut(browser):
    tokens = ["T", "h", "e", EVIL]
    attn = torch.softmax(torch.randn(2, 2, 4, 4), -1)
    context = browser.new_context()
    requests, problems = [], []
    context.route("**/*", lambda route: (requests.append(route.request.url), route.abort()))
    pg = context.new_page()
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.on("dialog", lambda d: (problems.append("dialog: " + d.message), d.dismiss()))
    for page_html in (bv.head_view_html(attn, tokens), bv.model_view_html(attn, tokens)):
        pg.set_content(page_html)
        pg.wait_for_selector("svg line", state="attached", timeout=10_000)
        assert pg.locator("svg line").count() >= 2 * 4 * 4       # one line per pair and head
        assert pg.locator("img").count() == 0
    pg.set_content(bv.head_view_html(attn, tokens))
    pg.wait_for_selector("svg text", state="attached", timeout=10_000)
    assert EVIL in pg.locator("svg text").all_text_contents()    # drawn as text, never run
    context.close()
    assert not problems and not requests, (problems, requests)


# ---- the page ----------------------------------------------------------------------------------

def open_page(lang="en", checkpoint=None):
    return open_view("attention", lang, checkpoint)


def test_page_with_a_layer_and_head_picked(two_layer):
    at = open_page("en", two_layer)
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="attention_layer").set_value(1).run()
    at.selectbox(key="attention_head").set_value(1).run()
    assert not at.exception, [e.value for e in at.exception]
    subheaders = [s.value for s in at.subheader]
    assert any("One head up close" in s for s in subheaders)
    captions = " ".join(c.value for c in at.caption)
    diffs = re.search(r"at most (\S+),.*at most (\S+)\.", captions, re.S)
    assert diffs and float(diffs.group(1)) < 1e-5 and float(diffs.group(2)) < 1e-5
    at.checkbox(key="attention_causal").set_value(False).run()
    unmasked = " ".join(c.value for c in at.caption)
    sdpa = re.search(r"at most (\S+?)\.\s", unmasked)
    assert sdpa and float(sdpa.group(1)) < 1e-5 and "nan" not in unmasked
    at.checkbox(key="attention_use_query").set_value(True).run()
    at.select_slider(key="attention_timeline_step").set_value(0).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_input(key="attention_text").value == "The cat sat on the mat."


def test_page_handles_odd_text_without_tracebacks(two_layer):
    at = open_page("zh", two_layer)
    at.text_input(key="attention_text").set_value(EVIL + "猫" * 80).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.warning, "a long text says it was cut"
    pages = [frame.proto.srcdoc for frame in at.get("iframe")]
    assert len(pages) == 2 and all("window.requirejs" in p for p in pages)   # inlined
    assert not any(re.search(r"https?://", p) for p in pages)
    assert at.text_input(key="attention_text").value.startswith(EVIL)
    at.text_input(key="attention_text").set_value("").run()
    assert not at.exception and at.info


# Page coordinates of cell (row, column) of the page's first heatmap, scrolled into view.
CELL_CENTRE = """([row, col]) => {
    const gd = document.querySelector('.js-plotly-plot');
    gd.scrollIntoView({block: 'center'});
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
    return [r.left + xa._offset + xa.l2p(col), r.top + ya._offset + ya.l2p(row)]; }"""


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_in_chromium_with_bertviz_visible(live_app, page, lang):
    from tests.conftest import ARTIFACTS, page_problems, wait_for_app
    page.goto(f"{live_app}/attention?lang={lang}")
    wait_for_app(page)
    # the hover box names the cell's tokens, read from the category axes (row cat, column sat)
    # plotly draws after the page reports done: wait until the first heatmap has its layout
    page.wait_for_function("() => document.querySelector('.js-plotly-plot')?._fullLayout",
                           timeout=30_000)
    hover = page.evaluate(CELL_CENTRE, [1, 2])
    page.mouse.move(*hover)
    box = page.locator(".hoverlayer .hovertext").first
    box.wait_for(state="attached", timeout=10_000)
    words = ("query: cat", "key: sat") if lang == "en" else ("查询：cat", "键：sat")
    assert all(w in box.text_content() for w in words), box.text_content()
    page.get_by_label("Causal mask" if lang == "en" else "因果掩码（词元不能看后面的词元）").first.uncheck(force=True)
    wait_for_app(page)
    frame = page.frame_locator("iframe").first
    frame.locator("svg line").first.wait_for(state="attached", timeout=30_000)
    assert frame.locator("svg line").count() > 0
    page.locator("iframe").first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"attention-bertviz-{lang}.png"))
    page.get_by_role("tab", name="Model view" if lang == "en" else "模型视图").click()
    model_frame = page.frame_locator("iframe").nth(1)
    model_frame.locator("svg").first.wait_for(state="visible", timeout=30_000)   # tab now shown
    assert model_frame.locator("svg line").count() > 0
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"attention-bertviz-model-{lang}.png"))
    page.screenshot(path=str(ARTIFACTS / f"attention-{lang}.png"), full_page=True)
    assert not page_problems(page), page_problems(page)


def test_docstring_examples():
    import doctest
    for module in (A, bv):
        result = doctest.testmod(module, extraglobs={"torch": torch})
        assert result.attempted > 0 and result.failed == 0, module.__name__
