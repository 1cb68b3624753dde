"""The training page: a tiny run from start to curves and samples, stop, divergence, keep and
share, and that runs belong to their session and die with it."""
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.helpers import MAIN_SCRIPT as MAIN
from tests.helpers import wait_for


@pytest.fixture
def training_page():
    at = AppTest.from_file(MAIN, default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page("views/training.py").run()
    assert not at.exception, at.exception
    yield at
    # a session that goes away: Streamlit drops its session-scoped resources, whose on_release
    # stops the training threads (checked by conftest's no_stray_training_threads)
    st.cache_resource.clear()


def wait_until(at, done, timeout=90):
    """Rerun the page every half second until done(at), failing after timeout seconds."""
    def rerun_and_check():
        at.run()
        assert not at.exception, at.exception
        return done(at)
    wait_for(rerun_and_check, timeout, "the training page", interval=0.5)


def start(at, preset_name="tiny", **changes):
    at.selectbox(key="tr_preset").set_value(preset_name).run()
    for key, value in changes.items():
        at.session_state[key] = value
    at.run()
    at.button(key="tr_start").click().run()
    assert not at.exception, at.exception


def test_tiny_run_shows_curves_and_a_sample(training_page):
    at = training_page
    start(at)
    wait_until(at, lambda a: any(s.value and "Finished" in s.value for s in a.success))
    assert any("Training loss" == m.label for m in at.metric)
    assert len(at.get("plotly_chart")) >= 1
    assert at.code, "a generated sample is shown"
    labels = [b.label for b in at.get("download_button")]
    assert "Download checkpoint (.safetensors)" in labels and "Download metrics (CSV)" in labels


def test_a_masked_run_trains_a_bert_style_model_and_shows_its_unmasked_sample(training_page):
    at = training_page
    start(at, tr_objective="masked")
    wait_until(at, lambda a: any(s.value and "Finished" in s.value for s in a.success))
    run = next(iter(at.session_state["run_book"].runs.values()))
    assert run.trainer.model.config.causal is False
    assert any(row.get("val_accuracy") is not None for row in run.metrics)
    assert at.code and all("[MASK]" not in c.value for c in at.code)
    assert run.samples and all("[MASK]" not in text for _, text in run.samples)


def test_stop_mid_run_then_resume(training_page):
    at = training_page
    start(at, tr_steps=5000)
    wait_until(at, lambda a: any(b.label == "Stop" for b in a.button))
    next(b for b in at.button if b.label == "Stop").click().run()
    wait_until(at, lambda a: any(b.label == "Resume" for b in a.button))
    assert any("Status: **stopped**" in c.value for c in at.caption)
    # AppTest reports a bar's value as an integer percent (st.progress(0.004) -> 0): compare
    # the bar with the stopped run's own step, which no longer moves
    run = next(iter(at.session_state["run_book"].runs.values()))
    assert run.status == "stopped" and run.step < 5000
    (bar,) = at.get("progress")
    assert bar.value == int(100 * run.step / 5000) < 100
    assert bar.text.startswith(f"Step {run.step} of 5000")


def test_divergence_stops_by_itself_and_explains(training_page):
    at = training_page
    start(at, tr_lr=10.0, tr_warmup=0, tr_steps=400)
    wait_until(at, lambda a: any("stopped by itself" in e.value for e in a.error))
    assert any("What happened?" in m.value for m in at.markdown)


def test_bad_settings_get_a_message_not_a_traceback(training_page):
    at = training_page
    at.session_state["tr_heads"] = 3      # 3 heads do not divide width 32
    at.run()
    assert not at.exception
    assert any("multiple of the number of heads" in e.value for e in at.error)


def test_two_sessions_do_not_see_each_other(tiny_text):
    first, second = AppTest.from_file(MAIN, default_timeout=120), AppTest.from_file(MAIN, default_timeout=120)
    try:
        for at in (first, second):
            at.run()
            at.switch_page("views/training.py").run()
        start(first)
        second.run()
        assert any("No run yet" in c.value for c in second.caption)
        assert not any("No run yet" in c.value for c in first.caption)
    finally:
        st.cache_resource.clear()


def test_settings_survive_a_visit_to_another_page(training_page):
    at = training_page
    at.session_state["tr_layers"] = 3
    at.run()
    at.switch_page("views/home.py").run()
    at.switch_page("views/training.py").run()
    assert not at.exception
    assert at.slider(key="tr_layers").value == 3


def test_every_page_preset_fits_the_page_widgets_exactly():
    """Picking a preset must train that preset: its learning rate and batch size are options
    of their sliders (a rate between two options was snapped: the poet's 5e-3 ran at 4e-3)."""
    from app.panels.training_setup import BATCH_SIZES, LEARNING_RATES, PAGE_PRESETS
    from lessons.engine.config import PRESETS
    for name in PAGE_PRESETS:
        _, train = PRESETS[name]
        assert train.learning_rate in LEARNING_RATES and train.batch_size in BATCH_SIZES, name
