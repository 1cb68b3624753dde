"""A learner's RunBook: a checkpoint round trip through download and upload, and stopping every
run when the session ends."""
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
