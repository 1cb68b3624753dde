"""Our metrics against scikit-learn and sacrebleu (test-only dependencies), and perplexity and
top-k accuracy against torch on the shipped model."""
import math
import random

import pytest
import torch
import torch.nn.functional as F

sklearn_metrics = pytest.importorskip("sklearn.metrics")
sacrebleu = pytest.importorskip("sacrebleu")

from lessons.concepts.evaluation import compute as ev           # noqa: E402
from lessons.concepts.evaluation import figures as evf          # noqa: E402
from lessons.engine.checkpoint import load_checkpoint           # noqa: E402
from lessons.engine.corpus import builtin_text, split_text      # noqa: E402


def random_predictions(seed, n_classes, n=60, skew=False):
    rng = random.Random(seed)
    true = [rng.randrange(n_classes) for _ in range(n)]
    # skew: a lazy classifier that never predicts the last class (zero_division territory)
    predicted = [rng.randrange(n_classes - 1 if skew else n_classes) for _ in range(n)]
    return true, predicted


@pytest.mark.parametrize("seed,n_classes,skew", [(0, 2, False), (1, 3, False), (2, 4, True),
                                                  (3, 2, True), (4, 5, False)])
def test_classification_metrics_equal_sklearn(seed, n_classes, skew):
    true, predicted = random_predictions(seed, n_classes, skew=skew)
    ours = ev.classification_metrics(true, predicted, n_classes)
    labels = list(range(n_classes))
    assert ours.confusion == sklearn_metrics.confusion_matrix(true, predicted, labels=labels).tolist()
    assert ours.accuracy == pytest.approx(sklearn_metrics.accuracy_score(true, predicted))
    for name, func in (("precision", sklearn_metrics.precision_score),
                       ("recall", sklearn_metrics.recall_score), ("f1", sklearn_metrics.f1_score)):
        macro = func(true, predicted, labels=labels, average="macro", zero_division=0)
        per_class = func(true, predicted, labels=labels, average=None, zero_division=0)
        assert getattr(ours, name) == pytest.approx(macro), name
        assert [getattr(c, name) for c in ours.per_class] == pytest.approx(list(per_class)), name


def test_the_spam_toy_by_hand():
    m = ev.classification_metrics([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], [1, 1, 1, 0, 1, 1, 0, 0, 0, 0], 2)
    assert m.confusion == [[4, 2], [1, 3]]
    assert (m.accuracy, m.per_class[1].precision, m.per_class[1].recall) == (0.7, 0.6, 0.75)
    assert m.per_class[1].f1 == pytest.approx(2 / 3)


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError):
        ev.confusion_matrix([0, 1], [0], 2)


@pytest.mark.parametrize("candidates,references", [
    (["the cat sat on a mat"], ["the cat sat on the mat"]),
    (["the cat is on the mat"], ["the cat sat on the mat"]),                      # a zero 4-gram
    (["the cat sat"], ["the cat sat on the mat"]),                                # brevity penalty
    (["the the the the the the"], ["the cat sat on the mat"]),                    # clipping
    (["a quick brown fox jumps over the dog", "it is a nice day today"],
     ["the quick brown fox jumps over the lazy dog", "today is a nice day"]),     # a corpus
])
def test_bleu_equals_sacrebleu(candidates, references):
    ours = ev.bleu(candidates, references)
    theirs = sacrebleu.corpus_bleu(candidates, [references], tokenize="none", smooth_method="none")
    assert ours.score * 100 == pytest.approx(theirs.score, abs=1e-9)
    assert list(ours.matches) == list(theirs.counts)
    assert list(ours.totals) == list(theirs.totals)
    assert ours.brevity_penalty == pytest.approx(theirs.bp)
    assert [p * 100 for p in ours.precisions] == pytest.approx(theirs.precisions)


def test_perplexity_is_exp_cross_entropy_on_torch_logits():
    logits = torch.randn(50, 7, generator=torch.Generator().manual_seed(0))
    targets = torch.randint(7, (50,), generator=torch.Generator().manual_seed(1))
    nats = F.cross_entropy(logits, targets).item()
    probs = logits.softmax(-1)[torch.arange(50), targets].tolist()
    assert ev.perplexity_of_probabilities(probs) == pytest.approx(math.exp(nats), rel=1e-5)
    assert ev.perplexity(math.log(7)) == pytest.approx(7)        # uniform over 7 classes


def test_next_token_scores_on_the_shipped_model_match_a_direct_count():
    ckpt = load_checkpoint("lessons/assets/classroom.safetensors")
    _, held_out = split_text(builtin_text(), 0.1)
    ids = ckpt.tokenizer.encode(held_out[:3000])
    scores = ev.next_token_scores(ckpt.model, ids, max_windows=4)
    block = ckpt.model.config.block_size
    window = torch.tensor([ids[block + 1:2 * block + 2]])       # the second window, by hand
    with torch.no_grad():
        logits, loss = ckpt.model(window[:, :-1], window[:, 1:])
    assert scores.positions == 4 * block
    # the model learned this text's language: far better than the 359-way guess
    assert scores.perplexity < 10 < ckpt.model.config.vocab_size
    assert 0 < scores.top1 <= scores.top5 <= 1
    assert abs(loss.item() - scores.cross_entropy) < 1.0          # one window vs the mean of four
    top1 = (logits.argmax(-1) == window[:, 1:]).float().mean().item()
    assert 0 < top1 < 1


def test_figures_draw():
    m = ev.classification_metrics([0, 1, 1], [0, 0, 1], 2)
    assert evf.confusion_figure(m.confusion, ["a", "b"], lang="zh").data[0].z is not None
    assert len(evf.class_scores_figure(m, ["a", "b"]).data) == 3
    assert len(evf.bleu_figure(ev.bleu(["a b c d"], ["a b c d"])).data[0].y) == 4
    assert evf.perplexity_figure(1.0).data[1].y[0] == pytest.approx(math.e)
