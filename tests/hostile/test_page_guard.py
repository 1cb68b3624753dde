"""Issue #22, item 3: no page shows a traceback. One place (app/ui.py shown_as_message) turns
any exception into a translated message and a log line; the inputs the probe used each get a
message of their own; hosted mode hides Streamlit's exception details."""
from __future__ import annotations

import logging

import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

from lessons.concepts.softmax import compute as sm
from lessons.engine.checkpoint import Checkpoint
from lessons.engine.config import preset
from lessons.engine.corpus import embedded_corpus
from lessons.engine.training import Trainer
from lessons.i18n import t
from tests.helpers import MAIN_SCRIPT, open_view

SECRET = "/srv/secret/path/model.py"


def _shown(at) -> list[str]:
    return [str(e.value) for kind in ("error", "warning", "info", "markdown", "caption")
            for e in getattr(at, kind)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_unexpected_error_on_a_page_is_a_message_and_a_log_line(monkeypatch, caplog, lang):
    def broken(*args, **kwargs):
        raise RuntimeError(f"cannot open {SECRET}")
    monkeypatch.setattr(sm, "target_surprise", broken)
    with caplog.at_level(logging.ERROR, logger="llm_explorer"):
        at = open_view("softmax", lang)
    assert not at.exception, [e.value for e in at.exception]
    expected = t("errors.page_failed", lang, kind="RuntimeError")
    assert expected in [e.value for e in at.error]
    assert not any(SECRET in text for text in _shown(at))
    assert any(SECRET in r.getMessage() or (r.exc_info and SECRET in str(r.exc_info[1]))
               for r in caplog.records)       # the details are on the server, for whoever runs it


def _fragment_script():
    import streamlit as st
    from app.ui import guarded

    @st.fragment
    @guarded
    def view():
        st.write("before")
        raise ZeroDivisionError("inside a fragment")
    view()


def test_a_fragment_that_fails_shows_a_message_not_a_traceback():
    at = AppTest.from_function(_fragment_script, default_timeout=60).run()
    assert not at.exception
    assert at.error[0].value == t("errors.page_failed", "en", kind="ZeroDivisionError")


def test_hosted_mode_hides_exception_details_and_refuses_cache_clearing(monkeypatch):
    from app.state import server
    monkeypatch.setenv("LLM_EXPLORER_HOSTED", "1")
    before = st.get_option("client.showErrorDetails")
    threads = torch.get_num_threads()    # harden() sets this thread's; the test runner's too
    try:
        server.harden()
        assert st.get_option("client.showErrorDetails") == "none"
        assert server.clear_cache_refused()
    finally:
        st.set_option("client.showErrorDetails", before)
        torch.set_num_threads(threads)


def test_an_unknown_preset_sent_by_a_crafted_client_falls_back(monkeypatch):
    at = AppTest.from_file(MAIN_SCRIPT, default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page("views/training.py")
    at.session_state["tr_preset"] = "no-such-preset"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.button(key="tr_start") is not None


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_logits_past_float_range_get_a_message_not_nan(lang):
    at = open_view("softmax", lang)
    at.text_input(key="softmax_logits").set_value("1e308, -1e308")
    at.slider(key="softmax_temperature").set_value(0.1).run()
    assert not at.exception, [e.value for e in at.exception]
    assert t("errors.logits_too_big", lang, limit=f"{sm.MAX_LOGIT:g}") in [e.value for e in at.error]
    assert "nan" not in " ".join(m.value for m in at.metric).lower()


def test_parse_logits_keeps_ordinary_big_numbers():
    assert sm.parse_logits("1000, 999, 998") == [1000.0, 999.0, 998.0]
    with pytest.raises(ValueError):
        sm.parse_logits("1e308, -1e308")


def test_baby_for_ten_steps_then_embeddings():
    """The probe's honest mistake: Training -> Baby, 10 steps -> Use this model -> Embeddings
    (Baby keeps no snapshots, so the timeline has nothing to show)."""
    model, train = preset("baby", max_iters=10, eval_interval=5, eval_iters=1)
    trainer = Trainer(model, train, embedded_corpus()[:20_000])
    trainer.train()
    ckpt = Checkpoint(trainer.model.eval(), trainer.tokenizer, train, list(trainer.metrics),
                      dict(trainer.snapshots))
    at = open_view("embeddings", "en", ckpt)
    assert not at.exception, [e.value for e in at.exception]
    failed = t("errors.page_failed", "en", kind="ValueError")
    assert failed not in [e.value for e in at.error]
    assert t("embeddings.timeline_none", "en") in [i.value for i in at.info]


def _threads_script():
    import streamlit as st
    import torch
    from app.state import server
    server.harden()
    st.write(f"threads={torch.get_num_threads()}")


def test_hosted_pages_use_one_torch_thread(monkeypatch):
    """Page scripts share the cores with other processes; a page's small ops must not wait in
    OpenMP for cores they hold (see app/state/server.py harden)."""
    monkeypatch.setenv("LLM_EXPLORER_HOSTED", "1")
    before = st.get_option("client.showErrorDetails")
    try:
        at = AppTest.from_function(_threads_script, default_timeout=60).run()
        assert [m.value for m in at.markdown] == ["threads=1"]
    finally:
        st.set_option("client.showErrorDetails", before)
