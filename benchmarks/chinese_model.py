"""Does the Chinese model write verse? Prints (never asserts) a model's validation loss on the
poems' held-out tenth (whole poems: lessons.engine.corpus.split_text) beside the unigram
baseline (the training part's character frequencies, in the model's own tokens: what a model
that only counts characters would score), and the share of its sampled lines with exactly 5 or
7 characters, beside the same sample with its characters shuffled (row breaks kept): the share
chance gives with the same characters and punctuation marks.

    python benchmarks/chinese_model.py                        # the shipped poems model
    python benchmarks/chinese_model.py --checkpoint runs/poems/model.safetensors
    python benchmarks/chinese_model.py --train poet           # train the poet preset, then measure

Validation loss here is one pass over every held-out character (block-size windows), not the
trainer's mean over random batches, so the two differ a little. The sample starts at a line
break and is drawn at temperature 0.8; lines are the clauses between ，。？！； (lessons.poetry).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lessons import poetry  # noqa: E402
from lessons.engine.checkpoint import load_checkpoint, load_shipped_model  # noqa: E402
from lessons.engine.config import preset  # noqa: E402
from lessons.engine.corpus import builtin_text, split_text  # noqa: E402
from lessons.engine.training import Trainer  # noqa: E402


def trained(preset_name: str, max_iters: int | None, seed: int):
    """(model, tokenizer, seconds) of a preset trained on the poems from scratch."""
    overrides = {"seed": seed} | ({"max_iters": max_iters} if max_iters else {})
    model_config, train_config = preset(preset_name, **overrides)
    trainer = Trainer(model_config, train_config, builtin_text("poems_zh"), device="cpu")
    start = time.perf_counter()
    trainer.train()
    return trainer.model, trainer.tokenizer, time.perf_counter() - start


def measure(model, tokenizer, tokens: int = 3000, seeds: tuple[int, ...] = (0, 1, 2)) -> dict:
    """Validation loss, and the 5/7 share over samples from several seeds (pooled lines)."""
    train_text, validation = split_text(builtin_text("poems_zh"))
    samples = [poetry.sample_text(model, tokenizer, tokens // len(seeds), seed=s) for s in seeds]
    pooled = "\n".join(samples)
    shuffled = "\n".join(poetry.shuffled(text, seed) for seed, text in enumerate(samples))
    return {"val_loss": round(poetry.validation_loss(model, tokenizer, validation), 3),
            "unigram_val_loss": round(poetry.unigram_loss(tokenizer, train_text, validation), 3),
            "vocab_size": tokenizer.vocab_size,
            "five_or_seven": round(poetry.five_or_seven_share(pooled), 3),
            "shuffled_five_or_seven": round(poetry.five_or_seven_share(shuffled), 3),
            "lines": len(poetry.verse_line_lengths(pooled)),
            "corpus_five_or_seven": round(poetry.five_or_seven_share(builtin_text("poems_zh")), 3),
            "sample": samples[0][:200]}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", help="a .safetensors file (default: the shipped poems model)")
    p.add_argument("--train", help="train this preset on the poems first (e.g. poet)")
    p.add_argument("--max-iters", type=int, help="with --train: fewer steps than the preset's")
    p.add_argument("--tokens", type=int, default=3000, help="characters to sample in all")
    p.add_argument("--seed", type=int, default=1337)
    args = p.parse_args(argv)
    result = {}
    if args.train:
        model, tokenizer, seconds = trained(args.train, args.max_iters, args.seed)
        result.update(preset=args.train, train_seconds=round(seconds, 1))
    else:
        checkpoint = (load_checkpoint(args.checkpoint) if args.checkpoint
                      else load_shipped_model("poems"))
        model, tokenizer = checkpoint.model, checkpoint.tokenizer
        result.update(checkpoint=args.checkpoint or "shipped poems")
    result.update(measure(model, tokenizer, args.tokens))
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
