"""Command line: train a preset and write a checkpoint.

    python -m lessons.train --preset tiny --max-iters 100 --out runs/tiny
    python -m lessons.train --data my.txt --preset baby --device cpu --out runs/baby
    python -m lessons.train --objective masked --preset tiny --out runs/masked   (BERT-style)
    python -m lessons.train --preset poet --text poems_zh --out runs/poet

Prints one JSON object per logged step (iter, train_loss, val_loss when measured, lr,
grad_norm, tokens_per_s, elapsed_s), then writes DIR/model.safetensors (the checkpoint),
DIR/config.json and DIR/metrics.json (readable copies of what the checkpoint holds).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from lessons.engine.checkpoint import save_checkpoint
from lessons.engine.config import PRESETS, ConfigError, config_to_dict, preset, preset_text
from lessons.engine.corpus import BUILTIN_TEXTS, CorpusError, builtin_text, check_training_text, read_text_file
from lessons.engine.devices import DeviceError
from lessons.engine.training import RunStatus, Trainer


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m lessons.train", description=__doc__.split("\n")[0])
    p.add_argument("--data", help="a UTF-8 text file (default: the preset's built-in text)")
    p.add_argument("--text", choices=sorted(BUILTIN_TEXTS),
                   help="a built-in text (default: the preset's, e.g. poems_zh for poet)")
    p.add_argument("--preset", default="tiny", choices=sorted(PRESETS))
    p.add_argument("--max-iters", type=int)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--out", default="runs/latest", help="output folder")
    p.add_argument("--seed", type=int)
    p.add_argument("--tokenizer", choices=["char", "bpe"])
    p.add_argument("--bpe-vocab-size", type=int)
    p.add_argument("--learning-rate", type=float)
    p.add_argument("--objective", default="next", choices=["next", "masked"],
                   help="next: predict the next token (GPT); masked: recover hidden tokens "
                        "from both sides (BERT; val_loss is the masked positions' cross-entropy)")
    p.add_argument("--sample-tokens", type=int, default=300,
                   help="length of the sample printed at the end (0: none)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    overrides = {k: v for k, v in {
        "max_iters": args.max_iters, "seed": args.seed, "tokenizer": args.tokenizer,
        "bpe_vocab_size": args.bpe_vocab_size, "learning_rate": args.learning_rate,
    }.items() if v is not None}
    try:
        model_config, train_config = preset(args.preset, **overrides)
        text = (read_text_file(args.data) if args.data else
                check_training_text(builtin_text(args.text or preset_text(args.preset))))
        trainer = Trainer.for_objective(args.objective, model_config, train_config, text,
                                        device=args.device)
    except (ConfigError, CorpusError, DeviceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def log(row):
        out = {"iter": row["step"], "train_loss": round(row["train_loss"], 4)}
        if row["val_loss"] is not None:
            out["val_loss"] = round(row["val_loss"], 4)
        if row.get("val_accuracy") is not None:
            out["val_accuracy"] = round(row["val_accuracy"], 4)
        out.update(lr=float(f"{row['lr']:.3g}"), grad_norm=round(row["grad_norm"], 4),
                   tokens_per_s=round(row["tokens_per_s"]), elapsed_s=round(row["elapsed_s"], 3))
        print(json.dumps(out), flush=True)

    print(json.dumps({"event": "start", "preset": args.preset, "device": trainer.device,
                      "parameters": trainer.model.num_parameters(),
                      "vocab_size": trainer.model_config.vocab_size}), flush=True)
    status = trainer.train(callback=log)
    os.makedirs(args.out, exist_ok=True)
    save_checkpoint(os.path.join(args.out, "model.safetensors"), trainer.model, trainer.tokenizer,
                    train_config=train_config, metrics=trainer.metrics, snapshots=trainer.snapshots,
                    head=trainer.head)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump({"preset": args.preset, "model": config_to_dict(trainer.model_config),
                   "train": config_to_dict(train_config), "device": trainer.device}, f, indent=2)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(trainer.metrics, f)
    end = {"event": "end", "status": status.value, "message": trainer.message,
           "checkpoint": os.path.join(args.out, "model.safetensors")}
    if args.sample_tokens and status is RunStatus.FINISHED:
        end["sample"] = trainer.sample("", args.sample_tokens)
    print(json.dumps(end, ensure_ascii=False), flush=True)
    return 0 if status is RunStatus.FINISHED else 1


if __name__ == "__main__":
    sys.exit(main())
