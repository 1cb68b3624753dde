"""A learner's RunBook: a checkpoint round trip through download and upload, and stopping every
run when the session ends."""
import pytest

from lessons.concepts.training.compute import metrics_csv
from lessons.engine.checkpoint import load_checkpoint
from lessons.engine.config import preset
from lessons.hosting.runs import RunBook
from tests.helpers import wait_for


def test_checkpoint_download_upload_round_trip(tiny_text):
    book = RunBook()
    model_cfg, train_cfg = preset("tiny", max_iters=20)
    run = book.start(model_cfg, train_cfg, tiny_text, "tiny text", device="cpu")
    run.background.join(60)
    data = book.checkpoint_file(run.id)
    loaded = load_checkpoint(data)
    assert loaded.metrics == run.metrics
    assert loaded.tokenizer.encode("the cat") == run.trainer.tokenizer.encode("the cat")
    again = book.add_uploaded(loaded, "upload.safetensors")
    assert again.status == "uploaded" and book.checkpoint(again.id) is loaded
    csv_text = metrics_csv(run.metrics)
    assert csv_text.splitlines()[0].startswith("step,train_loss,val_loss")
    assert len(csv_text.splitlines()) == len(run.metrics) + 1


def test_session_end_stops_training(tiny_text):
    book = RunBook()
    model_cfg, train_cfg = preset("tiny", max_iters=100000)
    run = book.start(model_cfg, train_cfg, tiny_text, "tiny text", device="cpu")
    wait_for(lambda: run.step >= 3, 60, "3 steps of the run")
    book.stop_all()        # what the session's on_release does
    assert not run.background.running and run.status == "stopped"


def test_time_left_is_the_runs_own_pace_once_it_has_been_through_an_evaluation(tiny_text):
    """No figure before the first evaluation (it would read "0 s left" and then jump), the
    pace so far once there is one, and none once the run is not running."""
    book = RunBook()
    model_cfg, train_cfg = preset("tiny", max_iters=100_000, eval_interval=30, log_interval=1)
    run = book.start(model_cfg, train_cfg, tiny_text, "tiny text", device="cpu")
    try:
        wait_for(lambda: 3 <= run.step < 30 and run.metrics, 60, "a few logged steps")
        assert run.eta_seconds() is None                      # no evaluation seen yet
        wait_for(lambda: any(m["val_loss"] is not None for m in run.metrics), 60,
                 "the first evaluation")
        trainer = run.trainer
        step, elapsed, eta = trainer.step, trainer.elapsed_s, run.eta_seconds()
        # read while training goes on: the pace from the same moment's step and elapsed time
        assert eta is not None and eta > 0
        assert eta == pytest.approx(elapsed / step * (100_000 - step), rel=0.2)
    finally:
        book.stop_all()
    assert run.status == "stopped" and run.eta_seconds() is None
