"""python -m lessons.finetune in a subprocess: the issue's contract (JSON lines, a final JSON
object with the metrics, predictions.csv for the test split, model.safetensors) and bad CSVs
said in one line, in English or Chinese, without a traceback."""
import csv
import json
import subprocess
import sys

import pytest

from lessons.engine.checkpoint import load_checkpoint, shipped_model_path
from tests.helpers import ROOT


def run_cli(*args, timeout=240):
    return subprocess.run([sys.executable, "-m", "lessons.finetune", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def small_csv(path, rows=60):
    """The first rows of the built-in English set, without its split column: the last 20 %
    are then the test set."""
    with open(ROOT / "lessons" / "data" / "finetune_en.csv", encoding="utf-8") as f:
        examples = list(csv.DictReader(f))[:rows]
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows([e["text"], e["label"]] for e in examples)
    return examples


@pytest.mark.parametrize("method", ["probe", "prompt"])
def test_the_command_line_contract(tmp_path, method):
    examples = small_csv(tmp_path / "data.csv")
    out = tmp_path / "out"
    done = run_cli("--checkpoint", shipped_model_path(), "--data", str(tmp_path / "data.csv"),
                   "--method", method, "--steps", "6", "--out", str(out))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    final = lines[-1]
    assert {"accuracy", "precision", "recall", "f1", "confusion", "labels"} <= set(final)
    assert final["labels"] == ["real", "shuffled"]
    assert sum(map(sum, final["confusion"])) == 12                 # the last 20 % of 60 rows
    if method == "probe":
        assert lines[:-1] and all("step" in row and "train_loss" in row for row in lines[:-1])
    with open(out / "predictions.csv", encoding="utf-8") as f:
        predictions = list(csv.DictReader(f))
    assert [p["text"] for p in predictions] == [e["text"] for e in examples[48:]]
    assert [p["label"] for p in predictions] == [e["label"] for e in examples[48:]]
    right = sum(p["label"] == p["predicted"] for p in predictions)
    assert right / len(predictions) == pytest.approx(final["accuracy"])
    saved = load_checkpoint(str(out / "model.safetensors"))
    assert (saved.head is not None) == (method == "probe")


@pytest.mark.parametrize("content, en, zh", [
    (b"text,category\na,b\n", 'no "label" column', "没有“label”列"),
    (b"text,label\na,x\nb,x\nc,x\n", "same label", "标签都一样"),
    (b"", "empty", "空"),
    (b"text,label\ncaf\xe9,x\n", "not UTF-8", "UTF-8"),
])
def test_bad_csvs_are_said_in_one_line_in_either_language(tmp_path, content, en, zh):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    for lang, expected in (("en", en), ("zh", zh)):
        done = run_cli("--checkpoint", shipped_model_path(), "--data", str(path), "--method",
                       "probe", "--lang", lang, "--out", str(tmp_path / "out"), timeout=60)
        assert done.returncode == 2
        assert done.stderr.startswith("error:") and expected in done.stderr
        assert "Traceback" not in done.stderr
