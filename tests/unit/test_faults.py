"""Bad input and faults: every case ends in a clear message in the learner's language, never a
traceback, and nothing the learner made is lost.

The cases and where each is tested (u = tests/unit, a = tests/app, b = tests/browser,
i = tests/integration):
- empty and huge text ............ a/test_faults.py: test_empty_text_*, test_huge_text_*,
                                   test_hosted_text_*, for every text box in the registry
                                   (+ a/test_tokenization_page.test_page_bad_input_*)
- binary, non-UTF-8, zero-byte and over-cap uploads
                                   b/test_faults.test_bad_text_uploads_in_the_browser
                                   (+ u/engine/test_training.test_bad_uploads_get_clear_messages)
- pickle, truncated and wrong-shaped checkpoints
                                   b/test_faults.test_bad_checkpoints_in_the_browser
                                   (+ u/engine/test_checkpoint)
- impossible hyper-parameters ..... test_impossible_settings_* here and in a/test_faults.py;
                                   the command line: i/test_cli.py
- NaN loss ........................ test_nan_loss_* here
                                   (+ a/test_training_page.test_divergence_*)
- a GPU asked for where there is none   test_gpu_asked_for_* here, a/test_faults.test_gpu_*
- the session closed mid-training . b/test_faults.test_closing_a_tab_frees_its_training_slot
                                   (+ u/hosting/test_runs.test_session_end_stops_training)
- two tabs of one learner training  b/test_faults.test_two_tabs_of_one_learner_train_at_once
- a session left idle ............. test_idle_runs_* here, a/test_faults.test_a_hosted_session_*
- hostile visitors (issue #22) .... tests/hostile/: crafted checkpoints (sizes, types, snapshots,
                                   NaN, metrics), any exception on a page, unknown presets,
                                   huge logits, runs and uploads one tab piles up, a text
                                   without spaces, clear_cache over the websocket (slow)
- a full class (issue #21) ........ a/test_class_full.py (en + zh), hostile/test_behind_proxy
                                   (seats per replica; 429 and no replica: the bilingual page)
- a replica killed, nginx restarted hostile/test_behind_proxy.test_a_killed_replica_* (slow;
                                   the killed replica's learner finds their run on the other),
                                   b/test_csp_behind_proxy.test_a_learners_run_survives_*
- a full disk under the work store  u/hosting/test_store.test_a_full_disk_*,
                                   u/hosting/test_store.test_a_real_full_disk_on_a_tiny_tmpfs,
                                   a/test_classroom.test_a_full_disk_* (en + zh)
"""
from __future__ import annotations

import pytest
import torch

from lessons.engine.config import ConfigError, ModelConfig, TrainConfig, preset
from lessons.engine.devices import DeviceError, pick_device
from lessons.errors import LessonError
from lessons.hosting.runs import RunBook
from tests.helpers import wait_for


# ---- settings -------------------------------------------------------------------------------

@pytest.mark.parametrize("make, english, chinese", [
    (lambda: ModelConfig(n_embd=96, n_head=5), "multiple of the number of heads", "整数倍"),
    (lambda: ModelConfig(block_size=0), "block size must be at least 1", "块大小"),
    (lambda: TrainConfig(learning_rate=-0.1), "learning rate must be positive", "学习率"),
    (lambda: TrainConfig(learning_rate=float("nan")), "learning rate must be positive", "学习率"),
    (lambda: TrainConfig(batch_size=0), "batch size", "批大小"),
    (lambda: ModelConfig(dropout=1.5), "dropout", "dropout"),
])
def test_impossible_settings_are_refused_in_both_languages(make, english, chinese):
    with pytest.raises(ConfigError) as caught:
        make()
    assert english in str(caught.value)
    assert chinese in caught.value.in_language("zh")


# ---- NaN ------------------------------------------------------------------------------------

def test_nan_loss_stops_the_run_explains_it_and_keeps_the_earlier_run(tiny_text):
    book = RunBook()
    model_cfg, train_cfg = preset("tiny", max_iters=20)
    good = book.start(model_cfg, train_cfg, tiny_text, "tiny")
    good.background.join(60)
    kept = [dict(row) for row in good.metrics]
    bad_cfg = TrainConfig(**{**train_cfg.__dict__, "learning_rate": 1e6, "warmup_iters": 0,
                             "grad_clip": 0.0, "max_iters": 200})
    bad = book.start(model_cfg, bad_cfg, tiny_text, "tiny")
    bad.background.join(60)
    assert bad.status == "diverged" and bad.step < 200
    assert "learning rate" in bad.message_in("en").lower()
    assert "学习率" in bad.message_in("zh")
    assert good.status == "finished" and good.metrics == kept


# ---- devices --------------------------------------------------------------------------------

@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_gpu_asked_for_where_there_is_none():
    with pytest.raises(DeviceError) as caught:
        pick_device("cuda")
    assert "cuda was asked for but is not available here (available: cpu" in str(caught.value)
    assert "没有" in caught.value.in_language("zh")


def test_lesson_errors_are_value_errors_with_english_text():
    err = LessonError("file_too_big", size_mb=3.0, limit_mb=2.0)
    assert isinstance(err, ValueError)
    assert str(err) == "the file is 3.00 MB; the limit is 2.00 MB"
    assert "上限是 2.00 MB" in err.in_language("zh")


# ---- sessions -------------------------------------------------------------------------------

def test_idle_runs_are_stopped_and_can_be_resumed(tiny_text):
    book = RunBook()
    model_cfg, train_cfg = preset("tiny", max_iters=100_000)
    run = book.start(model_cfg, train_cfg, tiny_text, "tiny")
    book.touch(now=1000.0)
    assert book.stop_if_idle(idle_s=60, now=1059.0) == []        # not idle yet
    assert run.background.running
    assert book.stop_if_idle(idle_s=60, now=1061.0) == [run]
    assert run.status == "stopped" and run.stopped_while_idle
    step = run.step
    book.resume(run.id)
    assert not run.stopped_while_idle
    wait_for(lambda: run.step > step, 60, "a step of the resumed run")
    book.stop_all()
    assert run.step > step
