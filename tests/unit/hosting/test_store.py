"""The work store: a learner's runs, model and settings survive as files; another id (or a
crafted one) reaches nothing; the caps and the expiry hold; one zip takes everything out and
puts it back, and a bad zip is refused with a translated reason; a full disk refuses a save
with a translated message and changes nothing already saved (also on a real, tiny tmpfs)."""
import errno
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from lessons.concepts.training.compute import metrics_csv
from lessons.engine.checkpoint import load_checkpoint
from lessons.engine.config import preset
from lessons.hosting.limits import HOSTED, LOCAL
from lessons.hosting.runs import RunBook
from lessons.hosting import store as store_module
from lessons.hosting.store import (SavedRun, StoreError, WorkStore, checkpoint_file, new_learner_id,
                                   new_run_key, read_work_zip)
from tests.helpers import ROOT, FullDisk, files_under, wait_for


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


# ---- a full disk ------------------------------------------------------------------------------

def test_a_full_disk_refuses_every_save_clearly_and_changes_nothing_saved(tmp_path, ckpt,
                                                                          monkeypatch):
    """ENOSPC while writing, while renaming into place, or while making a new run's folder:
    every save (a new run, a run again, the model in use, settings, a zip put back) ends in
    StoreError("store_disk_full"), every file saved before is byte for byte as it was, and no
    temporary file or empty run folder is left. With a per-learner cap that makes room by
    forgetting old runs, a refused run costs none of them."""
    one_run = len(checkpoint_file(ckpt))
    limits = replace(HOSTED, store_bytes_per_learner=int(one_run * 2.5), store_total_bytes=None)
    store, me = WorkStore(tmp_path / "store", limits), new_learner_id()
    old_keys = [new_run_key(), new_run_key()]
    for key in old_keys:
        store.save_run(me, SavedRun(key, "old", "t", ckpt, [(1, "a")]))
    store.save_active(me, ckpt)
    store.save_settings(me, {"lang": "zh"})
    other = new_learner_id()
    store.save_run(other, SavedRun(new_run_key(), "zipped", "t", ckpt))
    a_zip = store.export_zip(other)
    before = files_under(tmp_path / "store")

    saves = {"a new run": lambda: store.save_run(me, SavedRun(new_run_key(), "new", "t", ckpt)),
             "a run again": lambda: store.save_run(me, SavedRun(old_keys[1], "old", "t", ckpt,
                                                                [(1, "a"), (2, "b")])),
             "the model in use": lambda: store.save_active(me, ckpt),
             "settings": lambda: store.save_settings(me, {"lang": "en"}),
             "a zip put back": lambda: store.import_zip(me, a_zip)}
    real_mkdir = Path.mkdir

    def mkdir_on_a_full_disk(path, *args, **kwargs):
        if not path.exists():            # a folder that is there already needs no room
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_mkdir(path, *args, **kwargs)

    for where in ("write", "rename", "mkdir"):
        with monkeypatch.context() as patched:
            if where == "mkdir":
                patched.setattr(Path, "mkdir", mkdir_on_a_full_disk)
            else:
                patched.setattr(store_module, "os", FullDisk(where))
            if where != "mkdir":    # opening the app on a full disk: no error, nothing changed
                store.mark_seen(me)
                assert files_under(tmp_path / "store") == before, where
            for what, save in saves.items():
                if where == "mkdir" and what not in ("a new run", "a zip put back"):
                    continue                 # these write into folders that exist
                with pytest.raises(StoreError) as refused:
                    save()
                assert refused.value.key == "store_disk_full", (where, what)
                assert "disk is full" in str(refused.value), (where, what)
                assert "磁盘已满" in refused.value.in_language("zh"), (where, what)
                assert files_under(tmp_path / "store") == before, (where, what)
                assert sorted(store.run_keys(me)) == sorted(old_keys), (where, what)
                assert not [p for p in (tmp_path / "store").rglob("*") if p.is_dir()
                            and not any(p.iterdir())], (where, what)     # no empty run folder
    # another refusal than a full disk: its own message, in both languages
    monkeypatch.setattr(store_module, "os", FullDisk("rename", errno.EROFS))
    with pytest.raises(StoreError) as read_only:
        store.save_settings(me, {"lang": "en"})
    assert read_only.value.key == "store_write_failed"
    assert read_only.value.in_language("zh") != str(read_only.value)
    monkeypatch.undo()
    store.save_settings(me, {"lang": "en"})          # room again: it saves
    assert store.load_settings(me) == {"lang": "en"}
    assert not list((tmp_path / "store").rglob(store_module.TMP_PREFIX + "*"))


_ON_A_TINY_DISK = textwrap.dedent("""
    import errno, json, sys
    from pathlib import Path
    from lessons.engine.checkpoint import load_checkpoint
    from lessons.hosting.limits import LOCAL
    from lessons.hosting.store import SavedRun, StoreError, WorkStore, new_learner_id, new_run_key
    disk, ckpt = Path(sys.argv[1]), load_checkpoint(Path(sys.argv[2]).read_bytes())
    store, me, key = WorkStore(disk / "store", LOCAL), new_learner_id(), new_run_key()
    store.save_run(me, SavedRun(key, "kept", "t", ckpt))
    store.save_settings(me, {"lang": "zh"})
    def files():
        return {str(p): p.read_bytes() for p in (disk / "store").rglob("*") if p.is_file()}
    before = files()
    with open(disk / "filler", "wb", buffering=0) as filler:   # the rest of the disk
        try:
            while True:
                filler.write(b"x" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    refused = {}
    for what, save in {"new run": lambda: store.save_run(me, SavedRun(new_run_key(), "n", "t", ckpt)),
                       "run again": lambda: store.save_run(me, SavedRun(key, "kept", "t", ckpt, [(1, "a")])),
                       "active": lambda: store.save_active(me, ckpt),
                       "settings": lambda: store.save_settings(me, {"lang": "en"})}.items():
        try:
            save()
            refused[what] = None
        except StoreError as exc:
            refused[what] = exc.key
    print(json.dumps({"refused": refused, "unchanged": files() == before,
                      "runs": store.run_keys(me) == [key]}))
""")


@pytest.mark.slow
def test_a_real_full_disk_on_a_tiny_tmpfs(tmp_path, tiny_checkpoint_bytes):
    """The same on a real filesystem that fills up: a 2 MB tmpfs in a mount namespace of its
    own (unshare; skipped where this machine does not allow it). Slow: about 5 s, most of it a
    new Python importing torch."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("no unshare here")
    disk, ckpt_file = tmp_path / "disk", tmp_path / "tiny.safetensors"
    disk.mkdir()
    ckpt_file.write_bytes(tiny_checkpoint_bytes)
    probe = subprocess.run(
        [unshare, "-rm", "sh", "-c", 'mount -t tmpfs -o size=2m llmx-full "$1" || exit 77; '
         'shift; exec "$@"', "sh", str(disk), sys.executable, "-c", _ON_A_TINY_DISK, str(disk),
         str(ckpt_file)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})
    if probe.returncode == 77 or "unshare failed" in probe.stderr:
        pytest.skip(f"no tmpfs of our own here: {probe.stderr.strip()[:200]}")
    assert probe.returncode == 0, probe.stderr[-2000:]
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen == {"refused": {"new run": "store_disk_full", "run again": "store_disk_full",
                                "active": "store_disk_full", "settings": "store_disk_full"},
                    "unchanged": True, "runs": True}, seen
