"""Every page of the navigation (the registry's list) runs in both languages without an
exception; the home page names every lesson; the language box translates the sidebar."""
import pytest

from lessons import registry
from lessons.engine.checkpoint import SHIPPED_MODELS, load_shipped_model, shipped_for_language
from lessons.i18n import LANGUAGES, t
from tests.cases import page_cases
from tests.helpers import open_app


@pytest.mark.parametrize("slug, lang", page_cases())
def test_page_runs_without_exception(slug, lang):
    at = open_app(lang)
    at.switch_page(registry.lesson(slug).page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, "every page has a title"


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_home_lists_every_lesson_and_the_model(lang):
    at = open_app(lang)
    links = [link.value for link in at.get("page_link")]
    captions = [c.value for c in at.caption]
    for entry in registry.LESSONS:
        assert t(entry.title_key, lang) in links, (entry.slug, links)
        assert t(entry.summary_key, lang) in captions, (entry.slug, captions)
    assert len(links) == len(registry.LESSONS)
    key = shipped_for_language(lang)           # each interface opens on its language's model
    shipped = load_shipped_model(key)
    config = shipped.model.config
    val_loss = [row["val_loss"] for row in shipped.metrics if row.get("val_loss") is not None][-1]
    model = t("app.home_model", lang, name=t(f"app.shipped_model_{key}", lang),
              trained_on=t(f"app.trained_on_{SHIPPED_MODELS[key].text}", lang),
              params=f"{shipped.model.num_parameters():,}",
              layers=config.n_layer, heads=config.n_head, block=config.block_size,
              val_loss=f"{val_loss:.3f}")
    assert model in [m.value for m in at.markdown]
    assert at.selectbox(key="lang").value == lang


def test_language_switch_translates_the_sidebar():
    at = open_app()
    at.selectbox(key="lang").set_value("zh").run()
    assert not at.exception
    assert at.selectbox(key="lang").label == "语言"
