"""The work store: what one learner made (finished or stopped runs, the model they chose, their
settings), kept as plain files on the server's disk so that a reload, a closed tab or a server
restart loses nothing.

A learner is a random id (128 bits) the app keeps in the page's address (``?learner=...``);
whoever has the address has the work, nobody else. The store never lists learners to anyone,
and a learner's folder is named by a hash of the id, so even the folder names on the disk do
not give anyone a working address.

Layout under the root (``LLM_EXPLORER_STORE``, or ``~/.llm-explorer/work``)::

    <sha256(id)[:32]>/
        settings.json                 language, chosen shipped model, quiz progress, ...
        seen                          touched on every visit: the expiry counts from it
        active.safetensors            the model of one's own in use (absent: a shipped one)
        runs/<run key>/checkpoint.safetensors
        runs/<run key>/run.json       name, text it learned from, samples, when it was saved

Plain files and no in-memory truth: several server processes may share the folder. Every write
goes to a temporary file in the same folder and is renamed into place, so a reader sees the old
file or the new one, never half of one. A disk that fills up (or refuses a write otherwise)
mid-save leaves the old files as they were and no temporary file behind, and the save ends in
a StoreError the page can show ("the server's disk is full ..."), never an OSError.

UI-free: the app's glue is app/state/work.py.

>>> is_learner_id(new_learner_id()), is_learner_id("../../etc"), is_learner_id("a" * 22)
(True, False, True)
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lessons.concepts.training.compute import metrics_csv
from lessons.engine.checkpoint import Checkpoint, CheckpointError, checkpoint_bytes, load_checkpoint
from lessons.errors import LessonError
from lessons.i18n import t
from lessons.hosting.limits import Limits

STORE_ENV = "LLM_EXPLORER_STORE"
_LEARNER_ID = re.compile(r"[A-Za-z0-9_-]{22}")   # token_urlsafe(16): 16 bytes, 22 characters
_RUN_KEY = re.compile(r"[0-9a-f]{16}")
CHECKPOINT = "checkpoint.safetensors"
ACTIVE = "active.safetensors"
MAX_SETTINGS_BYTES = 200_000  # settings and quiz progress: a few KB
MAX_ZIP_MEMBERS = 400          # a zip of ours holds 3 files a run and one settings file
TMP_PREFIX = ".tmp-"           # a write not renamed into place yet; not counted as work
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


class StoreError(LessonError):
    """A zip or a save the store refuses; the message (errors.<key>) says why. A value that
    is itself one of our errors (why a checkpoint in a zip was refused) is translated too."""

    def in_language(self, lang: str) -> str:
        values = {k: v.in_language(lang) if isinstance(v, LessonError) else v
                  for k, v in self.values.items()}
        return t(f"errors.{self.key}", lang, **values)


def new_learner_id() -> str:
    return secrets.token_urlsafe(16)


def is_learner_id(value) -> bool:
    """Only ids this module could have made: 22 URL-safe characters, nothing else (no
    '/', '.', '%' or NUL can reach a path)."""
    return isinstance(value, str) and _LEARNER_ID.fullmatch(value) is not None


def new_run_key() -> str:
    return secrets.token_hex(8)


def default_root() -> Path:
    configured = os.environ.get(STORE_ENV, "").strip()
    return Path(configured) if configured else Path.home() / ".llm-explorer" / "work"


def write_refused(exc: OSError) -> StoreError:
    """What the learner is told when the disk refuses a write: full (or over a quota), or
    something else (read-only, permissions); the OSError itself goes to the server's log."""
    return StoreError("store_disk_full" if exc.errno in _DISK_FULL else "store_write_failed")


def _stage(path: Path, data: bytes) -> Path:
    """``data`` in a new temporary file beside ``path`` (removed again if the write fails)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX)
    try:
        with os.fdopen(handle, "wb") as f:     # closing flushes: a full disk may say so there
            f.write(data)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _write_files(files: dict[Path, bytes]) -> None:
    """Write every file to a temporary file beside it first, then rename them all into place,
    so another process sees the old contents or the new, never half. Renaming needs no room on
    the disk, so a disk that fills up while writing leaves every old file as it was; a
    temporary file is removed whatever happens. An OSError becomes a StoreError."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, data in files.items():
            staged.append((path, _stage(path, data)))
        for path, tmp in staged:
            os.replace(tmp, path)
    except OSError as exc:
        raise write_refused(exc) from exc
    finally:
        for _, tmp in staged:                  # renamed ones are gone already
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)


def _folder_bytes(folder: Path) -> int:
    """The bytes of work kept in ``folder``; a write still under way does not count."""
    if not folder.exists():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*")
               if p.is_file() and not p.name.startswith(TMP_PREFIX))


@dataclass
class SavedRun:
    """A run as the store keeps it: enough to show it again and to use its model."""
    key: str
    name: str
    corpus_name: str
    checkpoint: Checkpoint
    samples: list[tuple[int, str]] = field(default_factory=list)
    saved: float = field(default_factory=time.time)


class WorkStore:
    """Every learner's work under one root folder, within the limits' caps.

    Caps (hosted mode; ``None`` = none): ``store_bytes_per_learner`` (the oldest runs make room
    for a new one), ``store_total_bytes`` (a save that would pass it is refused) and
    ``store_expiry_days`` (a learner not seen for that long is deleted by ``sweep_expired``)."""

    def __init__(self, root: Path | str, limits: Limits):
        self.root = Path(root)
        self.limits = limits

    # ---- where things are -------------------------------------------------------------------

    def folder(self, learner: str) -> Path:
        if not is_learner_id(learner):
            raise StoreError("store_bad_id")
        return self.root / hashlib.sha256(learner.encode()).hexdigest()[:32]

    def _run_folder(self, learner: str, key: str) -> Path:
        if not _RUN_KEY.fullmatch(key):
            raise StoreError("store_bad_id")
        return self.folder(learner) / "runs" / key

    def used_bytes(self, learner: str) -> int:
        return _folder_bytes(self.folder(learner))

    def mark_seen(self, learner: str) -> None:
        """The learner opened the app: the expiry starts again from now. A visitor who has
        kept nothing yet gets no folder (a hosted server sees many who never train)."""
        if self.folder(learner).is_dir():
            # only the expiry reads it: a full disk must not keep anyone from their work
            with contextlib.suppress(StoreError):
                _write_files({self.folder(learner) / "seen": str(time.time()).encode()})

    # ---- settings ---------------------------------------------------------------------------

    def load_settings(self, learner: str) -> dict:
        try:
            settings = json.loads((self.folder(learner) / "settings.json").read_text("utf-8"))
        except (OSError, ValueError):     # none yet, or damaged: start from the defaults
            return {}
        return settings if isinstance(settings, dict) else {}

    def save_settings(self, learner: str, settings: dict) -> None:
        data = json.dumps(settings, ensure_ascii=False, sort_keys=True).encode()
        self._check_room(learner, len(data))
        _write_files({self.folder(learner) / "settings.json": data})

    # ---- the active model -------------------------------------------------------------------

    def save_active(self, learner: str, checkpoint: Checkpoint) -> None:
        data = checkpoint_file(checkpoint)
        self._check_room(learner, len(data))
        _write_files({self.folder(learner) / ACTIVE: data})

    def load_active(self, learner: str) -> Checkpoint | None:
        """The model of one's own in use, or None (none, or a file damaged on the disk)."""
        try:
            return self._load_checkpoint(self.folder(learner) / ACTIVE)
        except (OSError, CheckpointError):
            return None

    def forget_active(self, learner: str) -> None:
        try:
            (self.folder(learner) / ACTIVE).unlink(missing_ok=True)
        except OSError as exc:
            raise write_refused(exc) from exc

    # ---- runs -------------------------------------------------------------------------------

    def save_run(self, learner: str, run: SavedRun) -> None:
        """Write (or overwrite) one run. Makes room by forgetting this learner's oldest other
        runs when over the per-learner cap, once the new one is written (a full disk must not
        cost them); StoreError when it cannot fit at all, or the disk refuses it (then a new
        run leaves nothing behind and an old one stays as it was)."""
        data = checkpoint_file(run.checkpoint)
        about = json.dumps({"name": run.name, "corpus_name": run.corpus_name,
                            "samples": [list(s) for s in run.samples], "saved": run.saved},
                           ensure_ascii=False).encode()
        folder = self._run_folder(learner, run.key)
        forget = self._runs_to_forget(learner, len(data) + len(about), keep=run.key)
        is_new = not folder.exists()
        try:
            _write_files({folder / CHECKPOINT: data, folder / "run.json": about})
        except StoreError:
            if is_new:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        for key in forget:
            self.delete_run(learner, key)

    def run_keys(self, learner: str) -> list[str]:
        """This learner's runs, oldest first."""
        runs = self.folder(learner) / "runs"
        if not runs.is_dir():
            return []
        keys = [p.name for p in runs.iterdir() if _RUN_KEY.fullmatch(p.name)
                and (p / CHECKPOINT).exists() and (p / "run.json").exists()]
        return sorted(keys, key=lambda k: (runs / k / "run.json").stat().st_mtime)

    def load_run(self, learner: str, key: str) -> SavedRun:
        folder = self._run_folder(learner, key)
        about = json.loads((folder / "run.json").read_text("utf-8"))
        return SavedRun(key, str(about["name"]), str(about.get("corpus_name", "")),
                        self._load_checkpoint(folder / CHECKPOINT),
                        [(int(s), str(t)) for s, t in about.get("samples", [])],
                        float(about.get("saved", 0)))

    def load_runs(self, learner: str) -> list[SavedRun]:
        """Every readable run, oldest first; a damaged one is skipped, not fatal."""
        found = []
        for key in self.run_keys(learner):
            try:
                found.append(self.load_run(learner, key))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return found

    def delete_run(self, learner: str, key: str) -> None:
        shutil.rmtree(self._run_folder(learner, key), ignore_errors=True)

    # ---- caps and expiry --------------------------------------------------------------------

    def _check_room(self, learner: str, new_bytes: int) -> None:
        per_learner = self.limits.store_bytes_per_learner
        if per_learner is not None and new_bytes > per_learner:
            raise StoreError("store_learner_full", mb=_mb(per_learner))
        total = self.limits.store_total_bytes
        if total is not None and _folder_bytes(self.root) + new_bytes > total:
            raise StoreError("store_server_full")

    def _runs_to_forget(self, learner: str, new_bytes: int, keep: str) -> list[str]:
        """This learner's oldest other runs to forget so that a run of ``new_bytes`` (replacing
        run ``keep``, if there) fits under the per-learner cap. Only planned here: they are
        forgotten once the new run is safely written, and StoreError (nothing forgotten) when
        even forgetting them all would not make it fit."""
        self._check_room(learner, new_bytes)
        per_learner = self.limits.store_bytes_per_learner
        if per_learner is None:
            return []
        used = self.used_bytes(learner) - _folder_bytes(self._run_folder(learner, keep))
        forget = []
        for key in (k for k in self.run_keys(learner) if k != keep):
            if used + new_bytes <= per_learner:
                break
            used -= _folder_bytes(self._run_folder(learner, key))
            forget.append(key)
        if used + new_bytes > per_learner:
            raise StoreError("store_learner_full", mb=_mb(per_learner))
        return forget

    def sweep_expired(self, now: float | None = None) -> int:
        """Delete the folders of learners not seen for ``store_expiry_days``; returns how many."""
        days = self.limits.store_expiry_days
        if days is None or not self.root.is_dir():
            return 0
        now = time.time() if now is None else now
        gone = 0
        for folder in self.root.iterdir():
            if not folder.is_dir() or folder.name.startswith("."):
                continue
            seen = folder / "seen"
            last = seen.stat().st_mtime if seen.exists() else folder.stat().st_mtime
            if now - last > days * 86400:
                shutil.rmtree(folder, ignore_errors=True)
                gone += 1
        return gone

    def _load_checkpoint(self, path: Path) -> Checkpoint:
        # the same checks as an upload: the store's files may be older than today's caps
        return load_checkpoint(path.read_bytes(), max_bytes=self.limits.max_checkpoint_bytes,
                               max_parameters=self.limits.max_parameters)

    # ---- one zip of everything --------------------------------------------------------------

    def export_zip(self, learner: str) -> bytes:
        """runs/<n>-<key>/{checkpoint.safetensors, metrics.csv, run.json}, active.safetensors
        and settings.json, in one zip."""
        out = io.BytesIO()
        folder = self.folder(learner)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("settings.json", json.dumps(self.load_settings(learner),
                                                    ensure_ascii=False, indent=1))
            if (folder / ACTIVE).exists():
                zf.write(folder / ACTIVE, ACTIVE)
            for run in self.load_runs(learner):
                base = f"runs/{run.key}/"
                zf.write(self._run_folder(learner, run.key) / CHECKPOINT, base + CHECKPOINT)
                zf.write(self._run_folder(learner, run.key) / "run.json", base + "run.json")
                zf.writestr(base + "metrics.csv", metrics_csv(run.checkpoint.metrics))
        return out.getvalue()

    def import_zip(self, learner: str, data: bytes) -> int:
        """Put the work of a zip made by ``export_zip`` back; returns the number of runs.

        Everything is read and checked first (names, sizes, every checkpoint as an upload
        would be), and only then written, so a bad zip changes nothing."""
        settings, active, runs = read_work_zip(data, self.limits)
        for run in runs:
            self.save_run(learner, run)
        if active is not None:
            self.save_active(learner, active)
        if settings:
            self.save_settings(learner, {**self.load_settings(learner), **settings})
        return len(runs)


def checkpoint_file(ckpt: Checkpoint) -> bytes:
    return checkpoint_bytes(ckpt.model, ckpt.tokenizer, train_config=ckpt.train_config,
                            metrics=ckpt.metrics, snapshots=ckpt.snapshots, head=ckpt.head)


def _mb(n: int) -> int:
    return max(1, round(n / 1e6))


_ZIP_NAME = re.compile(r"settings\.json|active\.safetensors|"
                       r"runs/([0-9a-f]{16})/(checkpoint\.safetensors|run\.json|metrics\.csv)")


def zip_cap(limits: Limits) -> int:
    """The biggest zip of work this server takes: what it keeps for one learner (hosted), or
    two of the biggest checkpoints it takes (locally).

    >>> from lessons.hosting.limits import HOSTED, LOCAL
    >>> zip_cap(HOSTED), zip_cap(LOCAL)
    (64000000, 512000000)
    """
    return limits.store_bytes_per_learner or limits.max_checkpoint_bytes * 2


def read_work_zip(data: bytes, limits: Limits):
    """(settings, active checkpoint or None, [SavedRun]) from a zip of ours, all checked;
    StoreError for anything else (not a zip, a name we never write, too big, a bad checkpoint).
    """
    cap = zip_cap(limits)
    if len(data) > cap:
        raise StoreError("store_zip_too_big", mb=_mb(cap))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise StoreError("store_zip_bad") from None
    if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > cap:
        raise StoreError("store_zip_too_big", mb=_mb(cap))      # also a zip bomb's answer
    names = {m.filename for m in members if not m.is_dir()}
    if not names or any(_ZIP_NAME.fullmatch(n) is None for n in names):
        raise StoreError("store_zip_bad")
    try:
        files = {n: zf.read(n) for n in names}
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        raise StoreError("store_zip_bad") from None
    return _zip_settings(files), _zip_active(files, limits), _zip_runs(files, limits)


def _zip_checkpoint(data: bytes, limits: Limits, where: str) -> Checkpoint:
    try:
        return load_checkpoint(data, max_bytes=limits.max_checkpoint_bytes,
                               max_parameters=limits.max_parameters)
    except CheckpointError as exc:
        raise StoreError("store_zip_bad_checkpoint", file=where, reason=exc) from None


def _zip_settings(files: dict[str, bytes]) -> dict:
    if "settings.json" not in files:
        return {}
    if len(files["settings.json"]) > MAX_SETTINGS_BYTES:
        raise StoreError("store_zip_bad")
    try:
        settings = json.loads(files["settings.json"].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise StoreError("store_zip_bad") from None
    if not isinstance(settings, dict):
        raise StoreError("store_zip_bad")
    return settings


def _zip_active(files: dict[str, bytes], limits: Limits) -> Checkpoint | None:
    return _zip_checkpoint(files[ACTIVE], limits, ACTIVE) if ACTIVE in files else None


def _zip_runs(files: dict[str, bytes], limits: Limits) -> list[SavedRun]:
    runs = []
    keys = sorted({m.group(1) for n in files if (m := _ZIP_NAME.fullmatch(n)) and m.group(1)})
    for key in keys:
        ckpt_name, about_name = f"runs/{key}/{CHECKPOINT}", f"runs/{key}/run.json"
        if ckpt_name not in files or about_name not in files:
            raise StoreError("store_zip_bad")
        try:
            about = json.loads(files[about_name].decode("utf-8"))
            name, corpus = str(about["name"])[:200], str(about.get("corpus_name", ""))[:200]
            samples = [(int(s), str(t)) for s, t in about.get("samples", [])]
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            raise StoreError("store_zip_bad") from None
        runs.append(SavedRun(key, name, corpus, _zip_checkpoint(files[ckpt_name], limits, ckpt_name),
                             samples))
    return runs
