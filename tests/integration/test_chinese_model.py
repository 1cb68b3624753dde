"""benchmarks/chinese_model.py, asserted loosely (issue 18): the shipped poems model predicts
held-out poems better than a uniform guess and writes lines of 5 or 7 characters far more often
than the same characters shuffled; the poet preset's training path runs end to end. The
references are independent of the model: ln(vocabulary) is the loss of a uniform guess, and
the shuffled sample is chance with the model's own characters and marks."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from lessons import poetry
from lessons.engine.checkpoint import load_shipped_model
from tests.conftest import ROOT

BENCHMARK = ROOT / "benchmarks" / "chinese_model.py"


def _run(*args) -> dict:
    out = subprocess.run([sys.executable, str(BENCHMARK), *args], capture_output=True, text=True,
                         timeout=600, cwd=ROOT, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_the_line_measure_on_hand_counted_verse():
    # 静夜思: four lines of five; the second couplet hand-broken into 4 + 6
    assert poetry.verse_line_lengths("床前明月光，疑是地上霜。\n举头望明，月低头思故乡。") == [5, 5, 4, 6]
    assert poetry.five_or_seven_share("床前明月光，疑是地上霜。\n举头望明，月低头思故乡。") == 0.5


def test_the_shipped_poems_model_writes_verse():
    result = _run("--tokens", "900")
    vocab = load_shipped_model("poems").tokenizer.vocab_size
    # under a uniform guess (it learns the poems by heart, so not far under: README)
    assert result["val_loss"] < math.log(vocab) - 0.5
    assert result["lines"] >= 60
    # README: 49 % against 15 % shuffled over 3,000 characters; 900 are noisier
    assert result["five_or_seven"] > result["shuffled_five_or_seven"] + 0.15
    assert result["five_or_seven"] > 0.35


@pytest.mark.slow
def test_the_poet_preset_trains_and_is_measured():
    result = _run("--train", "poet", "--max-iters", "40", "--tokens", "300")
    assert result["preset"] == "poet" and result["train_seconds"] > 0
    assert 0.0 <= result["five_or_seven"] <= 1.0 and result["lines"] > 0
