"""Issue #22, item 5 (uploads): bytes PUT to made-up file ids are freed at the session's next
run, a file a box holds is kept, and hosted mode caps every upload at the largest file a box
takes (the repository's config allows 256 MB for local checkpoints)."""
from __future__ import annotations

import streamlit as st
import torch
from streamlit import config as streamlit_config
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from app.state import server
from lessons.hosting.limits import HOSTED


def _put(manager, session: str, file_id: str, size: int) -> None:
    manager.add_file(session, UploadedFileRec(file_id, f"{file_id}.bin", "application/octet-stream",
                                              b"x" * size))


def _stored(manager, session: str) -> dict[str, int]:
    return {fid: len(rec.data) for fid, rec in manager.file_storage.get(session, {}).items()}


def test_files_no_box_holds_are_freed_and_held_ones_kept():
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    for i in range(15):                               # the probe: 15 files to made-up ids
        _put(manager, "visitor", f"made-up-{i}", 200_000)
    _put(manager, "visitor", "held", 1_000)
    _put(manager, "neighbour", "theirs", 500)         # another session's file: not ours to free
    # the first run that finds them unheld keeps them: the browser PUTs a file before the
    # rerun that tells a box about it
    assert server.forget_unheld_uploads(manager, "visitor", {"held"}, now=100.0) == 0
    assert len(_stored(manager, "visitor")) == 16
    assert server.forget_unheld_uploads(manager, "visitor", {"held"}, now=130.0) == 0
    freed = server.forget_unheld_uploads(manager, "visitor", {"held"}, now=100.0 + server.UNHELD_GRACE_S)
    assert freed == 15 * 200_000
    assert _stored(manager, "visitor") == {"held": 1_000}
    assert _stored(manager, "neighbour") == {"theirs": 500}


def test_a_file_picked_up_by_a_box_within_the_grace_is_kept():
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    _put(manager, "learner", "new", 1_000)
    server.forget_unheld_uploads(manager, "learner", set(), now=0.0)        # a run in between
    server.forget_unheld_uploads(manager, "learner", {"new"}, now=5.0)      # the box reads it
    assert server.forget_unheld_uploads(manager, "learner", set(), now=61.0) == 0   # clock restarts
    assert _stored(manager, "learner") == {"new": 1_000}


def test_held_upload_ids_reads_the_boxes_values():
    class Uploaded:            # what a file box keeps: an object with a file_id
        def __init__(self, file_id):
            self.file_id = file_id
    state = {"tr_ckpt_upload": Uploaded("a"), "tok_upload": Uploaded("b"), "lang": "en"}
    assert server.held_upload_ids(state) == {"a", "b"}


def test_hosted_mode_caps_uploads_at_the_largest_box(monkeypatch):
    monkeypatch.setenv("LLM_EXPLORER_HOSTED", "1")
    before_upload = streamlit_config.get_option("server.maxUploadSize")
    before_details = st.get_option("client.showErrorDetails")
    threads = torch.get_num_threads()    # harden() sets this thread's; the test runner's too
    try:
        streamlit_config.set_option("server.maxUploadSize", 256)     # the repository's config
        server.harden()
        cap = streamlit_config.get_option("server.maxUploadSize")
        assert cap == server.upload_cap_mb(HOSTED) == 33
        assert HOSTED.max_checkpoint_bytes <= cap * 1_000_000         # an honest checkpoint fits
    finally:
        streamlit_config.set_option("server.maxUploadSize", before_upload)
        st.set_option("client.showErrorDetails", before_details)
        torch.set_num_threads(threads)
