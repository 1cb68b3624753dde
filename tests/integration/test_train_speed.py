"""benchmarks/train_speed.py's arithmetic and plumbing, never its timings (issue 23): the word
share against a hand count, nanoGPT's log lines parsed and interleaved with ours, the ratios
computed from what was measured, the exact 90/10 cut, and the fallback to the built-in text.

nanoGPT is not in the repository and the test machine has no internet, so a stand-in checkout
is written here: a ``prepare.py`` that writes the files nanoGPT's would, and a ``train.py`` that
prints iteration lines in nanoGPT's format with known times."""
from __future__ import annotations

import statistics
import textwrap

import pytest

from benchmarks import train_speed
from lessons.engine.corpus import builtin_text

FAKE_TRAIN = textwrap.dedent("""
    import sys
    iters = int([a for a in sys.argv if a.startswith("--max_iters=")][0].split("=")[1])
    assert "--device=cpu" in sys.argv and "--n_embd=128" in sys.argv
    print("step 0: train loss 4.17, val loss 4.16")
    for i in range(iters + 1):
        # the warm-up's iterations are slow; afterwards 20, 30, 40, 20, 30, 40 ... ms
        ms = 500.0 if i <= 10 else 20.0 + 10 * (i % 3)
        print(f"iter {i}: loss 2.5000, time {ms:.2f}ms, mfu 0.05%")
""")
FAKE_PREPARE = "open('train.bin', 'wb').write(open('input.txt', 'rb').read())\n"


@pytest.fixture
def fake_nanogpt(tmp_path):
    checkout = tmp_path / "nanoGPT"
    (checkout / "config").mkdir(parents=True)
    (checkout / "data" / "shakespeare_char").mkdir(parents=True)
    (checkout / "train.py").write_text(FAKE_TRAIN)
    (checkout / "model.py").write_text("")
    (checkout / "configurator.py").write_text("")
    (checkout / "config" / "train_shakespeare_char.py").write_text("")
    (checkout / "data" / "shakespeare_char" / "prepare.py").write_text(FAKE_PREPARE)
    return checkout


def test_word_share_counts_known_words_of_two_letters_or_more():
    training = "The kiln is hot. A cat sat."
    # words: the, kiln, seclod, cat, numelemesss ('a' and '3' are not words): 3 of 5 known
    assert train_speed.word_share("the kiln, seclod a cat 3 numelemesss", training) == 0.6
    assert train_speed.word_share("KILN Kiln", training) == 1.0
    assert train_speed.word_share("a 1 !", training) == 0.0


def test_nanogpt_is_run_from_a_scratch_copy_and_its_times_parsed(fake_nanogpt, tmp_path):
    work = train_speed.nanogpt_workdir(fake_nanogpt, "some text", tmp_path / "scratch")
    # its own prepare.py ran on the text, in the copy, not in the checkout
    assert (work / "data" / "shakespeare_char" / "train.bin").read_text() == "some text"
    assert not (fake_nanogpt / "data" / "shakespeare_char" / "input.txt").exists()
    times = train_speed.nanogpt_chunk(work, 16)
    # iterations 11..16 after the warm-up: (i % 3) of 11..16 = 2, 0, 1, 2, 0, 1
    assert times == [40.0, 20.0, 30.0, 40.0, 20.0, 30.0]


def test_the_run_interleaves_and_reports_ratios(fake_nanogpt, tmp_path):
    data = tmp_path / "input.txt"
    data.write_text(builtin_text()[:60_000], encoding="utf-8")
    result = train_speed.main(["--data", str(data), "--nanogpt", str(fake_nanogpt),
                               "--preset", "tiny", "--target", "9.0", "--rounds", "2",
                               "--chunk-iters", "6", "--skip-first-minute"])
    # three nanoGPT chunks (before, between, after ours) of 20/30/40 ms: median 30
    assert result["nanogpt_ms_per_iter"] == 30.0
    assert result["nanogpt_wall_s"] == 60.0                      # 2,000 iterations at 30 ms
    assert result["reached_all"]                                  # 9.0 is above chance
    assert result["time_ratio"] == pytest.approx(result["time_to_quality_s"] / 60.0, abs=1e-3)
    assert result["throughput_ratio"] == pytest.approx(30.0 / result["baby_ms_per_step"],
                                                       abs=1e-3)


def test_the_exact_ninety_percent_cut_and_the_fallback(tmp_path, capsys):
    text = "abc\n\n" * 1000
    trainer = train_speed.char_trainer(text, "tiny")
    # nanoGPT's cut: int(0.9 * len) characters to train on, whatever paragraph it falls in
    assert len(trainer.objective.train_data.data) == int(len(text) * 0.9)
    read, name = train_speed.read_data(str(tmp_path / "missing.txt"))
    assert read == builtin_text() and name.startswith("built-in")
    assert "not found" in capsys.readouterr().out


def test_the_summary_medians(capsys):
    runs = [{"seconds": s, "reached": True} for s in (10.0, 14.0, 12.0)]
    result = train_speed.summary([24.0, 26.0, 25.0], [20.0, 30.0], runs, [])
    assert result["time_to_quality_s"] == statistics.median([10.0, 14.0, 12.0])
    assert result["time_ratio"] == round(12.0 / 50.0, 3)
    assert result["throughput_ratio"] == round(25.0 / 25.0, 3)
    assert "speedrun / nanoGPT wall time" in capsys.readouterr().out
