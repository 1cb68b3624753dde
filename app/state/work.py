"""Nothing the learner made is lost: this session's side of the work store
(lessons/hosting/store.py).

The learner's id lives in the address (``?learner=...``, made on the first visit), so F5, a
closed tab reopened from the history, or a bookmark finds the same work. On a session's first
run the store's settings, model and runs are put back; on every full run what changed is
written again; a run is written by its own training thread whenever it stops or ends
(``RunBook.on_run_ended``), so a run still training when the tab closes is saved too.
"""
from __future__ import annotations

import copy
import logging

import streamlit as st

from app.state import runs, session
from lessons.engine.checkpoint import SHIPPED_MODELS
from lessons.engine.training import RunStatus
from lessons.hosting.store import (SavedRun, StoreError, WorkStore, default_root, is_learner_id,
                                   new_learner_id, write_refused)
from lessons.i18n import LANGUAGES

log = logging.getLogger("llm_explorer")

LEARNER_PARAM = "learner"
LEARNER_KEY = "work_learner"
RESTORED_KEY = "work_restored"        # set once this session has put the stored work back
SAVED_SETTINGS_KEY = "work_saved_settings"
SAVED_ACTIVE_KEY = "work_saved_active"   # uid of the active model last written (None: shipped)
SAVED_RUNS_KEY = "work_saved_runs"    # {store key: metrics rows saved}; training threads write it
PROBLEM_KEY = "work_problem"          # the latest save the store refused (a StoreError)

# Session-state keys kept for the learner, one place: each with what its value must be to be
# put back on load (a zip is the learner's to edit, so nothing is taken unchecked): the quiz
# pages' progress (app/panels/quiz.py PROGRESS_KEY), a JSON dict, and the projector toggle
# (app/projector.py PROJECTOR_KEY), a bool.
KEPT = {"quiz_progress": lambda v: isinstance(v, dict),
        "projector_on": lambda v: isinstance(v, bool),
        session.SHIPPED_KEY: lambda v: v in SHIPPED_MODELS,
        session.SHIPPED_PICKED_KEY: lambda v: isinstance(v, bool)}
KEPT_KEYS = tuple(KEPT)


def store() -> WorkStore:
    """Made on each use: the truth is the files (other server processes may write them)."""
    return WorkStore(default_root(), runs.limits())


def learner_id() -> str:
    """This browser's id: the address's if valid, else a new one put into the address. Kept in
    the session too, because moving to another page drops the address's query string."""
    if not is_learner_id(st.session_state.get(LEARNER_KEY)):
        given = st.query_params.get(LEARNER_PARAM)
        st.session_state[LEARNER_KEY] = given if is_learner_id(given) else new_learner_id()
    learner = st.session_state[LEARNER_KEY]
    if st.query_params.get(LEARNER_PARAM) != learner:
        st.query_params[LEARNER_PARAM] = learner
    return learner


# ---- putting the work back ------------------------------------------------------------------

def restore_once() -> None:
    """On the session's first run, before any widget is drawn: the stored language (unless the
    address names one), settings, active model and runs. A damaged store never stops the page."""
    if st.session_state.get(RESTORED_KEY):
        return
    st.session_state[RESTORED_KEY] = True
    learner = learner_id()
    st.session_state[SAVED_RUNS_KEY] = {}
    book = runs.run_book()
    book.on_run_ended = _saver(store(), learner, book, st.session_state[SAVED_RUNS_KEY])
    try:
        the_store = store()
        if runs.limits().hosted:
            the_store.sweep_expired()
        the_store.mark_seen(learner)
        apply_settings(the_store.load_settings(learner))
        put_back_model_and_runs(the_store, learner)
    except (OSError, ValueError) as exc:     # ValueError: our errors too (a damaged file)
        log.warning("work store: could not restore: %s: %s", type(exc).__name__, exc)
    st.session_state[SAVED_SETTINGS_KEY] = copy.deepcopy(current_settings())
    active = st.session_state.get(session.MODEL_KEY)
    st.session_state[SAVED_ACTIVE_KEY] = active[1].uid if active else None


def apply_settings(settings: dict) -> None:
    if settings.get("lang") in LANGUAGES and st.query_params.get("lang") not in LANGUAGES:
        st.session_state[session.LANG_KEY] = settings["lang"]
    for key in KEPT_KEYS:
        if key in settings and KEPT[key](settings[key]):
            st.session_state[key] = settings[key]


def put_back_model_and_runs(the_store: WorkStore, learner: str) -> None:
    settings = the_store.load_settings(learner)
    active = the_store.load_active(learner)
    about = settings.get("active_model") or {}
    if active is not None and about.get("name"):
        session.use_model(str(about["name"]), active, about.get("trained_on"))
    book = runs.run_book()
    known = {run.store_key for run in book.runs.values()}
    newest = [saved for saved in the_store.load_runs(learner) if saved.key not in known]
    for saved in newest[-book.max_runs:]:
        run = book.add_saved(saved)
        st.session_state[SAVED_RUNS_KEY][saved.key] = len(saved.checkpoint.metrics)
        st.session_state.tr_current = run.id


# ---- writing what changed -------------------------------------------------------------------

def current_settings() -> dict:
    settings = {"lang": session.lang()}
    for key in KEPT_KEYS:
        if key in st.session_state:
            settings[key] = st.session_state[key]
    if not st.session_state.get(session.SHIPPED_PICKED_KEY):
        # the language chose it, not the learner: the language kept chooses it again
        settings.pop(session.SHIPPED_KEY, None)
    if session.has_own_model():
        settings["active_model"] = {"name": session.active_model_name(),
                                    "trained_on": session.own_model_text()}
    return settings


def save_changes() -> None:
    """Called on every full run: write the settings, the active model and any run not yet
    saved (an uploaded checkpoint, a run that ended before this session had a hook) if they
    changed. A refusal (the store's caps, a full disk) is kept for the sidebar to show at once;
    what was not saved stays "changed", so the next run tries again (and says so again while
    the disk is still full). A run its training thread could not save is retried here too."""
    if not st.session_state.get(RESTORED_KEY):
        return
    learner, the_store = learner_id(), store()
    st.session_state.pop(PROBLEM_KEY, None)
    try:
        settings = current_settings()
        active = st.session_state.get(session.MODEL_KEY)
        active_uid = active[1].uid if active else None
        if active_uid != st.session_state.get(SAVED_ACTIVE_KEY):
            if active:
                the_store.save_active(learner, active[1])
            else:
                the_store.forget_active(learner)
            st.session_state[SAVED_ACTIVE_KEY] = active_uid
        if settings != st.session_state.get(SAVED_SETTINGS_KEY):
            the_store.save_settings(learner, settings)
            # subtle: a copy; the quiz panel changes its progress dict in place, and a snapshot
            # sharing it would always equal the current settings, so nothing would be saved
            st.session_state[SAVED_SETTINGS_KEY] = copy.deepcopy(settings)
        save_runs(the_store, learner)
    except StoreError as exc:
        st.session_state[PROBLEM_KEY] = exc
    except OSError as exc:     # the store turns its own into StoreError; a stray one too
        log.warning("work store: could not save: %s: %s", type(exc).__name__, exc)
        st.session_state[PROBLEM_KEY] = write_refused(exc)
    except (TypeError, ValueError) as exc:   # a value JSON cannot hold
        log.warning("work store: could not save: %s: %s", type(exc).__name__, exc)


def save_runs(the_store: WorkStore, learner: str) -> None:
    book, saved = runs.run_book(), st.session_state[SAVED_RUNS_KEY]
    for run in list(book.runs.values()):
        settled = run.status in (RunStatus.UPLOADED, RunStatus.STOPPED, RunStatus.FINISHED,
                                 RunStatus.DIVERGED)
        if settled and (run.trainer or run.uploaded) and saved.get(run.store_key) != len(run.metrics):
            the_store.save_run(learner, book.saved_run(run.id))
            saved[run.store_key] = len(run.metrics)


def _saver(the_store: WorkStore, learner: str, book, saved: dict):
    """The hook a training thread calls when its run stops or ends. Captures plain values
    only: it runs in that thread, maybe after the session is gone, and never calls st.*."""
    def save(run) -> None:
        try:
            the_store.save_run(learner, book.saved_run(run.id))
            saved[run.store_key] = len(run.metrics)
        except (StoreError, OSError, ValueError) as exc:
            log.warning("work store: run %s not saved: %s", run.store_key, exc)
    return save


# ---- one zip --------------------------------------------------------------------------------

def import_zip(data: bytes) -> int:
    """Put a zip's work into the store and into this session; StoreError if it is refused."""
    learner, the_store = learner_id(), store()
    count = the_store.import_zip(learner, data)
    apply_settings(the_store.load_settings(learner))
    put_back_model_and_runs(the_store, learner)
    st.session_state[SAVED_SETTINGS_KEY] = copy.deepcopy(current_settings())
    active = st.session_state.get(session.MODEL_KEY)
    st.session_state[SAVED_ACTIVE_KEY] = active[1].uid if active else None
    return count


def saved_run_count() -> int:
    return len(store().run_keys(learner_id()))


__all__ = ["KEPT_KEYS", "SavedRun", "import_zip", "learner_id", "restore_once",
           "save_changes", "store"]
