"""The command line (python -m lessons.train) in a subprocess: a tiny run with falling losses
and its files, and bad data or settings said without a traceback."""
import json
import subprocess
import sys

import pytest
import torch

from tests.helpers import ROOT


def test_cli_trains_tiny_and_prints_falling_losses(tmp_path, tiny_text):
    data = tmp_path / "data.txt"
    data.write_text(tiny_text, encoding="utf-8")
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "lessons.train", "--data", str(data), "--preset", "tiny",
         "--max-iters", "80", "--device", "cpu", "--out", str(out)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    steps = [r for r in rows if "iter" in r]
    assert {"iter", "train_loss", "lr", "tokens_per_s", "elapsed_s"} <= set(steps[0])
    assert any("val_loss" in r for r in steps)
    assert steps[-1]["train_loss"] < 0.6 * steps[0]["train_loss"]
    assert (out / "model.safetensors").exists() and (out / "config.json").exists()
    assert rows[-1]["status"] == "finished"


def test_cli_trains_a_masked_model_with_accuracy_and_a_filled_in_sample(tmp_path, tiny_text):
    data = tmp_path / "data.txt"
    data.write_text(tiny_text, encoding="utf-8")
    out = tmp_path / "masked"
    result = subprocess.run(
        [sys.executable, "-m", "lessons.train", "--objective", "masked", "--data", str(data),
         "--preset", "tiny", "--max-iters", "40", "--device", "cpu", "--out", str(out),
         "--sample-tokens", "20"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    measured = [r for r in rows if "val_loss" in r]
    assert measured and all(0.0 <= r["val_accuracy"] <= 1.0 for r in measured)
    assert json.loads((out / "config.json").read_text())["model"]["causal"] is False
    end = rows[-1]
    assert end["status"] == "finished" and "[MASK]" not in end["sample"] and end["sample"]
    from lessons.engine.checkpoint import load_checkpoint
    checkpoint = load_checkpoint((out / "model.safetensors").read_bytes())
    assert checkpoint.model.config.causal is False


def test_cli_reports_bad_data_without_traceback(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00\x00" * 100)
    result = subprocess.run([sys.executable, "-m", "lessons.train", "--data", str(bad)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--learning-rate", "-1"], "learning rate must be positive"),
    (["--device", "cuda"] if not torch.cuda.is_available() else ["--device", "nonsense"],
     "not available here" if not torch.cuda.is_available() else "invalid choice"),
    (["--data", "/no/such/file.txt"], "cannot read"),
])
def test_the_command_line_says_what_is_wrong_without_a_traceback(tmp_path, args, message):
    done = subprocess.run([sys.executable, "-m", "lessons.train", "--preset", "tiny",
                           "--out", str(tmp_path / "out"), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert message in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
