"""Bad input and faults: every case ends in a clear message in the learner's language, never a
traceback, and nothing the learner made is lost.

The cases and where each is tested (older files already covered some; they stay there):
- empty and huge text ............ test_empty_text_*, test_huge_text_*, test_hosted_text_*
                                   (+ test_tokenization_lesson.test_page_bad_input_*)
- binary, non-UTF-8, zero-byte and over-cap uploads
                                   test_bad_text_uploads_in_the_browser
                                   (+ test_training.test_bad_uploads_get_clear_messages)
- pickle, truncated and wrong-shaped checkpoints
                                   test_bad_checkpoints_in_the_browser (+ test_checkpoint)
- impossible hyper-parameters ..... test_impossible_settings_*
- NaN loss ........................ test_nan_loss_* (+ test_training_page.test_divergence_*)
- a GPU asked for where there is none   test_gpu_asked_for_*
- the session closed mid-training . test_closing_a_tab_frees_its_training_slot
                                   (+ test_training_page.test_session_end_stops_training)
- two tabs of one learner training  test_two_tabs_of_one_learner_train_at_once
"""
from __future__ import annotations

import json
import pickle
import subprocess
import sys

import pytest
import streamlit as st
import torch

from lessons.engine.config import ConfigError, ModelConfig, TrainConfig, preset
from lessons.errors import LessonError
from lessons.hosting.runs import RunBook
from lessons.engine.devices import DeviceError, pick_device
from tests.conftest import (ARTIFACTS, ROOT, full_screenshot, open_view, page_problems,
                            wait_for_app, watched_page)

TEXT_BOXES = [("tokenization", "text_area", "tok_text"), ("attention", "text_input", "attention_text"),
              ("softmax", "text_area", "softmax_prompt"), ("softmax", "text_input", "softmax_logits"),
              ("softmax", "text_input", "softmax_actual")]


@pytest.fixture(autouse=True)
def fresh_caches():
    yield
    st.cache_resource.clear()     # no server-wide queue or model leaks into the next test


def _box(at, kind, key):
    return getattr(at, kind)(key=key)


def _messages(at) -> list[str]:
    return [m.value for kind in ("info", "warning", "error") for m in getattr(at, kind)]


# ---- text ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("view, kind, key", TEXT_BOXES)
def test_empty_text_gets_a_message_and_no_traceback(view, kind, key, lang):
    at = open_view(view, lang)
    _box(at, kind, key).set_value("").run()
    assert not at.exception, [e.value for e in at.exception]
    assert _box(at, kind, key).value == ""
    assert _messages(at), "an empty box should say what to do"


@pytest.mark.parametrize("view, kind, key", TEXT_BOXES)
def test_huge_text_is_kept_in_the_box_and_the_page_still_works(view, kind, key):
    huge = "All the world's a stage. 世界是一个舞台。" * 30_000    # ~1 M characters
    at = open_view(view)
    _box(at, kind, key).set_value(huge).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _box(at, kind, key).value == huge     # locally nothing the learner typed is cut


@pytest.mark.parametrize("view, kind, key", TEXT_BOXES)
def test_hosted_text_boxes_are_capped_by_the_server(monkeypatch, view, kind, key):
    monkeypatch.setenv("LLM_EXPLORER_HOSTED", "1")
    at = open_view(view)
    box = _box(at, kind, key)
    assert box.max_chars == 5_000
    box.set_value("x" * 12_000).run()     # a client that ignores the browser's own cap
    assert not at.exception
    assert len(at.session_state[key]) == 5_000


# ---- settings -------------------------------------------------------------------------------

@pytest.mark.parametrize("make, english, chinese", [
    (lambda: ModelConfig(n_embd=96, n_head=5), "multiple of the number of heads", "整数倍"),
    (lambda: ModelConfig(block_size=0), "block size must be at least 1", "块大小"),
    (lambda: TrainConfig(learning_rate=-0.1), "learning rate must be positive", "学习率"),
    (lambda: TrainConfig(learning_rate=float("nan")), "learning rate must be positive", "学习率"),
    (lambda: TrainConfig(batch_size=0), "batch size", "批大小"),
    (lambda: ModelConfig(dropout=1.5), "dropout", "dropout"),
])
def test_impossible_settings_are_refused_in_both_languages(make, english, chinese):
    with pytest.raises(ConfigError) as caught:
        make()
    assert english in str(caught.value)
    assert chinese in caught.value.in_language("zh")


def test_impossible_settings_on_the_page_in_chinese():
    at = open_view("training", "zh")
    at.session_state["tr_heads"] = 5            # 5 heads do not divide the width 64
    at.run()
    assert not at.exception
    assert any("整数倍" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "tr_start"]     # nothing to start


@pytest.mark.parametrize("args, message", [
    (["--learning-rate", "-1"], "learning rate must be positive"),
    (["--device", "cuda"] if not torch.cuda.is_available() else ["--device", "nonsense"],
     "not available here" if not torch.cuda.is_available() else "invalid choice"),
    (["--data", "/no/such/file.txt"], "cannot read"),
])
def test_the_command_line_says_what_is_wrong_without_a_traceback(tmp_path, args, message):
    done = subprocess.run([sys.executable, "-m", "lessons.train", "--preset", "tiny",
                           "--out", str(tmp_path / "out"), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert message in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


# ---- NaN ------------------------------------------------------------------------------------

def test_nan_loss_stops_the_run_explains_it_and_keeps_the_earlier_run(tiny_text):
    book = RunBook()
    model_cfg, train_cfg = preset("tiny", max_iters=20)
    good = book.start(model_cfg, train_cfg, tiny_text, "tiny")
    good.background.join(60)
    kept = [dict(row) for row in good.metrics]
    bad_cfg = TrainConfig(**{**train_cfg.__dict__, "learning_rate": 1e6, "warmup_iters": 0,
                             "grad_clip": 0.0, "max_iters": 200})
    bad = book.start(model_cfg, bad_cfg, tiny_text, "tiny")
    bad.background.join(60)
    assert bad.status == "diverged" and bad.step < 200
    assert "learning rate" in bad.message_in("en").lower()
    assert "学习率" in bad.message_in("zh")
    assert good.status == "finished" and good.metrics == kept


# ---- devices --------------------------------------------------------------------------------

@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_gpu_asked_for_where_there_is_none():
    with pytest.raises(DeviceError) as caught:
        pick_device("cuda")
    assert "cuda was asked for but is not available here (available: cpu" in str(caught.value)
    assert "没有" in caught.value.in_language("zh")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("lang, words", [("en", "does not have"), ("zh", "没有")])
def test_gpu_remembered_by_a_session_falls_back_to_the_cpu_with_a_note(lang, words):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["device"] = "cuda"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(words in w.value and "cuda" in w.value for w in at.sidebar.warning)
    assert at.sidebar.selectbox(key="device").value == "auto"
    assert any("cpu" in c.value for c in at.sidebar.caption)


def test_lesson_errors_are_value_errors_with_english_text():
    err = LessonError("file_too_big", size_mb=3.0, limit_mb=2.0)
    assert isinstance(err, ValueError)
    assert str(err) == "the file is 3.00 MB; the limit is 2.00 MB"
    assert "上限是 2.00 MB" in err.in_language("zh")


# ---- uploads, in a real browser against the hosted server ------------------------------------

UPLOAD_CASES = {
    "empty.txt": (b"", "the file is empty", "文件是空的"),
    "binary.txt": (bytes(range(256)) * 40, "binary file", "二进制文件"),
    "latin1.txt": ("Ein schönes Lied über Bäume. ".encode("latin-1") * 40, "not UTF-8", "不是 UTF-8"),
    # over the hosted 2,000,000-byte cap, under the file box's own 3 MB: our check answers
    "big.txt": (b"To be, or not to be.\n" * 96_000, "2.02 MB; the limit is 2.00 MB", "上限是 2.00 MB"),
}


def _open_training(pg, url, lang):
    pg.goto(f"{url}/training?lang={lang}")
    wait_for_app(pg)


def _upload(pg, box_text: str, name: str, data: bytes, mime="text/plain"):
    box = pg.locator('[data-testid="stFileUploader"]').filter(has_text=box_text)
    box.locator('input[type="file"]').set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}])


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bad_text_uploads_in_the_browser(hosted_app, page, lang):
    _open_training(page, hosted_app, lang)
    page.locator('[data-testid="stRadio"]').first.get_by_text(
        "My own text file" if lang == "en" else "我自己的文本文件").click()
    page.wait_for_selector('[data-testid="stFileUploader"]')
    for name, (data, english, chinese) in UPLOAD_CASES.items():
        _upload(page, "UTF-8", name, data)
        page.wait_for_selector(f"text={english if lang == 'en' else chinese}", timeout=30_000)
        assert page.get_by_role("button", name="Start training" if lang == "en" else "开始训练").is_disabled()
    full_screenshot(page, ARTIFACTS / f"fault-upload-{lang}.png")
    assert not page_problems(page), page_problems(page)


@pytest.fixture(scope="module")
def bad_checkpoints(tiny_checkpoint_bytes):
    from safetensors.torch import load, save
    header = json.loads(tiny_checkpoint_bytes[8:8 + int.from_bytes(tiny_checkpoint_bytes[:8], "little")])
    metadata = header["__metadata__"]
    wider = json.loads(metadata["model_config"])
    wider["n_embd"] *= 2                       # the file now describes a model twice as wide
    wrong_shape = save(load(tiny_checkpoint_bytes),
                       metadata={**metadata, "model_config": json.dumps(wider)})
    return {
        "model.pt": (pickle.dumps({"weights": [1, 2, 3]}), "pickle", "pickle"),
        "cut.safetensors": (tiny_checkpoint_bytes[: len(tiny_checkpoint_bytes) // 2],
                            "not a valid safetensors file", "不是有效的 safetensors"),
        "wide.safetensors": (wrong_shape, "do not fit the model", "权重与文件中描述的模型不符"),
    }


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bad_checkpoints_in_the_browser(hosted_app, page, bad_checkpoints, lang):
    _open_training(page, hosted_app, lang)
    for name, (data, english, chinese) in bad_checkpoints.items():
        _upload(page, ".safetensors", name, data, mime="application/octet-stream")
        page.wait_for_selector(f"text={english if lang == 'en' else chinese}", timeout=30_000)
    full_screenshot(page, ARTIFACTS / f"fault-checkpoint-{lang}.png")
    assert not page_problems(page), page_problems(page)


# ---- sessions -------------------------------------------------------------------------------

def _choose_preset(pg, label: str):
    pg.locator('[data-testid="stSelectbox"]').filter(has_text="Preset").click()
    pg.get_by_role("option", name=label).click()
    pg.wait_for_timeout(1500)


def _start(pg, preset_label: str):
    _choose_preset(pg, preset_label)
    pg.get_by_role("button", name="Start training").click()


@pytest.mark.browser
def test_two_tabs_of_one_learner_train_at_once(live_app, browser):
    """Two tabs of one browser (shared cookies) are two sessions: both train, each sees its
    own run only, both finish."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        tabs = [watched_page(context) for _ in range(2)]
        for tab in tabs:
            _open_training(tab, live_app, "en")
            _start(tab, "Tiny (seconds; learns little)")
        for i, tab in enumerate(tabs):
            tab.wait_for_selector("text=Finished 60 steps.", timeout=120_000)
            assert tab.get_by_text("Run 2").count() == 0, "a tab sees the other tab's run"
            full_screenshot(tab, ARTIFACTS / f"fault-two-tabs-{i + 1}.png")
            assert not page_problems(tab), page_problems(tab)
    finally:
        context.close()


@pytest.mark.browser
def test_closing_a_tab_frees_its_training_slot(hosted_app, browser):
    """The hosted server trains 2 models at once. Learners A and B train, C waits in the
    queue; A closes the tab, its training stops, and C's starts."""
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(3)]
    try:
        a, b, c = [watched_page(ctx) for ctx in contexts]
        for learner in (a, b):
            _open_training(learner, hosted_app, "en")
            _start(learner, "Baby GPT (nanoGPT's CPU settings, a few minutes)")
            learner.wait_for_selector("text=Status: running", timeout=60_000)
        _open_training(c, hosted_app, "en")
        _start(c, "Baby GPT (nanoGPT's CPU settings, a few minutes)")
        c.wait_for_selector("text=you are number 1 in the queue", timeout=30_000)
        contexts[0].close()                      # A goes away mid-training
        c.wait_for_selector("text=Status: running", timeout=60_000)
        full_screenshot(c, ARTIFACTS / "fault-queue-after-close.png")
        assert not page_problems(c), page_problems(c)
    finally:
        for ctx in contexts[1:]:
            ctx.close()


def test_idle_runs_are_stopped_and_can_be_resumed(tiny_text):
    book = RunBook()
    model_cfg, train_cfg = preset("tiny", max_iters=100_000)
    run = book.start(model_cfg, train_cfg, tiny_text, "tiny")
    book.touch(now=1000.0)
    assert book.stop_if_idle(idle_s=60, now=1059.0) == []        # not idle yet
    assert run.background.running
    assert book.stop_if_idle(idle_s=60, now=1061.0) == [run]
    assert run.status == "stopped" and run.stopped_while_idle
    step = run.step
    book.resume(run.id)
    assert not run.stopped_while_idle
    while run.step <= step:
        pass
    book.stop_all()
    assert run.step > step


def test_a_hosted_session_left_idle_has_its_training_stopped(monkeypatch):
    """Any learner's click sweeps the server for idle sessions; the idle learner's page then
    says what happened and offers Resume."""
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("LLM_EXPLORER_HOSTED", "1")
    idle = open_view("training")
    idle.selectbox(key="tr_preset").set_value("tiny").run()
    idle.session_state["tr_steps"] = 3_000
    idle.run()
    idle.button(key="tr_start").click().run()
    book = idle.session_state["run_book"]
    run = next(iter(book.runs.values()))
    book.last_active -= 31 * 60                 # half an hour without a click
    other = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=120)
    other.run()                                 # someone else opens the app
    run.background.join(30)
    assert run.status == "stopped" and run.stopped_while_idle
    idle.run()
    assert not idle.exception
    assert any("nobody had clicked" in i.value for i in idle.info)
    assert idle.button(key=f"resume_{run.id}")
    book.stop_all()
