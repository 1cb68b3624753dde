"""A lesson plan opened as a guided tour (``?plan=intro-45``, lessons/plans.py): the step's
text above the page, Previous and Next, and each step's page opened with its link's settings.
"""
from __future__ import annotations

import streamlit as st

from app.state import links, session
from lessons.errors import LessonError
from lessons.plans import Plan, load_plan

PLAN_PARAM, STEP_PARAM = "plan", "step"
PLAN_KEY, STEP_KEY = "tour_plan", "tour_step"
GOTO_KEY = "tour_goto"          # the page a Previous/Next click asked for, until it is shown
PROBLEM_KEY = "tour_problem"


def start_once() -> None:
    """On the session's first run: a ``plan`` in the address starts the tour at its ``step``
    (1-based, as the address shows it). Before any widget is drawn."""
    if "tour_checked" in st.session_state:
        return
    st.session_state.tour_checked = True
    name = st.query_params.get(PLAN_PARAM)
    if not name:
        return
    try:
        plan = load_plan(name)
    except LessonError as exc:
        st.session_state[PROBLEM_KEY] = exc
        return
    try:
        step = int(st.query_params.get(STEP_PARAM, "1")) - 1
    except ValueError:
        step = 0
    st.session_state[PLAN_KEY] = plan.name
    go_to(plan, min(max(step, 0), len(plan.steps) - 1))


def current_plan() -> Plan | None:
    name = st.session_state.get(PLAN_KEY)
    return load_plan(name) if name else None


def go_to(plan: Plan, index: int) -> None:
    """Make step ``index`` the current one: its settings now (a button's callback runs before
    the widgets are drawn), its page on this run (switch_page_if_asked)."""
    step = plan.steps[index]
    st.session_state[STEP_KEY] = index
    params = dict(step.params)
    params.setdefault("lang", session.lang())   # a step keeps the learner's language
    st.session_state.pop(links.HIDDEN_KEY, None)
    links.apply_params(params)
    st.session_state[GOTO_KEY] = step.slug


def switch_page_if_asked(pages: dict[str, object], current: str) -> None:
    """After st.navigation: open the step's page if this is not it."""
    wanted = st.session_state.pop(GOTO_KEY, None)
    if wanted is not None and wanted != current and wanted in pages:
        st.switch_page(pages[wanted])


def keep_in_address() -> None:
    if st.session_state.get(PLAN_KEY):
        st.query_params[PLAN_PARAM] = st.session_state[PLAN_KEY]
        st.query_params[STEP_PARAM] = str(st.session_state.get(STEP_KEY, 0) + 1)
