"""Command line: fine-tune a checkpoint for classification and measure it.

    python -m lessons.finetune --checkpoint lessons/assets/classroom.safetensors \\
        --data lessons/data/finetune_en.csv --method full --out runs/ft

The CSV has ``text`` and ``label`` columns and optionally ``split`` (train, validation, test);
without it the last 20 % of the rows are the test set. ``--method``: prompt (no training: the
label as the next tokens), probe (frozen body, new head), full (everything learns), scratch
(the same architecture from random weights).

Prints one JSON object per logged step, then a final one with ``accuracy``, ``precision``,
``recall``, ``f1`` (macro), ``confusion`` (rows = true labels) and ``labels``; writes
DIR/predictions.csv (text,label,predicted for the test split) and DIR/model.safetensors.
Bad input gets one line on stderr and exit code 2 (``--lang zh`` for the message in Chinese).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys

from lessons.concepts.finetuning.compute import DEFAULT_STEPS, METHODS, run_method
from lessons.concepts.finetuning.data import read_labelled_csv
from lessons.engine.checkpoint import load_checkpoint, save_checkpoint
from lessons.errors import LessonError
from lessons.i18n import LANGUAGES


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m lessons.finetune", description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", required=True, help="a .safetensors checkpoint of this project")
    p.add_argument("--data", required=True, help="a UTF-8 CSV with text,label[,split] columns")
    p.add_argument("--method", required=True, choices=METHODS)
    p.add_argument("--out", default="runs/finetune", help="output folder")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    p.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--lang", default="en", choices=sorted(LANGUAGES), help="language of messages")
    return p.parse_args(argv)


def log_step(row: dict) -> None:
    out = {"step": row["step"], "train_loss": round(row["train_loss"], 4)}
    for name in ("val_loss", "val_accuracy"):
        if row.get(name) is not None:
            out[name] = round(row[name], 4)
    out.update(lr=float(f"{row['lr']:.3g}"), elapsed_s=round(row["elapsed_s"], 3))
    print(json.dumps(out), flush=True)


def write_predictions(path: str, result) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label", "predicted"])
        for (text, truth), predicted in zip(result.test, result.predictions):
            writer.writerow([text, result.labels[truth], result.labels[predicted]])


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        checkpoint = load_checkpoint(args.checkpoint)
        data = read_labelled_csv(args.data)
        if args.steps < 1:
            raise ValueError("--steps must be at least 1")
    except LessonError as exc:
        print(f"error: {exc.in_language(args.lang)}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = run_method(checkpoint, data, args.method, args.steps, callback=log_step,
                        device=args.device)
    os.makedirs(args.out, exist_ok=True)
    write_predictions(os.path.join(args.out, "predictions.csv"), result)
    save_checkpoint(os.path.join(args.out, "model.safetensors"), result.model.cpu(),
                    checkpoint.tokenizer, train_config=checkpoint.train_config,
                    metrics=result.curves, head=result.head.cpu() if result.head else None)
    print(json.dumps(result.summary(), ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
