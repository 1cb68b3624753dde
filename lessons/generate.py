"""Command line: generate text from a checkpoint with one decoding strategy.

    python -m lessons.generate --prompt "The statement" --strategy greedy --max-new-tokens 40
    python -m lessons.generate --checkpoint runs/tiny/model.safetensors --prompt "the cat" \\
        --strategy top-p --top-p 0.9 --temperature 0.8 --seed 7 --max-new-tokens 60

Prints the prompt with its continuation, then one JSON line: ``text`` (the continuation),
``token_ids`` (its tokens) and ``logprob`` (the sum of their log-probabilities under the model,
with no decoding rule applied). The same seed gives the same text.
"""
from __future__ import annotations

import argparse
import json
import sys

from lessons.concepts.decoding.compute import STRATEGIES, Strategy, run_strategy, token_log_probs
from lessons.engine.checkpoint import CheckpointError, load_checkpoint, load_shipped_model


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m lessons.generate", description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", help="a .safetensors checkpoint (default: the shipped model)")
    p.add_argument("--prompt", default="", help="the text to continue (empty: start from token 0)")
    p.add_argument("--strategy", default="greedy", choices=STRATEGIES)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--top-p", type=float, default=0.9)
    p.add_argument("--beams", type=int, default=3)
    p.add_argument("--length-penalty", type=float, default=1.0)
    p.add_argument("--repetition-penalty", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-new-tokens", type=int, default=40)
    return p.parse_args(argv)


def check(args) -> str | None:
    """What is wrong with the settings, or None."""
    if args.temperature <= 0:
        return "--temperature must be positive (use --strategy greedy for temperature 0)"
    if args.top_k < 1 or args.beams < 1 or args.max_new_tokens < 1:
        return "--top-k, --beams and --max-new-tokens must be at least 1"
    if not 0 < args.top_p <= 1:
        return "--top-p must be in (0, 1]"
    if args.repetition_penalty <= 0:
        return "--repetition-penalty must be positive"
    return None


def main(argv=None) -> int:
    args = parse_args(argv)
    problem = check(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        checkpoint = load_checkpoint(args.checkpoint) if args.checkpoint else load_shipped_model()
    except (CheckpointError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    strategy = Strategy(args.strategy, args.temperature, args.top_k, args.top_p,
                        args.repetition_penalty, args.beams, args.length_penalty, args.seed)
    tokenizer = checkpoint.tokenizer
    prompt = tokenizer.encode(args.prompt) or [0]
    new = run_strategy(checkpoint.model, prompt, strategy, args.max_new_tokens)
    text = tokenizer.decode(new)
    print(args.prompt + text)
    print(json.dumps({"text": text, "token_ids": new,
                      "logprob": float(token_log_probs(checkpoint.model, prompt, new).sum())},
                     ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
