"""Each page with errata shows them, in en and zh, in the expander "What the source document gets
wrong here"; a page without any shows no such box; the home page lists every erratum, one
expander a post, each naming the page that shows it."""
import pytest

from lessons import errata, registry
from lessons.i18n import LANGUAGES, t
from tests.helpers import assert_page_ok as ok, open_app, open_view

WITH_ERRATA = [slug for slug in errata.slugs() if not registry.lesson(slug).is_home]


def errata_boxes(at, lang):
    return [box for box in at.expander if box.label == t("errata.expander", lang)]


@pytest.mark.parametrize("slug", WITH_ERRATA)
@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_a_page_shows_its_errata(slug, lang):
    at = open_view(slug, lang)
    ok(at)
    box, = errata_boxes(at, lang)
    if any(entry.worked_number for entry in errata.for_slug(slug)):
        assert box.proto.expanded, "a worked number's caveat starts open"
    shown = " ".join(m.value for m in box.markdown)
    for entry in errata.for_slug(slug):
        assert entry.markdown(lang) in shown, (slug, lang, entry.key)
    others = [e for e in errata.ERRATA if e.slug != slug]
    assert not any(e.claim(lang) in shown for e in others), "only this page's errata"


def test_a_page_without_errata_shows_no_box():
    slug = next(e.slug for e in registry.LESSONS if not errata.for_slug(e.slug))
    at = open_view(slug, "en")
    assert not at.exception, [e.value for e in at.exception]    # (its wrong verdicts are st.error)
    assert errata_boxes(at, "en") == []


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_home_lists_every_erratum_by_post(lang):
    at = open_app(lang)
    ok(at)
    assert t("errata.home_heading", lang) in [h.value for h in at.subheader]
    by_post = errata.by_post()
    boxes = {box.label: " ".join(m.value for m in box.markdown) for box in at.expander}
    for post, found in by_post.items():
        shown = boxes[f"{t(f'errata.post_{post}', lang)} ({len(found)})"]
        for entry in found:
            assert entry.markdown(lang) in shown, (post, entry.key)
            if not registry.lesson(entry.slug).is_home:
                page = t(registry.lesson(entry.slug).title_key, lang)
                assert t("errata.shown_on", lang, page=page) in shown, entry.key
