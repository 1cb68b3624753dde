"""LLM Explorer: the navigation (built from lessons/registry.py) and the sidebar. Run: streamlit run app/serve.py
(which serves this file warm and, hosted, with its headers; `streamlit run app/main.py` works too, cold).

Pages live in app/views/, not app/pages/: Streamlit treats a folder named pages/ beside the
main script as its older multipage mode and then skips this file on reruns.
"""
from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:          # lets `streamlit run app/main.py` find lessons/ and app/
    sys.path.insert(0, str(ROOT))

from lessons.i18n import LANGUAGES, t  # noqa: E402  (light: no torch)

st.set_page_config(page_title="LLM Explorer", page_icon="🧠", layout="wide")
_starting = None
if "torch" not in sys.modules:   # a cold server: the imports below take seconds, say so
    _wanted = st.query_params.get("lang", "en")
    _starting = st.empty()
    _starting.info(t("app.starting", _wanted if _wanted in LANGUAGES else "en"))

from app.panels import classroom  # noqa: E402
from app.projector import PROJECTOR_KEY, classroom_style, install_figure_scaling  # noqa: E402
from app.state import links, runs, server, session, tour, work  # noqa: E402
from app.ui import shown_as_message, tr  # noqa: E402
from lessons import registry  # noqa: E402

if _starting is not None:
    _starting.empty()


def sidebar() -> None:
    with st.sidebar:
        st.selectbox(tr("app.language"), list(LANGUAGES), key=session.LANG_KEY,
                     format_func=LANGUAGES.get, on_change=session.follow_language)
        st.toggle(tr("classroom.projector"), key=PROJECTOR_KEY, help=tr("classroom.projector_help"))
        if len(session.SHIPPED_MODELS) > 1:     # picking a shipped model replaces one's own
            # labels made now: a format_func must not look the language up later
            names = {key: session.shipped_model_name(key) for key in session.SHIPPED_MODELS}
            st.selectbox(tr("app.shipped_picker"), list(names), key=session.SHIPPED_KEY,
                         format_func=names.get,
                         on_change=session.pick_shipped)
        checkpoint = session.active_checkpoint()
        st.markdown(f"**{tr('app.active_model')}**")
        st.caption(tr("app.model_summary", name=session.active_model_name(),
                      params=f"{checkpoint.model.num_parameters():,}",
                      layers=checkpoint.model.config.n_layer,
                      heads=checkpoint.model.config.n_head,
                      tokenizer=tr(f"app.tokenizer_{checkpoint.tokenizer.kind}"),
                      vocab=checkpoint.tokenizer.vocab_size))
        st.caption(session.trained_on_text())
        shipped_name = session.shipped_model_name(session.chosen_shipped())
        if session.has_own_model() and st.button(tr("app.back_to_shipped", name=shipped_name)):
            session.use_shipped_model()
            st.rerun()
        missing = session.forget_missing_device()
        if missing:
            st.warning(tr("app.device_missing", name=missing, device=session.device()))
        st.selectbox(tr("app.device"), session.device_choices(), key=session.DEVICE_KEY)
        st.caption(tr("app.device_in_use", device=session.device()))
        classroom.your_work()


def class_is_full() -> None:
    """What a learner sees when this server already holds its cap of learners (hosted,
    LLM_EXPLORER_MAX_SESSIONS): a message at once instead of a page that hangs for everyone."""
    st.title("LLM Explorer")
    st.warning(tr("app.class_full"))
    st.button(tr("app.class_full_retry"))    # a click is a new run, which asks for a seat again


def main() -> None:
    server.harden()     # before any session can have a cache to clear
    # ?lang=zh in a link opens the app in Chinese (handy for a class's shared link)
    wanted = st.query_params.get("lang", "en")
    st.session_state.setdefault(session.LANG_KEY, wanted if wanted in LANGUAGES else "en")
    if not server.has_a_seat():
        class_is_full()
        return
    # first run of a session, before any widget: the learner's stored work, then what a
    # teacher's link or a lesson plan sets (they win: the teacher chose this view)
    with shown_as_message("work"):
        work.restore_once()
    links.apply_link_once()
    tour.start_once()
    st.query_params["lang"] = session.lang()     # moving between pages drops the address's query
    # a session opened in Chinese starts on the Chinese model (before the picker is drawn)
    st.session_state.setdefault(session.SHIPPED_KEY, session.shipped_for_language(session.lang()))
    pages = [st.Page(entry.page, title=tr(entry.title_key), icon=entry.icon,
                     url_path=entry.url_path or None, default=entry.is_home)
             for entry in registry.PAGES]
    navigation = st.navigation(pages)
    tour.switch_page_if_asked({entry.url_path: page for entry, page in zip(registry.PAGES, pages)},
                              navigation.url_path)
    work.learner_id()          # kept in the address on every page
    tour.keep_in_address()
    runs.note_activity()
    install_figure_scaling()
    links.hide_controls()     # before the sidebar: a hidden control never flashes into view
    with shown_as_message("sidebar"):
        sidebar()
    classroom_style()        # after the sidebar: the projector toggle's new value counts now
    with shown_as_message("tour"):
        classroom.tour_box()
    with shown_as_message(navigation.url_path or "home"):
        navigation.run()
    # after the page, so it knows what the page drew; still the sidebar's last part
    with shown_as_message("link"), st.sidebar:
        classroom.view_link(navigation.url_path)
    with shown_as_message("work"):
        work.save_changes()
        classroom.unsaved_work_warning()
    if runs.limits().hosted:
        server.forget_this_sessions_unheld_uploads()


if __name__ == "__main__":   # streamlit runs this file as __main__
    main()
