"""Pre-training, then fine-tuning: four ways to make a classifier out of a document completer,
measured the same way.

- ``prompt``: no training. The base model reads ``text -> `` and we compare how likely it finds
  each label as the continuation (the label as the next tokens).
- ``probe``: a linear probe. The body is frozen bit for bit; only a new head (one Linear from
  the last position's features to the classes) learns.
- ``full``: a full fine-tune. The same new head, and every weight of the body learns too.
- ``scratch``: the same architecture and recipe from random weights: what pre-training bought.

Each trained method runs on a ``Trainer`` (``Trainer.from_checkpoint`` with a
``Classification`` objective), so a page, a notebook, the CLI and the benchmark share one
recipe, and the trainer's callbacks report progress.

Also here: forgetting (the fine-tuned body's perplexity on the pre-training text, before and
after) and continued pre-training on a new text against the same model from scratch.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from lessons.concepts.evaluation.compute import (ClassificationMetrics, NextTokenScores,
                                                 classification_metrics, next_token_scores)
from lessons.concepts.finetuning.data import LabelledData
from lessons.engine.checkpoint import Checkpoint
from lessons.engine.config import TrainConfig
from lessons.engine.corpus import split_text
from lessons.engine.model import GPT
from lessons.engine.training import BODY, Trainer
from lessons.engine.training.objectives import Classification

METHODS = ("prompt", "probe", "full", "scratch")
TRAINED = ("probe", "full", "scratch")
PROMPT_CUE = " -> "                 # what separates a text from its label in the prompt
DEFAULT_STEPS = 150
# Why these rates: a full fine-tune must nudge weights that already work (3e-4; 1e-3 over-fits
# 400 examples within 100 steps), while a probe's single fresh Linear can take big steps.
# scratch uses full's rate: the comparison changes only where the weights start.
LEARNING_RATES = {"probe": 1e-2, "full": 3e-4, "scratch": 3e-4}


def recipe(method: str, steps: int = DEFAULT_STEPS, seed: int = 1337) -> TrainConfig:
    """The training settings of one method: small batches, a short warm-up, a cosine decay,
    validation accuracy every ``steps // 6`` steps."""
    lr = LEARNING_RATES[method]
    every = max(1, steps // 6)
    return TrainConfig(batch_size=16, max_iters=steps, learning_rate=lr, min_lr=lr / 10,
                       warmup_iters=min(10, steps // 10), weight_decay=0.0,
                       eval_interval=every, eval_iters=1, log_interval=max(1, steps // 30),
                       seed=seed)


def classification_task(data: LabelledData, tokenizer, block_size: int) -> Classification:
    """Train on the train split; the trainer's validation accuracy is on the validation split.
    The test split is kept for the final numbers only."""
    return Classification.from_texts(data.train, data.validation, tokenizer, len(data.labels),
                                     block_size)


def method_trainer(checkpoint: Checkpoint, data: LabelledData, method: str,
                   steps: int = DEFAULT_STEPS, device: str = "cpu", seed: int = 1337) -> Trainer:
    """A trainer for ``probe``, ``full`` or ``scratch``; the checkpoint itself never changes."""
    if method not in TRAINED:
        raise ValueError(f"{method!r} trains nothing; trained methods: {', '.join(TRAINED)}")
    config = recipe(method, steps, seed)
    task = classification_task(data, checkpoint.tokenizer, checkpoint.model.config.block_size)
    if method == "scratch":
        with torch.random.fork_rng():          # the same random start every time, and the
            torch.manual_seed(seed)            # caller's random state left as it was
            fresh = GPT(checkpoint.model.config)
        return Trainer(None, config, None, checkpoint.tokenizer, device, model=fresh,
                       objective=task)
    frozen = BODY if method == "probe" else ()      # BODY: every weight but the new head
    return Trainer.from_checkpoint(checkpoint, config, objective=task, freeze=frozen,
                                   device=device)


@torch.no_grad()
def class_probabilities(model: GPT, head, tokenizer, texts: list[str],
                        batch_size: int = 64) -> torch.Tensor:
    """(N, n_classes) softmax of the head's scores for each text."""
    was_training = model.training
    model.eval(), head.eval()
    device = next(model.parameters()).device
    task = Classification([([0], 0)], [([0], 0)], head.n_classes, model.config.block_size)
    rows = []
    for start in range(0, len(texts), batch_size):
        examples = [((tokenizer.encode(text) or [0])[:model.config.block_size], 0)
                    for text in texts[start:start + batch_size]]
        batch = task.batch_of(examples, device)
        rows.append(task.class_logits(model, head, batch).softmax(-1).cpu())
    model.train(was_training), head.train(was_training)
    return torch.cat(rows)


@torch.no_grad()
def prompt_probabilities(model: GPT, tokenizer, texts: list[str], labels: list[str],
                         batch_size: int = 64) -> torch.Tensor:
    """(N, n_classes): for each text, how likely the base model finds each label right after
    ``text -> `` (the sum of the log-probabilities of the label's tokens), softmaxed over the
    labels. A long text keeps its end, so the label always fits in the block."""
    was_training = model.training
    model.eval()
    scores = torch.zeros(len(texts), len(labels))
    prompts = [tokenizer.encode(text + PROMPT_CUE) for text in texts]
    for k, label in enumerate(labels):
        label_ids = tokenizer.encode(label)
        for start in range(0, len(texts), batch_size):
            rows = [(p + label_ids)[-(model.config.block_size + 1):]
                    for p in prompts[start:start + batch_size]]
            scores[start:start + len(rows), k] = _label_log_probs(model, rows, len(label_ids))
    model.train(was_training)
    return scores.softmax(-1)


def _label_log_probs(model: GPT, rows: list[list[int]], n: int) -> torch.Tensor:
    """Sum of log p(last n tokens of each row | what comes before), one padded batch."""
    device = next(model.parameters()).device
    lengths = torch.tensor([len(r) - 1 for r in rows])                  # inputs per row
    inputs = torch.zeros(len(rows), int(lengths.max()), dtype=torch.long)
    for i, r in enumerate(rows):
        inputs[i, :len(r) - 1] = torch.tensor(r[:-1])
    attend = torch.arange(inputs.shape[1])[None, :] < lengths[:, None]   # (B, T): real tokens
    log_probs = F.log_softmax(model(inputs.to(device), attend=attend.to(device))[0], -1).cpu()
    total = torch.zeros(len(rows))
    for i, r in enumerate(rows):
        positions = torch.arange(len(r) - 1 - n, len(r) - 1)             # they predict r[-n:]
        total[i] = log_probs[i, positions, torch.tensor(r[-n:])].sum()
    return total


@dataclass
class MethodResult:
    method: str
    labels: list[str]
    test: list[tuple[str, int]]                   # (text, true class)
    probabilities: torch.Tensor                   # (N, n_classes) on the test split
    metrics: ClassificationMetrics
    curves: list[dict] = field(default_factory=list)   # the trainer's logged steps
    elapsed_s: float = 0.0
    model: GPT | None = None                      # the body after this method
    head: torch.nn.Module | None = None           # its classifier head (None: prompting)

    @property
    def predictions(self) -> list[int]:
        return self.probabilities.argmax(-1).tolist()

    def misclassified(self, limit: int = 20) -> list[dict]:
        """The test texts it got wrong, the most confidently wrong first."""
        wrong = [(i, float(self.probabilities[i, p])) for i, p in enumerate(self.predictions)
                 if p != self.test[i][1]]
        wrong.sort(key=lambda pair: -pair[1])
        return [{"text": self.test[i][0], "label": self.labels[self.test[i][1]],
                 "predicted": self.labels[self.predictions[i]], "probability": confidence}
                for i, confidence in wrong[:limit]]

    def summary(self) -> dict:
        """The CLI's final object: accuracy, macro precision/recall/F1, confusion, labels."""
        return {"method": self.method, **self.metrics.as_dict(), "labels": self.labels,
                "test_examples": len(self.test), "elapsed_s": round(self.elapsed_s, 3)}


def score_on_test(method: str, data: LabelledData, probabilities: torch.Tensor,
                  **extra) -> MethodResult:
    truth = [label for _, label in data.test]
    metrics = classification_metrics(truth, probabilities.argmax(-1).tolist(), len(data.labels))
    return MethodResult(method, data.labels, data.test, probabilities, metrics, **extra)


def finish(trainer: Trainer, method: str, data: LabelledData) -> MethodResult:
    """Score a trained method's current weights on the test split."""
    probs = class_probabilities(trainer.model, trainer.head, trainer.tokenizer,
                                [text for text, _ in data.test])
    return score_on_test(method, data, probs, curves=list(trainer.metrics),
                         elapsed_s=trainer.elapsed_s, model=trainer.model, head=trainer.head)


def prompt_result(checkpoint: Checkpoint, data: LabelledData) -> MethodResult:
    started = time.perf_counter()
    probs = prompt_probabilities(checkpoint.model, checkpoint.tokenizer,
                                 [text for text, _ in data.test], data.labels)
    return score_on_test("prompt", data, probs, elapsed_s=time.perf_counter() - started,
                         model=checkpoint.model)


def run_method(checkpoint: Checkpoint, data: LabelledData, method: str,
               steps: int = DEFAULT_STEPS, callback=None, stop_event=None,
               device: str = "cpu") -> MethodResult:
    """Train (unless prompting) and score one method on the test split."""
    if method == "prompt":
        return prompt_result(checkpoint, data)
    trainer = method_trainer(checkpoint, data, method, steps, device)
    trainer.train(callback, stop_event)
    return finish(trainer, method, data)


def as_checkpoint(result: MethodResult, base: Checkpoint) -> Checkpoint:
    """The fine-tuned model as a checkpoint of its own ("use this model"): a frozen copy, so
    later training never changes what a page shows."""
    model = copy.deepcopy(result.model).cpu().eval()
    head = copy.deepcopy(result.head).cpu().eval() if result.head is not None else None
    return Checkpoint(model, base.tokenizer, base.train_config, list(result.curves), {}, head)


# ---- what fine-tuning costs: forgetting ---------------------------------------------------------

@dataclass(frozen=True)
class Forgetting:
    before: NextTokenScores
    after: NextTokenScores


def forgetting(base: GPT, finetuned: GPT, tokenizer, pretraining_text: str,
               max_chars: int = 8000) -> Forgetting:
    """Both bodies' perplexity and top-1 accuracy on the held-out 10 % of the pre-training
    text. A probe cannot forget (its body is frozen); a full fine-tune's body has moved."""
    _, held_out = split_text(pretraining_text, 0.1)
    ids = tokenizer.encode(held_out[:max_chars])
    return Forgetting(next_token_scores(base, ids, 8), next_token_scores(finetuned, ids, 8))


# ---- continued pre-training on a new text -------------------------------------------------------

def continued_trainer(checkpoint: Checkpoint, text: str, start: str, steps: int = 150,
                      device: str = "cpu", seed: int = 1337) -> Trainer:
    """A next-token trainer on ``text`` that starts from the checkpoint's weights
    (``start="pretrained"``) or from random weights of the same shape (``"scratch"``), with the
    same recipe and data either way: overlaid, their validation curves show what pre-training
    carried over to the new text."""
    config = TrainConfig(batch_size=16, max_iters=steps, learning_rate=1e-3, min_lr=1e-4,
                         warmup_iters=min(10, steps // 10), eval_interval=max(1, steps // 10),
                         eval_iters=4, log_interval=max(1, steps // 30), seed=seed)
    if start == "pretrained":
        return Trainer.from_checkpoint(checkpoint, config, text, device=device)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        fresh = GPT(checkpoint.model.config)
    return Trainer(None, config, text, checkpoint.tokenizer, device, model=fresh)


# ---- what the classifier reads ---------------------------------------------------------------

def last_position_attention(model: GPT, tokenizer, text: str):
    """(token labels, weights (L, T)): how much the last position, the one the classifier
    head reads, draws from each token of the text in every layer (mean over heads).

    >>> from lessons.engine.checkpoint import toy_checkpoint
    >>> ckpt = toy_checkpoint("ab", block_size=8, n_layer=2, n_head=2, n_embd=8)
    >>> labels, weights = last_position_attention(ckpt.model, ckpt.tokenizer, "abba")
    >>> labels, tuple(weights.shape), [round(float(row.sum()), 4) for row in weights]
    (['a', 'b', 'b', 'a'], (2, 4), [1.0, 1.0])
    """
    from lessons.concepts.attention.compute import attention_maps, tokens_for
    ids, labels, _ = tokens_for(tokenizer, text, model.config.block_size)
    if not ids:
        raise ValueError("an empty text has no last position")
    attention = attention_maps(model.cpu().eval(), ids)          # (L, H, T, T)
    return labels, attention[:, :, -1, :].mean(dim=1)            # (L, T): the last query row
