"""The work store: a learner's runs, model and settings survive as files; another id (or a
crafted one) reaches nothing; the caps and the expiry hold; one zip takes everything out and
puts it back, and a bad zip is refused with a translated reason."""
import io
import json
import os
import time
import zipfile
from dataclasses import replace

import pytest
import torch

from lessons.concepts.training.compute import metrics_csv
from lessons.engine.checkpoint import load_checkpoint
from lessons.engine.config import preset
from lessons.hosting.limits import HOSTED, LOCAL
from lessons.hosting.runs import RunBook
from lessons.hosting.store import (SavedRun, StoreError, WorkStore, checkpoint_file, new_learner_id,
                                   new_run_key, read_work_zip)
from tests.helpers import wait_for


@pytest.fixture
def ckpt(tiny_checkpoint_bytes):
    return load_checkpoint(tiny_checkpoint_bytes)


def same_weights(a, b) -> bool:
    sa, sb = a.model.state_dict(), b.model.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_a_learners_work_comes_back_and_nobody_elses_id_reaches_it(tmp_path, ckpt):
    store = WorkStore(tmp_path, LOCAL)
    me, other = new_learner_id(), new_learner_id()
    assert len(me) == 22 and me != other          # 16 random bytes, URL-safe
    run = SavedRun(new_run_key(), "run 1", "tiny text", ckpt, [(10, "the cat")])
    store.save_run(me, run)
    store.save_active(me, ckpt)
    store.save_settings(me, {"lang": "zh", "quiz_progress": {"softmax": [1, 0]}})

    back = store.load_runs(me)
    assert [(r.key, r.name, r.corpus_name, r.samples) for r in back] == \
        [(run.key, "run 1", "tiny text", [(10, "the cat")])]
    assert same_weights(back[0].checkpoint, ckpt) and back[0].checkpoint.metrics == ckpt.metrics
    assert same_weights(store.load_active(me), ckpt)
    assert store.load_settings(me)["quiz_progress"] == {"softmax": [1, 0]}
    # another learner sees nothing; the folder's name is not the id (a listing gives no address)
    assert store.load_runs(other) == [] and store.load_active(other) is None
    assert store.load_settings(other) == {}
    assert me not in str(store.folder(me)) and store.folder(me).parent == tmp_path
    for crafted in ("../" + me[3:], me + "/..", "", me[:-1] + "%", None, "a" * 200, me[:21]):
        with pytest.raises(StoreError):
            store.folder(crafted)
    assert not list(tmp_path.rglob(".tmp-*"))        # every write was renamed into place


def test_hosted_caps_make_room_refuse_and_expire(tmp_path, ckpt):
    one_run = len(checkpoint_file(ckpt))
    limits = replace(HOSTED, store_bytes_per_learner=int(one_run * 2.5), store_expiry_days=7)
    store, me = WorkStore(tmp_path / "store", limits), new_learner_id()
    keys = [new_run_key() for _ in range(3)]
    for n, key in enumerate(keys):
        store.save_run(me, SavedRun(key, f"run {n}", "t", ckpt))
        time.sleep(0.01)                              # mtimes order the runs
    assert store.run_keys(me) == keys[1:]             # the oldest made room
    with pytest.raises(StoreError) as full:
        WorkStore(tmp_path / "small", replace(limits, store_bytes_per_learner=one_run // 2)) \
            .save_run(me, SavedRun(new_run_key(), "big", "t", ckpt))
    assert "MB" in str(full.value) and full.value.in_language("zh") != str(full.value)
    seen_long_ago, seen_now = new_learner_id(), new_learner_id()
    for learner in (seen_long_ago, seen_now):
        store.save_settings(learner, {"lang": "en"})
        store.mark_seen(learner)
    eight_days_ago = time.time() - 8 * 86400
    os.utime(store.folder(seen_long_ago) / "seen", (eight_days_ago, eight_days_ago))
    assert store.sweep_expired() == 1
    assert not store.folder(seen_long_ago).exists() and store.folder(seen_now).exists()
    assert WorkStore(tmp_path / "store", LOCAL).sweep_expired() == 0     # locally: kept


def test_zip_out_and_back_in_and_bad_zips_refused(tmp_path, ckpt):
    store, me, fresh = WorkStore(tmp_path, LOCAL), new_learner_id(), new_learner_id()
    key = new_run_key()
    store.save_run(me, SavedRun(key, "run 1", "tiny text", ckpt, [(5, "a cat")]))
    store.save_settings(me, {"lang": "zh"})
    data = store.export_zip(me)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        assert {f"runs/{key}/checkpoint.safetensors", f"runs/{key}/metrics.csv",
                "settings.json"} <= names
        assert zf.read(f"runs/{key}/metrics.csv").decode() == metrics_csv(ckpt.metrics)
        assert json.loads(zf.read("settings.json")) == {"lang": "zh"}
    assert store.import_zip(fresh, data) == 1
    back = store.load_runs(fresh)[0]
    assert back.samples == [(5, "a cat")] and same_weights(back.checkpoint, ckpt)
    assert store.load_settings(fresh)["lang"] == "zh"

    def zipped(files: dict) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, content in files.items():
                zf.writestr(name, content)
        return out.getvalue()

    bad = {"not a zip": b"PK\x03\x04 nothing",
           "a path outside": zipped({"../../etc/passwd": b"x"}),
           "a foreign file": zipped({"settings.json": b"{}", "run.py": b"import os"}),
           "a run without its description": zipped({f"runs/{key}/checkpoint.safetensors": b"x"}),
           "a damaged checkpoint": zipped({f"runs/{key}/checkpoint.safetensors": b"\0" * 64,
                                           f"runs/{key}/run.json": b'{"name": "x"}'}),
           "a zip bomb": zipped({"settings.json": b" " * 20_000_000})}
    for what, content in bad.items():
        with pytest.raises(StoreError) as refused:
            read_work_zip(content, replace(LOCAL, max_checkpoint_bytes=1_000_000))
        en, zh = str(refused.value), refused.value.in_language("zh")
        assert en and zh and en != zh, what
    assert store.load_runs(new_learner_id()) == []


def test_a_run_is_saved_by_its_own_thread_when_it_stops(tmp_path, tiny_text):
    """Also a run still training when its tab closes: the session's end stops it, and the
    stop saves what it has."""
    store, me = WorkStore(tmp_path, LOCAL), new_learner_id()
    book = RunBook()
    book.on_run_ended = lambda run: store.save_run(me, book.saved_run(run.id))
    model_cfg, train_cfg = preset("tiny", max_iters=100000)
    run = book.start(model_cfg, train_cfg, tiny_text, "tiny text", device="cpu")
    wait_for(lambda: run.step >= 3, 60, "3 steps of the run")
    book.stop_all()                          # what the session's end does
    saved = store.load_runs(me)
    assert [r.key for r in saved] == [run.store_key]
    assert saved[0].checkpoint.metrics == run.metrics and run.step >= 3
    again = RunBook().add_saved(saved[0])
    assert again.restored and again.store_key == run.store_key and again.metrics == run.metrics
