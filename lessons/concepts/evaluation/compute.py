"""How to measure a model: the numbers behind "it got better".

Classification: a confusion matrix (rows = the true label, columns = the predicted one), and
from it accuracy, each class's precision, recall and F1, and their macro averages (the plain
mean over classes, so a rare class counts as much as a common one). A class that is never
predicted has precision 0/0, which counts as 0 (scikit-learn's ``zero_division=0``).

Language models: perplexity is exp(cross-entropy in nats), "as unsure as a fair die with this
many sides"; next-token top-k accuracy asks whether the true next token is among the k likeliest.

Translation: BLEU is the geometric mean of the clipped 1- to 4-gram precisions of a candidate
against a reference, times a brevity penalty for candidates shorter than the reference.

>>> m = classification_metrics([0, 0, 1, 1], [0, 1, 1, 1], n_classes=2)
>>> m.confusion, m.accuracy, round(m.f1, 4)
([[1, 1], [0, 2]], 0.75, 0.7333)
>>> round(perplexity(math.log(4)), 6)       # cross-entropy ln 4: as unsure as a 4-sided die
4.0
>>> round(bleu(["the cat sat on a mat"], ["the cat sat on the mat"]).score, 4)
0.5373
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import torch
import torch.nn.functional as F


# ---- classification --------------------------------------------------------------------------

def confusion_matrix(true: list[int], predicted: list[int], n_classes: int) -> list[list[int]]:
    """counts[t][p]: how many examples of true class t were predicted as p.

    >>> confusion_matrix([0, 1, 1], [0, 0, 1], 2)
    [[1, 0], [1, 1]]
    """
    if len(true) != len(predicted):
        raise ValueError(f"{len(true)} true labels but {len(predicted)} predictions")
    counts = [[0] * n_classes for _ in range(n_classes)]
    for t, p in zip(true, predicted):
        counts[t][p] += 1
    return counts


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0          # 0/0 counts as 0 (zero_division=0)


@dataclass(frozen=True)
class ClassScores:
    precision: float     # of the texts predicted as this class, the share that are
    recall: float        # of the texts of this class, the share found
    f1: float            # harmonic mean of the two
    support: int         # how many texts of this class there are


def class_scores(confusion: list[list[int]], k: int) -> ClassScores:
    """Precision, recall and F1 of class k, read off the confusion matrix.

    >>> class_scores([[4, 2], [1, 3]], 1)      # 3 found of 4; 3 right of 5 flagged
    ClassScores(precision=0.6, recall=0.75, f1=0.6666666666666665, support=4)
    """
    true_positive = confusion[k][k]
    predicted_k = sum(row[k] for row in confusion)      # column k
    actual_k = sum(confusion[k])                         # row k
    precision, recall = _ratio(true_positive, predicted_k), _ratio(true_positive, actual_k)
    return ClassScores(precision, recall, _ratio(2 * precision * recall, precision + recall),
                       actual_k)


@dataclass(frozen=True)
class ClassificationMetrics:
    confusion: list[list[int]]
    accuracy: float
    precision: float          # macro: the mean over classes
    recall: float
    f1: float
    per_class: list[ClassScores]

    def as_dict(self) -> dict:
        return {"accuracy": self.accuracy, "precision": self.precision, "recall": self.recall,
                "f1": self.f1, "confusion": self.confusion}


def classification_metrics(true: list[int], predicted: list[int],
                           n_classes: int) -> ClassificationMetrics:
    """Everything the Fine-tuning page and the CLI report about a classifier's predictions."""
    confusion = confusion_matrix(true, predicted, n_classes)
    per_class = [class_scores(confusion, k) for k in range(n_classes)]
    correct = sum(confusion[k][k] for k in range(n_classes))
    mean = lambda values: sum(values) / len(values)     # noqa: E731
    return ClassificationMetrics(confusion, _ratio(correct, len(true)),
                                 mean([c.precision for c in per_class]),
                                 mean([c.recall for c in per_class]),
                                 mean([c.f1 for c in per_class]), per_class)


# ---- language models -------------------------------------------------------------------------

def perplexity(cross_entropy_nats: float) -> float:
    """exp(cross-entropy): the number of equally likely choices that would leave a model as
    unsure as it is. Cross-entropy in bits gives the same perplexity as 2 ** bits."""
    return math.exp(cross_entropy_nats)


def perplexity_of_probabilities(probs_of_truth: list[float]) -> float:
    """Perplexity from the probability the model gave each true token: 1 / their geometric mean.

    >>> perplexity_of_probabilities([0.25, 0.25, 0.25])
    4.0
    """
    mean_nats = -sum(math.log(p) for p in probs_of_truth) / len(probs_of_truth)
    return perplexity(mean_nats)


@dataclass(frozen=True)
class NextTokenScores:
    cross_entropy: float      # mean over every predicted position, nats
    perplexity: float
    top1: float               # share of positions whose true next token is the likeliest
    top5: float               # ... is among the five likeliest
    positions: int


@torch.no_grad()
def next_token_scores(model, ids: list[int], max_windows: int = 16) -> NextTokenScores:
    """Score a model on held-out token ids: cut them into windows of the block size (each
    predicts its own next tokens; a window never sees the one before it) and count."""
    block = model.config.block_size
    windows = [ids[i:i + block + 1] for i in range(0, len(ids) - 1, block)]
    windows = [w for w in windows if len(w) == block + 1][:max_windows] or [ids[:block + 1]]
    if len(windows[0]) < 2:
        raise ValueError("need at least two tokens to predict one")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    batch = torch.tensor(windows, dtype=torch.long, device=device)     # (B, T+1)
    logits, _ = model(batch[:, :-1])                                    # (B, T, V)
    model.train(was_training)
    targets = batch[:, 1:]
    flat_logits, flat_targets = logits.reshape(-1, logits.size(-1)), targets.reshape(-1)
    cross_entropy = F.cross_entropy(flat_logits, flat_targets).item()
    top5 = flat_logits.topk(min(5, flat_logits.size(-1)), dim=-1).indices     # (N, 5)
    hits = top5 == flat_targets[:, None]
    return NextTokenScores(cross_entropy, perplexity(cross_entropy),
                           hits[:, 0].float().mean().item(), hits.any(-1).float().mean().item(),
                           len(flat_targets))


# ---- translation -----------------------------------------------------------------------------

def ngrams(tokens: list[str], n: int) -> Counter:
    """>>> ngrams("a b a b".split(), 2)
    Counter({('a', 'b'): 2, ('b', 'a'): 1})
    """
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


@dataclass(frozen=True)
class Bleu:
    score: float                        # 0..1 (sacrebleu prints it times 100)
    matches: tuple[int, ...]            # clipped n-gram matches, n = 1..4
    totals: tuple[int, ...]             # candidate n-grams, n = 1..4
    brevity_penalty: float
    candidate_length: int
    reference_length: int

    @property
    def precisions(self) -> tuple[float, ...]:
        return tuple(_ratio(m, t) for m, t in zip(self.matches, self.totals))


def bleu(candidates: list[str], references: list[str], max_n: int = 4) -> Bleu:
    """Corpus BLEU of whitespace-tokenised candidates, one reference each, no smoothing.

    A candidate n-gram counts as matched at most as often as it occurs in the reference
    ("clipping": "the the the" does not get three unigrams right against "the cat").
    Counts are summed over the corpus first, then divided. Any precision of 0 makes the
    geometric mean, and so BLEU, 0.
    """
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates but {len(references)} references")
    matches, totals = [0] * max_n, [0] * max_n
    cand_len = ref_len = 0
    for candidate, reference in zip(candidates, references):
        cand, ref = candidate.split(), reference.split()
        cand_len, ref_len = cand_len + len(cand), ref_len + len(ref)
        for n in range(1, max_n + 1):
            cand_grams, ref_grams = ngrams(cand, n), ngrams(ref, n)
            matches[n - 1] += sum(min(c, ref_grams[g]) for g, c in cand_grams.items())
            totals[n - 1] += sum(cand_grams.values())
    penalty = brevity_penalty(cand_len, ref_len)
    if min(matches) == 0:
        score = 0.0
    else:
        score = penalty * math.exp(sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n)
    return Bleu(score, tuple(matches), tuple(totals), penalty, cand_len, ref_len)


def brevity_penalty(candidate_length: int, reference_length: int) -> float:
    """1 when the candidate is at least as long as the reference, else exp(1 - r/c): without
    it, a one-word candidate that is right would score perfect precision.

    >>> round(brevity_penalty(4, 6), 4)
    0.6065
    """
    if candidate_length == 0:
        return 0.0
    if candidate_length >= reference_length:
        return 1.0
    return math.exp(1 - reference_length / candidate_length)


def held_out_scores(checkpoint, text: str, max_chars: int = 6000) -> NextTokenScores:
    """A checkpoint's next-token scores on the start of ``text``'s held-out 10 % (the part the
    default split never trains on)."""
    from lessons.engine.corpus import split_text
    _, held_out = split_text(text, 0.1)
    return next_token_scores(checkpoint.model, checkpoint.tokenizer.encode(held_out[:max_chars]), 8)
