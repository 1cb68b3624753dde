"""Fine-tuning: which weights each method may change, metrics against scikit-learn on the
model's own predictions, prompting against a direct count, and every bad CSV said plainly."""
import math

import pytest
import torch
import torch.nn.functional as F

from lessons.concepts.finetuning import compute as fc
from lessons.concepts.finetuning.data import (MAX_CSV_BYTES, DataError, LabelledData,
                                              builtin_dataset, parse_labelled_csv,
                                              read_labelled_csv)
from lessons.engine.checkpoint import load_shipped_model

sklearn_metrics = pytest.importorskip("sklearn.metrics")


@pytest.fixture(scope="module")
def shipped():
    return load_shipped_model()


@pytest.fixture(scope="module")
def small_data():
    """A slice of the built-in English set: enough for a few steps, quick to score."""
    data = builtin_dataset("en")
    return LabelledData(data.labels, data.train[:64], data.validation[:16], data.test[:40])


def weights(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_the_builtin_sets_are_balanced_split_and_large_enough():
    for lang in ("en", "zh"):
        data = builtin_dataset(lang)
        assert len(data.labels) == 2
        assert len(data.train) + len(data.validation) + len(data.test) >= 500
        for part in (data.train, data.validation, data.test):
            counts = [sum(1 for _, y in part if y == k) for k in range(2)]
            assert counts[0] == counts[1]
        # no text is in two splits
        texts = [set(t for t, _ in part) for part in (data.train, data.validation, data.test)]
        assert not (texts[0] & texts[2]) and not (texts[1] & texts[2])


def test_probe_leaves_the_body_bit_for_bit_and_trains_the_head(shipped, small_data):
    before = weights(shipped.model)
    trainer = fc.method_trainer(shipped, small_data, "probe", steps=4)
    head_before = weights(trainer.head)
    trainer.train()
    after = weights(trainer.model)
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert any(not torch.equal(head_before[k], v) for k, v in weights(trainer.head).items())


def test_full_fine_tune_changes_the_body_but_never_the_checkpoint(shipped, small_data):
    before = weights(shipped.model)
    trainer = fc.method_trainer(shipped, small_data, "full", steps=3)
    trainer.train()
    moved = [k for k, v in weights(trainer.model).items() if not torch.equal(before[k], v)]
    assert "blocks.0.attn.qkv.weight" in moved and "token_embedding.weight" in moved
    assert all(torch.equal(before[k], v) for k, v in weights(shipped.model).items())


def test_scratch_starts_from_random_weights_of_the_same_shape(shipped, small_data):
    trainer = fc.method_trainer(shipped, small_data, "scratch", steps=1)
    ours, theirs = weights(trainer.model), weights(shipped.model)
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}
    assert not torch.equal(ours["blocks.0.mlp.expand.weight"], theirs["blocks.0.mlp.expand.weight"])


def test_metrics_equal_sklearn_on_the_model_predictions(shipped, small_data):
    result = fc.run_method(shipped, small_data, "probe", steps=3)
    truth = [y for _, y in small_data.test]
    predicted = result.predictions
    assert result.metrics.confusion == sklearn_metrics.confusion_matrix(truth, predicted, labels=[0, 1]).tolist()
    assert result.metrics.accuracy == pytest.approx(sklearn_metrics.accuracy_score(truth, predicted))
    for name, func in (("precision", sklearn_metrics.precision_score),
                       ("recall", sklearn_metrics.recall_score), ("f1", sklearn_metrics.f1_score)):
        assert getattr(result.metrics, name) == pytest.approx(
            func(truth, predicted, average="macro", zero_division=0))
    # the probabilities are the head's softmax on the model's features, row by row
    ids = shipped.tokenizer.encode(small_data.test[0][0])
    with torch.no_grad():
        features = result.model.eval().features(torch.tensor([ids]))        # (1, T, C)
        logits = result.head(features, torch.tensor([len(ids)]))
    torch.testing.assert_close(result.probabilities[0], logits.softmax(-1)[0])


def test_prompting_scores_each_label_by_its_log_probability(shipped):
    """Batched and padded in compute; here one text at a time, one token at a time."""
    texts, labels = ["the cat sat on the mat", "a dog", "x" * 300], ["real", "shuffled"]
    probs = fc.prompt_probabilities(shipped.model, shipped.tokenizer, texts, labels)
    block = shipped.model.config.block_size
    for row, text in enumerate(texts):
        by_hand = []
        for label in labels:                  # the chain rule, one token at a time
            ids = shipped.tokenizer.encode(text + fc.PROMPT_CUE)
            total = 0.0
            for token in shipped.tokenizer.encode(label):
                with torch.no_grad():
                    logits, _ = shipped.model(torch.tensor([ids[-block:]]))
                total += F.log_softmax(logits[0, -1], -1)[token].item()
                ids = ids + [token]
            by_hand.append(total)
        expected = torch.tensor(by_hand).softmax(-1)
        torch.testing.assert_close(probs[row], expected, atol=1e-5, rtol=1e-4)


def test_forgetting_is_none_for_the_same_body(shipped):
    text = "Return the value of the named attribute of object. " * 400
    same = fc.forgetting(shipped.model, shipped.model, shipped.tokenizer, text)
    assert same.before.perplexity == pytest.approx(same.after.perplexity)
    assert math.isfinite(same.before.perplexity)


# ---- bad files, each with a message in both languages ---------------------------------------

BAD = {
    "no label column": (b"text,category\nhello,a\nbye,b\n", "data_no_column"),
    "one class": (b"text,label\n" + b"".join(b"t%d,spam\n" % i for i in range(30)), "data_one_class"),
    "empty": (b"", "file_empty"),
    "only blanks": (b"  \n\n", "file_empty"),
    "not UTF-8": ("text,label\nbonjour,fran\u00e7ais\nhi,en\n".encode("latin-1"), "file_not_utf8"),
    "bad split": (b"text,label,split\na,x,train\nb,y,dev\n", "data_bad_split"),
    "empty test split": (b"text,label,split\na,x,train\nb,y,train\nc,x,validation\n", "data_empty_split"),
    "no rows": (b"text,label\n,\n,\n", "data_no_rows"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_csv_gets_a_message(case):
    data, key = BAD[case]
    with pytest.raises(DataError) as caught:
        parse_labelled_csv(data)
    assert caught.value.key == key
    english, chinese = str(caught.value), caught.value.in_language("zh")
    assert english and chinese and english != chinese
    assert any("\u4e00" <= c <= "\u9fff" for c in chinese)


def test_a_100_mb_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "wb") as f:
        f.truncate(100_000_000)               # sparse: nothing is written to disk
    with pytest.raises(DataError) as caught:
        read_labelled_csv(str(path))
    assert caught.value.key == "file_too_big"
    assert f"{MAX_CSV_BYTES / 1e6:.2f}" in str(caught.value)


def test_without_a_split_column_the_last_fifth_is_the_test_set():
    rows = b"".join(b"text %d,%s\n" % (i, b"ab"[i % 2:i % 2 + 1]) for i in range(50))
    data = parse_labelled_csv(b"text,label\n" + rows)
    assert [t for t, _ in data.test] == [f"text {i}" for i in range(40, 50)]
    assert [t for t, _ in data.validation] == [f"text {i}" for i in range(35, 40)]
    assert len(data.train) == 35 and data.labels == ["a", "b"]


def test_a_bom_and_capitalised_columns_are_fine():
    data = parse_labelled_csv("\ufeffText,Label\n".encode() + b"".join(
        b"x%d,%d\n" % (i, i % 2) for i in range(20)))
    assert data.labels == ["0", "1"]


def test_last_position_attention_is_layer_0_by_hand(shipped):
    text = "the cat sat"
    labels, weights = fc.last_position_attention(shipped.model, shipped.tokenizer, text)
    ids = torch.tensor([shipped.tokenizer.encode(text)])
    model, (_, T) = shipped.model, ids.shape
    with torch.no_grad():               # layer 0's scores from the raw weights, plain torch
        x = model.token_embedding(ids) + model.position_embedding(torch.arange(T))
        block = model.blocks[0]
        q, k, _ = block.attn.qkv(block.ln_attn(x)).split(model.config.n_embd, dim=2)
        nh, hs = model.config.n_head, model.config.n_embd // model.config.n_head
        q = q[0, -1].view(nh, hs)                              # the last position's queries
        k = k[0].view(T, nh, hs).transpose(0, 1)              # (nh, T, hs)
        by_hand = ((k @ q[:, :, None]).squeeze(-1) / math.sqrt(hs)).softmax(-1).mean(0)
    assert len(labels) == T and weights.shape == (model.config.n_layer, T)
    torch.testing.assert_close(weights[0], by_hand, atol=1e-5, rtol=1e-4)
