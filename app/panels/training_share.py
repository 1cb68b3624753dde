"""Bringing a model back: a checkpoint file (.safetensors) uploaded becomes a run of this
session, which the live view can then use, download or compare."""
from __future__ import annotations

import streamlit as st

from app.state import runs
from app.ui import explain, tr
from lessons.engine.checkpoint import CheckpointError, load_checkpoint
from lessons.hosting.limits import upload_widget_mb


def upload_checkpoint() -> None:
    cap = runs.limits().max_checkpoint_bytes
    upload = st.file_uploader(tr("training.upload_checkpoint", mb=round(cap / 1e6)), key="tr_ckpt_upload",
                              help=tr("training.upload_checkpoint_help"),
                              max_upload_size=upload_widget_mb(cap))
    if upload is None:
        return
    try:
        # the cap counts parameters, not bytes: 21.5 M parameters stored as int8 fit in 21.5 MB
        checkpoint = load_checkpoint(upload.getvalue(), max_bytes=cap,
                                     max_parameters=runs.limits().max_parameters)
    except CheckpointError as exc:
        st.error(tr("training.bad_checkpoint", reason=explain(exc)))
        return
    book = runs.run_book()
    # subtle: the box keeps its file across reruns; add it as a run only once per file
    if st.session_state.get("tr_uploaded_id") != upload.file_id:
        run = book.add_uploaded(checkpoint, upload.name)
        st.session_state.tr_uploaded_id = upload.file_id
        st.session_state.tr_current = run.id
    st.success(tr("training.checkpoint_loaded", name=upload.name,
                  params=f"{checkpoint.model.num_parameters():,}"))
