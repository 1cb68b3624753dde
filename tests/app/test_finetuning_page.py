"""The Fine-tuning page in AppTest, en and zh: it opens on the active model with nothing
trained; the measuring section shows the active model's held-out scores; the four methods
train to the end and their table equals scikit-learn on their own predictions; "use this
model" makes the fine-tuned classifier the session's model."""
import pytest
import streamlit as st

from lessons import registry
from lessons.concepts.evaluation.compute import held_out_scores
from lessons.concepts.finetuning import compute as fc
from lessons.concepts.finetuning.data import LabelledData, builtin_dataset
from lessons.engine.checkpoint import SHIPPED_MODELS, shipped_for_language, load_shipped_model
from lessons.engine.corpus import builtin_text
from lessons.i18n import t
from tests.helpers import open_app, open_view, wait_for

sklearn_metrics = pytest.importorskip("sklearn.metrics")


@pytest.fixture
def page(request):
    at = open_view("finetuning", request.param if hasattr(request, "param") else "en")
    assert not at.exception, [e.value for e in at.exception]
    yield at
    # the session goes away: its session-scoped resources are released, which stops the
    # comparison's threads (conftest's no_stray_training_threads checks)
    st.cache_resource.clear()


@pytest.mark.parametrize("page", ["en", "zh"], indirect=True)
def test_the_page_opens_on_the_active_model(page):
    lang = page.session_state["lang"]
    assert page.title[0].value == t("finetuning.title", lang)
    assert t("finetuning.not_started", lang) in [c.value for c in page.caption]
    # the page measures the model the interface opens on, on the text that model learned
    shipped = SHIPPED_MODELS[shipped_for_language(lang)]
    scores = held_out_scores(load_shipped_model(shipped.key), builtin_text(shipped.text))
    shown = {m.label: m.value for m in page.metric}
    assert shown[t("evaluation.metric_perplexity", lang)] == f"{scores.perplexity:.2f}"
    assert shown[t("evaluation.metric_top5", lang)] == f"{scores.top5:.1%}"
    # the built-in set of the page's language is chosen by default
    assert page.radio(key="ft_source").value == f"builtin_{lang}"


@pytest.mark.parametrize("page", ["en", "zh"], indirect=True)
def test_four_methods_train_to_the_end_and_are_scored_honestly(page):
    lang = page.session_state["lang"]
    page.slider(key="ft_steps").set_value(20).run()
    page.button(key="ft_start").click().run()
    assert not page.exception, [e.value for e in page.exception]

    def finished():
        page.run()
        assert not page.exception, [e.value for e in page.exception]
        return page.session_state["ft_comparison"].finished and len(page.dataframe) >= 3
    wait_for(finished, 240, "the four methods", interval=1.0)
    job = page.session_state["ft_comparison"]
    table = page.dataframe[1].value                    # [0]: the data sample; [1]: the scores
    assert len(table) == 4
    for row, method in zip(table.to_dict("records"), ("prompt", "probe", "full", "scratch")):
        result = job.result(method)
        truth = [y for _, y in result.test]
        accuracy = sklearn_metrics.accuracy_score(truth, result.predictions)
        f1 = sklearn_metrics.f1_score(truth, result.predictions, average="macro", zero_division=0)
        assert row[t("evaluation.metric_accuracy", lang)] == round(accuracy, 3)
        assert row[t("evaluation.metric_f1", lang)] == round(f1, 3)
    shown = {m.label: m.value for m in page.metric}
    assert t("finetuning.perplexity_after", lang) in shown


def test_use_this_model_makes_the_classifier_active(page):
    page.slider(key="ft_steps").set_value(20).run()
    page.button(key="ft_start").click().run()

    def finished():
        page.run()
        return page.session_state["ft_comparison"].finished and page.button(key="ft_use") is not None
    wait_for(finished, 240, "the four methods", interval=1.0)
    # what the classifier's last position attends to, for a text of the test split
    assert page.selectbox(key="ft_attends").value in [text for text, _ in page.session_state["ft_comparison"].data.test]
    page.button(key="ft_use").click().run()
    assert not page.exception, [e.value for e in page.exception]
    name, checkpoint = page.session_state["active_model"]
    assert checkpoint.head is not None and checkpoint.head.n_classes == 2
    assert t("finetuning.method_full", "en") in name


@pytest.fixture(scope="module")
def classifier():
    """A fine-tuned classifier (two full fine-tune steps on a slice of the built-in set):
    "use this model" must work on every page, not only this one."""
    data = builtin_dataset("en")
    small = LabelledData(data.labels, data.train[:32], data.validation[:8], data.test[:8])
    base = load_shipped_model()
    return fc.as_checkpoint(fc.run_method(base, small, "full", steps=2), base)


@pytest.mark.parametrize("slug", [entry.slug for entry in registry.PAGES])
def test_every_page_runs_on_the_fine_tuned_model(classifier, slug):
    at = open_app("en", classifier)
    at.switch_page(registry.lesson(slug).page).run()
    assert not at.exception, [e.value for e in at.exception]
    st.cache_resource.clear()


def test_continued_pretraining_draws_both_curves(page):
    page.selectbox(key="ft_text").set_value("poems_zh").run()
    page.slider(key="ft_continued_steps").set_value(20).run()
    page.button(key="ft_continued_start").click().run()
    assert not page.exception, [e.value for e in page.exception]
    pair = page.session_state["ft_continued"]
    pair.join(240)
    page.run()
    assert not page.exception, [e.value for e in page.exception]
    for start in pair.STARTS:
        assert pair.status(start).value == "finished"
        assert any(row.get("val_loss") is not None for row in pair.curves(start))
    figure = page.get("plotly_chart")[-1].proto.spec
    assert t("finetuning.continued_pretrained", "en") in figure
