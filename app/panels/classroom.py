"""The classroom parts of every page: the learner's work (kept, downloaded, restored), a teacher's
link to this view, and a lesson plan's tour box. main.py draws them around each page."""
from __future__ import annotations

import streamlit as st

from app.state import links, runs, tour, work
from app.ui import explain, lang, tr
from lessons.hosting.limits import upload_widget_mb
from lessons.hosting.store import StoreError, read_work_zip, write_refused, zip_cap

IMPORT_NOTE_KEY = "work_import_note"    # ("success" | "error", message) after a restore


# ---- your work ------------------------------------------------------------------------------

def your_work() -> None:
    """A short sidebar section: where the work is kept (and for how long), the address that
    finds it again, one zip of everything, and a zip put back."""
    note = st.session_state.pop(IMPORT_NOTE_KEY, None)
    # open after a restore (the sidebar above it may have changed: a model came back, and the
    # learner must see what happened), and while the last save was refused (the download)
    refused = st.session_state.get(work.PROBLEM_KEY) is not None
    with st.expander(tr("app.work_heading"), expanded=note is not None or refused,
                     key="work_box"):
        lim = runs.limits()
        learner = work.learner_id()
        if lim.hosted:
            st.caption(tr("app.work_where_hosted", mb=round(lim.store_bytes_per_learner / 1e6),
                          days=int(lim.store_expiry_days)))
        else:
            st.caption(tr("app.work_where_local", folder=str(work.store().folder(learner))))
        st.caption(tr("app.work_address"))
        st.code(f"{st.context.url or ''}?learner={learner}", language=None, wrap_lines=True)
        st.caption(tr("app.work_usage", runs=work.saved_run_count(),
                      mb=f"{work.store().used_bytes(learner) / 1e6:.1f}"))
        the_store = work.store()
        # a callable, made into the file only when clicked; it captures plain values, no st.*
        st.download_button(tr("app.work_download"), lambda: the_store.export_zip(learner),
                           file_name="llm-explorer-work.zip",
                           mime="application/zip", key="work_download")
        st.file_uploader(tr("app.work_restore"), type=["zip"], key="work_zip",
                         max_upload_size=upload_widget_mb(zip_cap(lim)), on_change=restore_uploaded_zip)
        if note is not None:
            (st.success if note[0] == "success" else st.error)(note[1])


def restore_uploaded_zip() -> None:
    """The restore box's callback: it runs before the page is drawn, so the zip's language and
    settings can still go into the widgets."""
    upload = st.session_state.get("work_zip")
    if upload is None:
        return
    try:
        read_work_zip(upload.getvalue(), runs.limits())   # checked before the session changes
        count = work.import_zip(upload.getvalue())
    except StoreError as exc:       # a full disk too: the store says so, in the learner's words
        st.session_state[IMPORT_NOTE_KEY] = ("error", tr("app.work_restore_bad", reason=explain(exc)))
        return
    except OSError as exc:          # the store turns its own into StoreError; a stray one too
        st.session_state[IMPORT_NOTE_KEY] = ("error", tr("app.work_restore_bad",
                                                         reason=explain(write_refused(exc))))
        return
    st.session_state[IMPORT_NOTE_KEY] = ("success", tr("app.work_restored", runs=count))


def unsaved_work_warning() -> None:
    """After this run's save (the end of the page): what the store refused, in the sidebar at
    once, not on the next click (a full disk: the learner downloads their work now). Kept
    until a save goes through, so the next run opens "Your work" with its download."""
    problem = st.session_state.get(work.PROBLEM_KEY)
    if problem is not None:
        st.sidebar.warning(explain(problem))


# ---- a link to this view ----------------------------------------------------------------------

def view_link(url_path: str) -> None:
    """'Link to this view': drawn after the page, so it knows every widget the page drew."""
    with st.expander(tr("app.link_heading"), key="link_box"):   # a key: it stays open across reruns
        st.caption(tr("app.link_help"))
        choices = links.widget_keys_this_run() + [links.SIDEBAR]
        hide = st.multiselect(tr("app.link_hide"), choices, key="link_hide_choice",
                              placeholder=tr("app.choose_options"))
        st.code(links.view_link(url_path, hide), language=None, wrap_lines=True)


# ---- a lesson plan's tour -----------------------------------------------------------------------

def tour_box() -> None:
    problem = st.session_state.pop(tour.PROBLEM_KEY, None)
    if problem is not None:
        st.warning(explain(problem))
    plan = tour.current_plan()
    if plan is None:
        return
    index = st.session_state.get(tour.STEP_KEY, 0)
    step = plan.steps[index]
    with st.container(border=True, key="tour_box"):
        st.markdown(f"**{plan.title[lang()]}** · "
                    + tr("app.tour_step", n=index + 1, total=len(plan.steps),
                         minutes=f"{step.minutes:g}"))
        st.markdown(step.text[lang()])
        back, forward, leave, _ = st.columns([1, 1, 1, 3])
        back.button(tr("app.tour_previous"), key="tour_previous", disabled=index == 0,
                    on_click=tour.go_to, args=(plan, index - 1))
        forward.button(tr("app.tour_next"), key="tour_next", disabled=index == len(plan.steps) - 1,
                       on_click=tour.go_to, args=(plan, index + 1), type="primary")
        leave.button(tr("app.tour_end"), key="tour_end", on_click=end_tour)


def end_tour() -> None:
    for key in (tour.PLAN_KEY, tour.STEP_KEY):
        st.session_state.pop(key, None)
    for param in (tour.PLAN_PARAM, tour.STEP_PARAM):
        st.query_params.pop(param, None)
