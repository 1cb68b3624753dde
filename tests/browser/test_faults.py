"""Faults in a real browser against the server: bad uploads and checkpoints get their message in
both languages, two tabs of one learner train at once, a closed tab frees its training slot.
The map of every fault case is in tests/unit/test_faults.py."""
from __future__ import annotations

import json
import pickle

import pytest

from tests.browser.helpers import (ARTIFACTS, full_screenshot, page_problems, wait_for_app,
                                   watched_page)

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


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bad_text_uploads_in_the_browser(hosted_app, page, lang):
    _open_training(page, hosted_app, lang)
    page.locator('[data-testid="stRadio"]').first.get_by_text(
        "My own text file" if lang == "en" else "我自己的文本文件").click()
    # the training page's box (the sidebar's "Your work" box has a closed one of its own)
    page.locator('[data-testid="stFileUploader"]').filter(has_text="UTF-8").wait_for()
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
