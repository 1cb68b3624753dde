"""Fine-tuning on the built-in classification task: the four methods at equal steps.

Prints (never asserts) one line a method: test accuracy, macro F1, wall time; for the trained
methods also the best test accuracy seen at any evaluation step and the wall time it was first
reached; then whether the pre-trained full fine-tune beat the same model from scratch.

    python benchmarks/finetune.py [--lang en] [--steps 150] [--threads 2]

The shipped model was pre-trained on English, so the English set is where pre-training shows;
on the Chinese set it has nothing to transfer (the lesson says why).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from lessons.concepts.evaluation.compute import classification_metrics  # noqa: E402
from lessons.concepts.finetuning import compute as fc  # noqa: E402
from lessons.concepts.finetuning.data import builtin_dataset  # noqa: E402
from lessons.engine.checkpoint import load_shipped_model  # noqa: E402


def test_accuracy(trainer, data) -> float:
    probs = fc.class_probabilities(trainer.model, trainer.head, trainer.tokenizer,
                                   [text for text, _ in data.test])
    truth = [label for _, label in data.test]
    return classification_metrics(truth, probs.argmax(-1).tolist(), len(data.labels)).accuracy


def trained(checkpoint, data, method: str, steps: int) -> dict:
    """Train one method; at every evaluation step also score the test split, to find when the
    best test accuracy was first reached (that scoring is excluded from the wall time)."""
    trainer = fc.method_trainer(checkpoint, data, method, steps)
    seen = []                                  # (test accuracy, training seconds so far)

    def on_step(row):
        if row.get("val_accuracy") is not None:
            seen.append((test_accuracy(trainer, data), trainer.elapsed_s))

    started = time.perf_counter()
    trainer.train(on_step)
    wall = time.perf_counter() - started
    result = fc.finish(trainer, method, data)
    best = max(seen, key=lambda pair: pair[0]) if seen else (result.metrics.accuracy, wall)
    return {"method": method, "accuracy": round(result.metrics.accuracy, 4),
            "f1": round(result.metrics.f1, 4), "wall_s": round(wall, 1),
            "best_test_accuracy": round(best[0], 4), "best_reached_at_s": round(best[1], 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lang", default="en", choices=["en", "zh"])
    p.add_argument("--steps", type=int, default=fc.DEFAULT_STEPS)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    checkpoint, data = load_shipped_model(), builtin_dataset(args.lang)
    print(json.dumps({"data": f"finetune_{args.lang}.csv", "train": len(data.train),
                      "test": len(data.test), "steps": args.steps, "threads": args.threads}))
    rows = {}
    started = time.perf_counter()
    prompt = fc.prompt_result(checkpoint, data)
    rows["prompt"] = {"method": "prompt", "accuracy": round(prompt.metrics.accuracy, 4),
                      "f1": round(prompt.metrics.f1, 4),
                      "wall_s": round(time.perf_counter() - started, 1)}
    print(json.dumps(rows["prompt"]), flush=True)
    for method in fc.TRAINED:
        rows[method] = trained(checkpoint, data, method, args.steps)
        print(json.dumps(rows[method]), flush=True)
    margin = rows["full"]["accuracy"] - rows["scratch"]["accuracy"]
    print(json.dumps({"pretrained_beats_scratch": margin > 0, "accuracy_margin": round(margin, 4)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
