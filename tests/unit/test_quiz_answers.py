"""Every lesson's quiz answers, checked against an independent computation (a plain torch
forward, attention rebuilt from the weights by forward hooks, ablations by hooks) for the
shipped models and for freshly trained tiny ones."""
from __future__ import annotations

import math
import re

import pytest
import torch
import torch.nn.functional as F

from lessons.engine.checkpoint import load_checkpoint, load_shipped_model
from lessons.quiz import QUIZZES, questions_for, run_experiment


@pytest.fixture(scope="module")
def tiny_masked(tiny_text):
    from lessons.engine.checkpoint import Checkpoint
    from lessons.engine.config import preset
    from lessons.engine.training import Trainer
    model_cfg, train_cfg = preset("tiny", max_iters=20, snapshot_count=0)
    trainer = Trainer.for_objective("masked", model_cfg, train_cfg, tiny_text, device="cpu")
    trainer.train()
    return Checkpoint(trainer.model.eval(), trainer.tokenizer)


def models(tiny_checkpoint_bytes, tiny_masked):
    tiny = load_checkpoint(tiny_checkpoint_bytes)
    return [("classroom", load_shipped_model("classroom"), "en", load_shipped_model("masked")),
            ("poems", load_shipped_model("poems"), "zh", load_shipped_model("masked")),
            ("masked", load_shipped_model("masked"), "en", load_shipped_model("masked")),
            ("tiny", tiny, "en", tiny_masked)]


def logits_of(model, ids) -> torch.Tensor:
    with torch.no_grad():
        return model(torch.tensor([ids]))[0][0].double()          # (T, V)


def hooked_attention(model, ids) -> list[torch.Tensor]:
    """(H, T, T) per layer, rebuilt from each attention layer's input (caught by a forward
    hook) and its qkv weights: softmax(q k^T / sqrt(hs)) with the causal mask if any."""
    inputs = []
    hooks = [b.attn.register_forward_hook(lambda m, args, out: inputs.append(args[0]))
             for b in model.blocks]
    try:
        logits_of(model, ids)
    finally:
        for h in hooks:
            h.remove()
    maps = []
    for block, x in zip(model.blocks, inputs):
        B, T, C = x.shape
        H = block.attn.n_head
        q, k, _ = block.attn.qkv(x).split(C, dim=2)
        q, k = (t.view(T, H, C // H).transpose(0, 1) for t in (q, k))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(C // H)
        if model.config.causal:
            scores = scores.masked_fill(torch.ones(T, T).triu(1).bool(), float("-inf"))
        maps.append(scores.softmax(-1).detach())
    return maps


def ablated_probability(model, ids, token, layer, head=None) -> float:
    """p(token) at the last position with one head (its slice of the output projection's
    input zeroed) or one MLP (its output zeroed) switched off, by hooks."""
    block = model.blocks[layer]
    if head is None:
        hook = block.mlp.register_forward_hook(lambda m, a, out: torch.zeros_like(out))
    else:
        hs = model.config.head_size

        def zero_head(m, args):
            y = args[0].clone()
            y[..., head * hs:(head + 1) * hs] = 0
            return (y,)
        hook = block.attn.out_proj.register_forward_pre_hook(zero_head)
    try:
        return float(logits_of(model, ids)[-1].softmax(-1)[token])
    finally:
        hook.remove()


def by_id(questions):
    return {q.qid: q for q in questions}


def head_label(choice: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", choice))


def check_tokenization(ckpt, qs, lang):
    tok = ckpt.tokenizer
    text = re.search(r"[“\"](.+?)[”\"]", qs["tok_count"].prompt).group(1)
    assert qs["tok_count"].right_choice == str(len(tok.token_spans(text)))
    en, zh = (len(tok.token_spans(s)) / len(s) for s in ("The cat sat on the mat.", "床前明月光，疑是地上霜。"))
    assert qs["tok_denser"].answer == (2 if en == zh else 0 if en > zh else 1)


def check_embeddings(ckpt, qs, lang):
    q = qs["emb_nearest"]
    table = ckpt.model.token_embedding.weight.detach()
    labels = {ckpt.tokenizer.token_label(i): i for i in range(ckpt.tokenizer.vocab_size)}
    target = labels[re.search(r"[“\"](.+?)[”\"]", q.prompt).group(1)]
    cos = {c: float(F.cosine_similarity(table[target], table[labels[c]], dim=0)) for c in q.choices}
    assert max(cos, key=cos.get) == q.right_choice
    pos = ckpt.model.position_embedding.weight.detach()
    far = int(re.search(r"(\d+)", qs["emb_positions"].prompt.split("1", 1)[1]).group(1))
    mean_cos = [float(F.cosine_similarity(pos[:-d], pos[d:], dim=1).mean()) for d in (1, far)]
    assert qs["emb_positions"].answer == (0 if mean_cos[0] > mean_cos[1] else 1)


def check_attention(ckpt, qs, lang):
    from lessons.concepts.attention.quiz import quiz_ids
    ids = quiz_ids(ckpt, lang)
    maps = hooked_attention(ckpt.model, ids)
    previous = {(layer, h): float(m[h].diagonal(-1).mean())
                for layer, m in enumerate(maps) for h in range(m.shape[0])}
    q = qs["att_previous"]
    best = max((head_label(c) for c in q.choices), key=previous.get)
    assert head_label(q.right_choice) == best
    assert head_label(q.right_choice) == max(previous, key=previous.get)   # the best of all heads
    future = float(maps[0][0, 0, 1:].sum())
    assert qs["att_future"].answer == (0 if future < 1e-6 else 1 if future < 0.5 else 2)
    assert (qs["att_future"].answer == 0) == ckpt.model.config.causal


def check_forward_pass(ckpt, qs, lang):
    from lessons.concepts.attention.quiz import quiz_ids
    ids = quiz_ids(ckpt, lang)
    probs = logits_of(ckpt.model, ids)[-1].softmax(-1)
    top = int(probs.argmax())
    assert qs["fp_top"].right_choice == ckpt.tokenizer.token_label(top)
    cfg = ckpt.model.config
    drops = {(layer, h): ablated_probability(ckpt.model, ids, top, layer, h)
             for layer in range(cfg.n_layer) for h in [*range(cfg.n_head), None]}
    layer, head = min(drops, key=drops.get)
    right = head_label(qs["fp_ablation"].right_choice)
    assert right == ((layer, head) if head is not None else (layer,))


def check_training(ckpt, qs, lang):
    total = sum(p.numel() for p in ckpt.model.parameters())
    assert qs["train_params"].right_choice == f"{total:,}"
    assert qs["train_half_lr"].answer is None           # only a run can tell


def check_softmax(ckpt, qs, lang):
    from lessons.concepts.softmax.quiz import page_prompt
    prompt, actual = page_prompt(ckpt.tokenizer, lang)
    block = ckpt.model.config.block_size                   # the model reads the prompt's end
    logits = logits_of(ckpt.model, ckpt.tokenizer.encode(prompt)[-block:])[-1]
    top = int(logits.argmax())
    before, after = logits.softmax(-1)[top], (logits / 2).softmax(-1)[top]
    assert qs["sm_hotter"].answer == (2 if abs(after - before) < 1e-9 else 0 if after > before else 1)
    nats = float(F.cross_entropy(logits[None], torch.tensor([ckpt.tokenizer.encode(actual)[0]])))
    assert qs["sm_surprise"].answer == sum(nats >= edge for edge in (0.5, 2.0, 4.0))


def check_decoding(ckpt, qs, lang):
    from lessons.concepts.decoding.quiz import written
    prompt = re.search(r"[“\"](.+?)[”\"]", qs["dec_greedy"].prompt).group(1)
    ids = ckpt.tokenizer.encode(prompt)
    unknown = [i for i in range(ckpt.model.config.vocab_size) if ckpt.tokenizer.is_unknown(i)]
    new = []
    for _ in range(3):      # greedy, never writing □ (a token for no character in particular)
        logits = logits_of(ckpt.model, (ids + new)[-ckpt.model.config.block_size:])[-1]
        logits[unknown] = float("-inf")
        new.append(int(logits.argmax()))
    assert qs["dec_greedy"].right_choice == written(ckpt.tokenizer, new)
    probs, _ = logits_of(ckpt.model, ids[-ckpt.model.config.block_size:])[-1].softmax(-1).sort(descending=True)
    kept = int((probs.cumsum(0) < 0.9).sum()) + 1        # the smallest set reaching 0.9
    assert qs["dec_top_p"].answer == sum(kept >= edge for edge in (2, 6, 21))


def check_masked_vs_causal(masked, qs, lang, causal):
    from lessons.concepts.masked_vs_causal.compute import split_blank
    from lessons.i18n import t
    tok = masked.tokenizer
    left, right = split_blank(t("masked_vs_causal.blank_default", lang))
    ids = tok.encode(left) + [tok.special_token_id("[MASK]")] + tok.encode(right)
    logits = logits_of(masked.model, ids)[len(tok.encode(left))]
    logits[list(tok.special_tokens().values())] = float("-inf")
    assert qs["mvc_blank"].right_choice == tok.token_text(int(logits.argmax()))
    causal_logits = logits_of(causal.model, causal.tokenizer.encode(left))[-1]
    causal_logits[list(causal.tokenizer.special_tokens().values())] = float("-inf")
    surer_masked = float(logits.softmax(-1).max()) >= float(causal_logits.softmax(-1).max())
    assert qs["mvc_surer"].answer == (0 if surer_masked else 1)


def check_finetuning(ckpt, qs, lang):
    from lessons.concepts.finetuning.data import builtin_dataset
    data = builtin_dataset(lang)
    width = ckpt.model.config.n_embd
    assert qs["ft_probe"].right_choice == f"{width * len(data.labels) + len(data.labels):,}"
    if ckpt.model.config.causal:
        text, _ = data.test[0]
        prompt = ckpt.tokenizer.encode(text + " -> ")
        scores = []
        for label in data.labels:
            label_ids = ckpt.tokenizer.encode(label)
            ids = (prompt + label_ids)[-(ckpt.model.config.block_size + 1):]
            logp = logits_of(ckpt.model, ids[:-1]).log_softmax(-1)
            n = len(label_ids)
            scores.append(sum(float(logp[-n + i, label_ids[i]]) for i in range(n)))
        assert qs["ft_prompt"].right_choice == data.labels[max(range(len(scores)), key=scores.__getitem__)]


CHECKS = {"tokenization": check_tokenization, "embeddings": check_embeddings,
          "attention": check_attention, "forward_pass": check_forward_pass,
          "training": check_training, "softmax": check_softmax, "decoding": check_decoding,
          "finetuning": check_finetuning}


def test_every_lesson_page_has_a_quiz():
    from lessons import registry
    from tests.helpers import ROOT
    assert set(QUIZZES) == {entry.slug for entry in registry.LESSONS}
    for entry in registry.LESSONS:
        assert f'quiz_section("{entry.slug}"' in (ROOT / "app" / entry.page).read_text("utf-8")


def test_every_quiz_answer_matches_an_independent_computation(tiny_checkpoint_bytes, tiny_masked):
    assert set(CHECKS) | {"masked_vs_causal"} == set(QUIZZES)      # no lesson left unchecked
    for name, ckpt, lang, masked in models(tiny_checkpoint_bytes, tiny_masked):
        for slug, check in CHECKS.items():
            qs = by_id(questions_for(slug, ckpt, lang))
            if not ckpt.model.config.causal and slug in ("forward_pass", "softmax", "decoding"):
                assert not qs, f"{slug} asks a masked model for a next token"
                continue
            assert 2 <= len(qs) <= 4 or (slug == "finetuning" and not ckpt.model.config.causal)
            for q in qs.values():
                assert len(set(q.choices)) == len(q.choices) >= 2, (name, q)
            check(ckpt, qs, lang)
        causal = ckpt if ckpt.model.config.causal else load_shipped_model("classroom")
        qs = by_id(questions_for("masked_vs_causal", masked, lang, causal=causal))
        check_masked_vs_causal(masked, qs, lang, causal)


def test_half_learning_rate_experiment_answers_from_its_two_runs(tiny_checkpoint_bytes, tiny_text):
    ckpt = load_checkpoint(tiny_checkpoint_bytes)
    asked = by_id(questions_for("training", ckpt, "en"))["train_half_lr"]
    seen = []
    done = run_experiment(asked, ckpt, "en", tiny_text, seen.append)
    full_loss, half_loss = (float(x) for x in re.findall(r"(\d+\.\d+) with", done.explanation))
    assert done.right_choice == ("higher" if half_loss > full_loss else "lower")
    assert seen and seen == sorted(seen) and 0.9 <= seen[-1] <= 1.0      # progress went forward
