"""The classroom tool in AppTest: work kept for a learner across sessions (a reload is a new
session with the same address), nothing of it for another address, a full disk said so in the
learner's language with nothing saved lost, a teacher's link opening the same view without the
learner's id, and a lesson plan stepping through its pages."""
import doctest
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from streamlit.testing.v1 import AppTest

import app.state.links
from app.panels.quiz import PROGRESS_KEY
from app.projector import PROJECTOR_KEY
from app.state.work import KEPT
from lessons.engine.checkpoint import load_checkpoint
from lessons.hosting.limits import LOCAL
from lessons.hosting import store as store_module
from lessons.hosting.store import WorkStore, default_root, new_learner_id
from lessons.i18n import t
from lessons.plans import load_plan
from tests.helpers import MAIN_SCRIPT, FullDisk, assert_page_ok, files_under, page_markdown


def fresh_app(**params) -> AppTest:
    at = AppTest.from_file(MAIN_SCRIPT, default_timeout=120)
    for name, value in params.items():
        at.query_params[name] = value
    return at


def sidebar_text(at) -> str:
    return " ".join([c.value for c in at.sidebar.caption] + [m.value for m in at.sidebar.markdown])


def test_work_survives_a_new_session_of_the_same_address_only(tiny_checkpoint_bytes):
    first = fresh_app(lang="zh").run()
    learner = first.query_params["learner"]
    assert len(learner) == 22
    # a model of one's own in use and an uploaded run, as the Training page makes them
    checkpoint = load_checkpoint(tiny_checkpoint_bytes)
    first.session_state["active_model"] = ("我的模型", checkpoint)
    first.session_state["active_model_text"] = "tiny text"
    first.session_state["run_book"].add_uploaded(checkpoint, "my-run.safetensors")
    assert {PROGRESS_KEY, PROJECTOR_KEY} <= set(KEPT)        # the keys their owners use
    first.session_state[PROGRESS_KEY] = {"softmax": {"right": 2, "asked": 3}}
    first.session_state[PROJECTOR_KEY] = True
    first.run()
    assert_page_ok(first)

    reloaded = fresh_app(learner=learner).run()          # F5: the address keeps the id
    assert_page_ok(reloaded)
    assert reloaded.session_state["lang"] == "zh"
    assert reloaded.session_state["quiz_progress"] == {"softmax": {"right": 2, "asked": 3}}
    assert reloaded.session_state["projector_on"] is True
    name, model = reloaded.session_state["active_model"]
    assert name == "我的模型" and model.metrics == checkpoint.metrics
    assert "我的模型" in sidebar_text(reloaded) and "tiny text" in sidebar_text(reloaded)
    home = page_markdown(reloaded)          # the home page names the model in use and its text
    assert "我的模型" in home and "tiny text" in home and f"{model.model.num_parameters():,}" in home
    assert "shared/seeds/" in home          # where the source documents are
    book = reloaded.session_state["run_book"]
    assert [r.name for r in book.runs.values()] == ["my-run.safetensors"]
    reloaded.switch_page("views/training.py").run()
    assert_page_ok(reloaded)
    assert any("my-run.safetensors" in str(s.options) for s in reloaded.selectbox)

    stranger = fresh_app().run()
    assert stranger.query_params["learner"] != learner
    assert "active_model" not in stranger.session_state
    assert not stranger.session_state["run_book"].runs
    # settings of the wrong kind (a zip is the learner's to edit) are left out, not fatal
    edited = new_learner_id()
    WorkStore(default_root(), LOCAL).save_settings(
        edited, {"lang": "xx", "shipped_model": "../x", "projector_on": "yes", "quiz_progress": 3})
    opened = fresh_app(learner=edited).run()
    assert_page_ok(opened)
    assert opened.session_state["lang"] == "en" and opened.session_state["shipped_model"] == "classroom"
    assert opened.session_state["projector_on"] is False        # the toggle's own default
    assert "quiz_progress" not in opened.session_state or opened.session_state["quiz_progress"] != 3
    crafted = fresh_app(learner="../" + learner[3:]).run()      # not an id: a new learner
    assert crafted.query_params["learner"] != "../" + learner[3:]
    assert not crafted.session_state["run_book"].runs


def test_a_full_disk_is_said_in_the_learners_language_and_loses_nothing(tiny_checkpoint_bytes,
                                                                         monkeypatch):
    """The disk fills up as the learner picks a model of their own: the sidebar says so at once
    (in their language, no traceback), the settings saved before are untouched and no
    temporary file is left; once there is room again the next click saves the model."""
    checkpoint = load_checkpoint(tiny_checkpoint_bytes)
    for lang in ("en", "zh"):
        at = fresh_app(lang=lang).run()
        learner = at.query_params["learner"]
        at.session_state["quiz_progress"] = {"softmax": {"right": 1, "asked": 1}}
        at.run()                                              # saved: the disk had room
        folder = WorkStore(default_root(), LOCAL).folder(learner)
        before = files_under(folder)
        assert "settings.json" in before
        message = t("errors.store_disk_full", lang)
        with monkeypatch.context() as patched:
            patched.setattr(store_module, "os", FullDisk("write"))
            at.session_state["active_model"] = ("mine", checkpoint)
            at.session_state["active_model_text"] = "tiny text"
            at.run()
            assert_page_ok(at)
            assert [w.value for w in at.sidebar.warning] == [message], lang
            assert files_under(folder) == before               # no half file, no temporary one
            assert at.session_state["active_model"][0] == "mine"  # still in use in this tab
        at.run()                                              # room again: saved, nothing said
        assert_page_ok(at)
        assert message not in [w.value for w in at.sidebar.warning]
        kept = WorkStore(default_root(), LOCAL)
        assert kept.load_active(learner).metrics == checkpoint.metrics
        assert kept.load_settings(learner)["quiz_progress"] == {"softmax": {"right": 1, "asked": 1}}
        assert not [p for p in Path(folder).rglob(".tmp-*")]


def test_hosted_mode_states_the_cap_and_the_expiry(monkeypatch):
    monkeypatch.setenv("LLM_EXPLORER_HOSTED", "1")
    for lang, words in (("en", ("64 MB", "7 days")), ("zh", ("64 MB", "7 天"))):
        at = fresh_app(lang=lang).run()
        assert_page_ok(at)
        assert all(word in sidebar_text(at) for word in words), sidebar_text(at)


def test_a_teacher_link_opens_the_same_view_without_the_learners_id():
    teacher = fresh_app(lang="zh").run()
    teacher.switch_page("views/softmax.py").run()
    teacher.slider(key="softmax_temperature").set_value(0.5).run()
    teacher.text_area(key="softmax_prompt").input("猫坐在").run()
    teacher.sidebar.multiselect(key="link_hide_choice").select("shipped_model").run()
    link = teacher.sidebar.code[-1].value
    parts = urlsplit(link)
    params = dict(parse_qsl(parts.query))
    assert parts.path.endswith("/softmax") and "learner" not in params
    assert teacher.query_params["learner"] not in link
    assert params["lang"] == "zh" and params["model"] == "poems" and params["hide"] == "shipped_model"

    # a crafted link sets only settings widgets: not the learner id, a button, the run book
    planted = fresh_app().run().query_params["learner"]
    crafted = {"w.work_learner": f'"{planted}"', "w.run_book": "1", "w.tr_start": "true"}
    pupil = fresh_app(**params, **crafted)
    pupil.run()
    assert pupil.query_params["learner"] != planted
    assert pupil.session_state["work_learner"] != planted and "tr_start" not in pupil.session_state
    pupil.switch_page("views/softmax.py").run()
    assert_page_ok(pupil)
    assert pupil.slider(key="softmax_temperature").value == 0.5
    assert pupil.text_area(key="softmax_prompt").value == "猫坐在"
    assert pupil.session_state["lang"] == "zh" and pupil.session_state["link_hidden"] == ["shipped_model"]
    assert doctest.testmod(app.state.links).failed == 0


def test_a_lesson_plan_steps_through_its_pages():
    plan = load_plan("intro-45")
    at = fresh_app(plan="intro-45").run()
    assert_page_ok(at)
    assert plan.steps[0].text["en"] in " ".join(m.value for m in at.markdown)
    at.button(key="tour_next").click().run()
    assert_page_ok(at)
    assert at.session_state["tour_step"] == 1
    assert plan.steps[1].text["en"] in " ".join(m.value for m in at.markdown)
    assert at.title[0].value == "Tokenisation" or "token" in at.title[0].value.lower()
    at.button(key="tour_previous").click().run()
    assert at.session_state["tour_step"] == 0
    unknown = fresh_app(plan="../etc", lang="zh").run()
    assert "课程计划" in " ".join(w.value for w in unknown.warning)
