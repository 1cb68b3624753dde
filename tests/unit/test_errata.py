"""The errata list (lessons/errata.py): every entry has its words in both languages and a page
that shows it; every page with errata shows them; each entry points at text its post really has
(read from shared/seeds/, skipped where the posts are not beside the repository); and the claims
the code can check are checked, against the post's own code or an independent reference."""
from __future__ import annotations

import ast
import builtins
import re
from collections import Counter
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from lessons import errata, registry
from lessons import worked_numbers as wn
from lessons.concepts.attention import compute as A
from lessons.engine.checkpoint import load_shipped_model
from lessons.engine.corpus import TokenStream, builtin_text
from lessons.engine.tokenizers import BPETokenizer
from lessons.i18n import LANGUAGES, topic_sections
from tests.helpers import ROOT

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="the source document is not here")
CJK = re.compile(r"[\u4e00-\u9fff]")


def post_text(post: str) -> str:
    return next(SEEDS.glob(f"{post}_*.txt")).read_text("utf-8")


def section(post: str, number: str) -> str:
    """The text under the heading '<#s> <number> ...' (or '<number>. ...'), down to the next
    heading of the same or a higher level, its subsections included; a line in a code block
    is never a heading ("# comment")."""
    lines = post_text(post).splitlines()
    in_code, start, level = False, None, 0
    for i, line in enumerate(lines):
        if line.startswith("```"):
            in_code = not in_code
            continue
        heading = None if in_code else re.match(r"(#+) (\S+)", line)
        if heading and start is None and heading.group(2).rstrip(".") == number:
            start, level = i + 1, len(heading.group(1))
        elif heading and start is not None and len(heading.group(1)) <= level:
            return "\n".join(lines[start:i])
    assert start is not None, f"post {post} has no section {number}"
    return "\n".join(lines[start:])


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def undefined_names(source: str) -> set[str]:
    """Names the code reads that nothing in it defines and Python does not provide."""
    tree = ast.parse(source)
    defined = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, ast.alias):
            defined.add((node.asname or node.name).split(".")[0])
    return {node.id for node in ast.walk(tree)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)} - defined


def the_erratum_says(key: str, *facts: str) -> None:
    """The erratum's fix states each fact, in both languages (so text and check stay one)."""
    for lang in LANGUAGES:
        fix = errata.erratum(key).fix(lang)
        for fact in facts:
            assert fact in fix, (key, lang, fact)


# ---- the list itself ------------------------------------------------------------------------

def test_every_erratum_is_complete_in_both_languages():
    assert len({e.key for e in errata.ERRATA}) == len(errata.ERRATA), "keys are unique"
    slugs = {entry.slug for entry in registry.PAGES}
    for e in errata.ERRATA:
        assert e.post in errata.POSTS and e.kind in errata.KINDS, e
        assert e.slug in slugs, f"{e.key}: no page {e.slug!r} in the registry"
        assert e.anchors, e.key
        for lang in LANGUAGES:
            assert e.claim(lang).strip() and e.fix(lang).strip(), (e.key, lang)
            assert e.markdown(lang).startswith("- **"), (e.key, lang)
        assert CJK.search(e.claim("zh")) and CJK.search(e.fix("zh")), f"{e.key}: zh is not Chinese"
        assert e.fix("en") != e.fix("zh") and e.claim("en") != e.claim("zh"), e.key
        for text in (e.claim("zh"), e.fix("zh")):     # 中文 and Latin text apart by a space
            assert not re.search(r"[\u4e00-\u9fff][A-Za-z0-9`]|[A-Za-z0-9`][\u4e00-\u9fff]", text), text
        assert "  " not in e.fix("en") + e.fix("zh"), e.key
        if e.worked_number:
            wn.worked_number(e.worked_number)      # a row that exists


def test_no_text_without_an_erratum():
    """errata.md holds no _claim or _fix that no entry uses (a removed entry's words go too)."""
    keys = {e.key for e in errata.ERRATA}
    for lang in LANGUAGES:
        for name in topic_sections("errata", lang):
            stem, _, part = name.rpartition("_")
            if part in ("claim", "fix"):
                assert stem in keys, f"errata.{name} ({lang}) belongs to no erratum"


def test_lookups_by_slug_and_by_post():
    assert [e.key for e in errata.for_post("003")] == ["attention_cost"]
    assert {e.slug for e in errata.for_post("002")} == {"masked_vs_causal"}
    assert sum(len(found) for found in errata.by_post().values()) == len(errata.ERRATA)
    assert sorted(errata.slugs()) == sorted({e.slug for e in errata.ERRATA})
    assert errata.for_slug("embeddings") == [] and errata.for_slug("no_such_page") == []
    with pytest.raises(KeyError, match="known"):
        errata.erratum("no_such_erratum")
    # every post's erratum count is what the home page shows: the five posts all have some
    assert list(errata.by_post()) == list(errata.POSTS)


def test_every_page_with_errata_calls_the_panel_with_its_own_slug():
    """One line in each view: a page with errata calls show_errata("<its slug>"), a page without
    any does not, and the home page shows them all."""
    for entry in registry.PAGES:
        source = (ROOT / "app" / entry.page).read_text("utf-8")
        calls = re.findall(r'show_errata\("([a-z_]+)"', source)
        if entry.is_home:
            assert "all_errata()" in source
        elif errata.for_slug(entry.slug):
            assert calls == [entry.slug], (entry.slug, calls)
        else:
            assert calls == [], (entry.slug, calls)


def test_the_wa_caveat_goes_with_its_worked_number():
    """The table's 'why' of the W_a weights (right to rounding) carries the caveat, in both
    languages; no other row carries one."""
    caveat = errata.erratum("wa_ignores_tokens")
    for lang in LANGUAGES:
        why = wn.worked_number("attention_weights").why(lang)
        assert why.endswith(caveat.fix(lang)), lang
        assert caveat.fix(lang) not in wn.worked_number("attention_scores").why(lang)
    assert [e.key for e in errata.ERRATA if e.worked_number] == ["wa_ignores_tokens"]
    assert wn.worked_number("attention_weights").verdict == "right_to_rounding"


# ---- each erratum points at text its post has ------------------------------------------------

@needs_seeds
@pytest.mark.parametrize("key", [e.key for e in errata.ERRATA])
def test_the_post_has_what_the_erratum_points_at(key):
    e = errata.erratum(key)
    text = post_text(e.post)
    for anchor in e.anchors:
        assert anchor in text, f"{key}: {anchor!r} is not in post {e.post}"
    if e.section:
        first = e.section.split(",")[0]
        assert e.anchors[0] in section(e.post, first), f"{key}: not in §{first}"


@needs_seeds
def test_the_post_without_section_numbers_is_000():
    """Only 000 numbers none of its sections; every erratum elsewhere names its section."""
    assert not re.search(r"(?m)^#+ \d", post_text("000"))
    assert all(e.section for e in errata.ERRATA if e.post != "000")


# ---- 000 ------------------------------------------------------------------------------------

@needs_seeds
def test_000s_listing_does_not_run():
    listing, = code_blocks(post_text("000"))
    with pytest.raises(IndentationError):
        ast.parse(listing)                    # a class whose body is only a comment
    filled = re.sub(r"(?m)^(class \w+\(nn\.Module\):\n(\s+)#.*)$", r"\1\n\2pass", listing)
    assert filled != listing
    assert undefined_names(filled) == {"num_epochs", "data_loader"}
    encoder_calls = [node for node in ast.walk(ast.parse(filled)) if isinstance(node, ast.Call)
                     and ast.unparse(node.func) == "self.encoder"]
    assert [ast.unparse(arg) for arg in encoder_calls[0].args] == ["src", "tgt"]   # the target too
    the_erratum_says("listing_does_not_run", "IndentationError", "NameError", "`num_epochs`",
                     "`data_loader`")


def test_an_encoder_decoder_transformer_is_decoder_of_target_and_encoded_source():
    """torch's own nn.Transformer: Output = Decoder(Y, Encoder(X)), not Encoder(Encoder(X) + ...)."""
    torch.manual_seed(0)
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=16, dropout=0.0, batch_first=True).eval()
    src, tgt = torch.randn(1, 5, 8), torch.randn(1, 3, 8)
    with torch.no_grad():
        output = model(src, tgt)
        assert torch.allclose(output, model.decoder(tgt, model.encoder(src)), atol=1e-6)
        assert output.shape == tgt.shape          # one row per target position, not per source
    the_erratum_says("output_formula", "Output = Decoder(Y, Encoder(X))")


def test_a_block_has_one_attention_layer_with_its_heads_inside():
    """torch's layers: an encoder layer has one multi-head attention, a decoder layer two
    (self and cross); our GPT's blocks have one each, its several heads inside it."""
    count = lambda layer: sum(isinstance(m, nn.MultiheadAttention) for m in layer.modules())  # noqa: E731
    assert count(nn.TransformerEncoderLayer(8, 2)) == 1
    assert count(nn.TransformerDecoderLayer(8, 2)) == 2
    model = load_shipped_model().model
    attention_class = type(model.blocks[0].attn)
    for block in model.blocks:
        assert sum(isinstance(m, attention_class) for m in block.modules()) == 1
    assert model.config.n_head > 1


# ---- 001 ------------------------------------------------------------------------------------

def test_stop_words_are_kept_and_are_what_a_model_predicts_most():
    """Decoding gives back the text with its stop words; in the built-in corpus the most
    common word is a stop word ("the")."""
    text = "The cat sat on the mat, and it was one of the best of them. 猫坐在垫子上的。"
    bpe = BPETokenizer.train(builtin_text("python_reference")[:20_000], vocab_size=300)
    for tokenizer in (load_shipped_model().tokenizer, bpe):     # the character one and a BPE
        assert tokenizer.decode(tokenizer.encode(text)) == text
        assert len(tokenizer.encode(text)) > len(tokenizer.encode(text.replace(" the ", " ")))
    words = Counter(re.findall(r"[a-z]+", builtin_text("python_reference").lower()))
    assert words.most_common(1)[0][0] == "the"


def test_cross_entropy_sums_over_classes_and_averages_over_samples():
    torch.manual_seed(0)
    N, V = 5, 7                                             # samples, classes (vocabulary)
    logits, targets = torch.randn(N, V), torch.randint(0, V, (N,))
    probs, one_hot = logits.softmax(-1), F.one_hot(targets, V).float()
    per_sample = -(one_hot * probs.log()).sum(dim=1)        # the post's sum, i over the classes
    assert torch.allclose(per_sample, -probs[torch.arange(N), targets].log())   # -log ŷ(right)
    assert torch.allclose(per_sample.mean(), F.cross_entropy(logits, targets))
    assert torch.allclose(per_sample.sum(), N * F.cross_entropy(logits, targets))
    the_erratum_says("cross_entropy_n", "F.cross_entropy")


# ---- 003 ------------------------------------------------------------------------------------

def test_the_score_matrix_is_n_by_n_in_every_head():
    """Twice the text, four times the scores, on the shipped model's own attention."""
    checkpoint = load_shipped_model()
    n = min(16, checkpoint.model.config.block_size // 2)
    ids = checkpoint.tokenizer.encode("the cat sat on the mat " * 20)
    short, long = A.attention_maps(checkpoint.model, ids[:n]), A.attention_maps(checkpoint.model, ids[:2 * n])
    config = checkpoint.model.config
    assert tuple(short.shape) == (config.n_layer, config.n_head, n, n)
    assert tuple(long.shape) == (config.n_layer, config.n_head, 2 * n, 2 * n)
    assert long.numel() == 4 * short.numel()
    the_erratum_says("attention_cost", "n × n")


# ---- 004 ------------------------------------------------------------------------------------

def test_the_wa_weights_do_not_see_the_other_tokens():
    """softmax(W_a h_t) has one weight per row of W_a and no input but h_t: changing a word
    changes nothing. Dot-product attention with h_t as the query against the words' keys has
    one weight per word, and changing a word changes them. The numbers: exactly 1/3 each,
    printed 0.33, three of which add up to 0.99."""
    W_a = torch.tensor(wn.ATTENTION_MATRIX, dtype=torch.float)
    h_t = torch.tensor(wn.HIDDEN_STATE, dtype=torch.float)
    document_weights = (W_a @ h_t).softmax(-1)
    assert torch.allclose(document_weights, torch.full((3,), 1 / 3))
    assert [f"{w:.2f}" for w in document_weights.tolist()] == list(wn.PRINTED_ATTENTION)
    assert sum(float(p) for p in wn.PRINTED_ATTENTION) == pytest.approx(0.99)
    words = torch.tensor(A.DEFAULT_WORD_VECTORS, dtype=torch.float)     # six words, 3 features
    assert len(words) == 6 != len(document_weights)
    other = words.clone()
    other[1] = torch.tensor([0.0, 0.0, 3.0])                            # "cat" becomes something else
    attention = lambda keys: (keys @ h_t).softmax(-1)                   # noqa: E731  q · k_j
    assert attention(words).shape == (6,)
    assert not torch.allclose(attention(words), attention(other))
    the_erratum_says("wa_ignores_tokens", "1/3", "0.33", "q · kⱼ")


def test_self_supervised_targets_are_the_text_shifted_by_one():
    """Pre-training has targets, cut from the text: each batch's targets are its inputs moved
    one token on (the trainer's batches)."""
    stream = TokenStream(list(range(100)), block_size=8)
    x, y = stream.batch(4, torch.Generator().manual_seed(0))
    assert torch.equal(y, x + 1)                          # ids 0..99 in order: the next id
    assert torch.equal(y[:, :-1], x[:, 1:])


@needs_seeds
def test_004s_fit_calls_have_no_targets():
    code = "\n".join(code_blocks(section("004", "2.4")))
    fits = [node for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Call)
            and ast.unparse(node.func) == "model.fit"]
    without_targets = [ast.unparse(node) for node in fits
                       if len(node.args) == 1 and not any(k.arg == "y" for k in node.keywords)]
    assert without_targets == ["model.fit(unlabeled_data, epochs=100)",
                               "model.fit(labeled_data, epochs=10)"]
    assert {"load_unlabeled_data", "load_labeled_data"} <= undefined_names(code)


@needs_seeds
def test_004s_weight_matrix_is_never_used():
    listing, = code_blocks(section("004", "4.2"))
    names = [node for node in ast.walk(ast.parse(listing))
             if isinstance(node, ast.Name) and node.id == "weight_matrix"]
    assert [type(n.ctx).__name__ for n in names] == ["Store"]      # written once, never read


@needs_seeds
def test_004s_softmax_output_cannot_match_its_mse_target():
    """The listing's last layer is a 16-way softmax trained with MSE on embed_matrix, whose
    rows are 3 wide and add up to 0, 0.6, 1.5 and 2.4."""
    listing, = code_blocks(section("004", "4.2"))
    tree = ast.parse(listing)
    assigned = {node.targets[0].id: node.value for node in ast.walk(tree)
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    embed_matrix = ast.literal_eval(assigned["embed_matrix"].args[0])
    assert {len(row) for row in embed_matrix} == {3}
    assert [round(sum(row), 6) for row in embed_matrix] == [0, 0.6, 1.5, 2.4]
    dense = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and ast.unparse(node.func).endswith("layers.Dense")]
    last = dense[-1]
    assert ast.literal_eval(last.args[0]) == 16
    assert {k.arg: ast.literal_eval(k.value) for k in last.keywords}["activation"] == "softmax"
    assert "loss='mean_squared_error'" in listing
    assert "回归损失函数" in section("004", "4.3")
    the_erratum_says("mse_on_softmax", "16", "0.6", "1.5", "2.4")


@needs_seeds
def test_004s_references_contradict_each_other():
    gpt3 = next(line for line in post_text("004").splitlines() if "GPT-3: Language Models" in line)
    authors = [name.strip() for name in gpt3.split("- ", 2)[-1].split("、")]
    duplicated = [name for name, count in Counter(authors).items() if count > 1]
    assert duplicated == ["Niki Parmar"]
    assert "Bryce_BUFFETT" in authors
    assert {"Ashish Vaswani", "Noam Shazeer"} <= set(authors)      # the 2017 paper's authors
    assert re.search(r'"Deep Learning"（2015）- Ian Goodfellow', section("004", "6.3"))
    books = section("004", "9.1")
    assert 'Goodfellow, Ian, et al. "Deep Learning." MIT Press, 2016.' in books
    assert 'Bengio, Yoshua, et al. "Deep Learning." MIT Press, 2015.' in books
    the_erratum_says("references", "Bryce_BUFFETT", "Niki Parmar", "2015", "2016")


@needs_seeds
def test_004_contradicts_its_own_definition_of_pre_training():
    """§1.4.2 ties pre-training to a specific task; §2.1 and the appendix to unlabelled data."""
    assert "特定任务" in section("004", "1.4.2").split("预训练（Pre-training）")[1].splitlines()[0]
    assert "无监督数据" in section("004", "2.1")
    assert "无监督数据" in section("004", "8.2")
    the_erratum_says("pretraining_definition", "§2.1")
