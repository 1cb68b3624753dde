"""The Fine-tuning page's set-up: which labelled data (built-in, in either language, or the
learner's CSV), how many steps, and the Start button that launches the four methods."""
from __future__ import annotations

import streamlit as st

from app.state import runs, session
from app.ui import explain, lang, shared, tr
from lessons.concepts.finetuning.compute import DEFAULT_STEPS
from lessons.concepts.finetuning.data import (DataError, LabelledData, builtin_dataset,
                                              parse_labelled_csv)
from lessons.concepts.finetuning.live import Comparison

COMPARISON_KEY = "ft_comparison"


def chosen_data() -> LabelledData | None:
    """The labelled data the learner picked, or None after saying what is wrong."""
    choices = ["builtin_en", "builtin_zh", "upload"]
    default = 1 if lang() == "zh" else 0
    # labels made now: a format_func must not look the language up later
    names = {"builtin_en": tr("finetuning.data_builtin_en"),
             "builtin_zh": tr("finetuning.data_builtin_zh"), "upload": tr("finetuning.data_upload")}
    source = st.radio(tr("finetuning.data_source"), choices, index=default, horizontal=True,
                      format_func=names.get, key="ft_source")
    if source != "upload":
        return shared(builtin_dataset, source.removeprefix("builtin_"))
    upload = st.file_uploader(tr("finetuning.upload_label"), type=["csv"], key="ft_upload")
    if upload is None:
        st.info(tr("finetuning.upload_first"))
        return None
    try:
        return parse_labelled_csv(upload.getvalue())
    except DataError as exc:
        st.error(tr("finetuning.bad_data", reason=explain(exc)))
        return None


def describe(data: LabelledData) -> None:
    sizes = dict(train=len(data.train), validation=len(data.validation), test=len(data.test))
    st.caption(tr("finetuning.data_sizes", labels=", ".join(data.labels), **sizes))
    st.dataframe([{tr("finetuning.col_text"): text, tr("finetuning.col_label"): data.labels[y]}
                  for text, y in data.train[:6]], hide_index=True, width="stretch")


def comparison() -> Comparison | None:
    return st.session_state.get(COMPARISON_KEY)


def setup_and_start() -> None:
    data = chosen_data()
    if data is None:
        return
    describe(data)
    steps = st.slider(tr("finetuning.steps"), 20, 400, DEFAULT_STEPS, 10, key="ft_steps")
    current = comparison()
    busy = current is not None and not current.finished and any(
        run.running for run in current.runs.values())
    if st.button(tr("finetuning.start"), type="primary", disabled=busy, key="ft_start"):
        if current is not None:
            current.stop_all()
        lim = runs.limits()
        new = Comparison(session.active_checkpoint(), data, steps, session.device(),
                         runs.training_slots(), lim.threads_per_training,
                         model_name=session.active_model_name())
        runs.register_background_work(new)
        st.session_state[COMPARISON_KEY] = new
        new.start()
    if current is not None:
        current.touch()
