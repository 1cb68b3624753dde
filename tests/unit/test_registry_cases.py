"""A lesson added to lessons/registry.py becomes a case of every suite that goes lesson by
lesson, with nothing else to edit: shown with a dummy entry, first through the case functions,
then through pytest's own collection of each suite. (The navigation and the home page:
tests/app/test_registry_navigation.py.)"""
import subprocess
import sys

from lessons.i18n import LANGUAGES
from tests.cases import (DUMMY, add_to_registry, notebook_cases, page_cases, payload_cases,
                         prose_cases, text_box_cases)
from tests.helpers import ROOT, load_test_script

# suite file -> how many of its tests the dummy entry adds
SUITES = {
    "tests/app/test_every_page.py": 2,         # runs in en and zh
    "tests/app/test_faults.py": 4,             # its text box: empty (en, zh), huge, hosted cap
    "tests/unit/test_prose.py": 3,             # prose in en and zh, its notebook exists
    "tests/browser/test_every_page.py": 2,     # opens in en and zh (+ screenshot)
    "tests/browser/test_security.py": 1,       # the payload in its first text box
    "tests/notebooks/test_notebooks.py": 2,    # its notebook runs, in en and zh
}


def test_the_case_functions_read_the_registry(monkeypatch):
    def cases():
        return (page_cases(), text_box_cases(), payload_cases(), prose_cases(), notebook_cases(),
                load_test_script().browse_pages())
    before = cases()
    add_to_registry(monkeypatch, DUMMY)
    pages, boxes, payloads, prose, notebooks, browsed = cases()
    assert pages == before[0] + [(DUMMY.slug, lang) for lang in LANGUAGES]
    assert boxes == before[1] + [(DUMMY.slug, "text_area", "dummy_text")]
    assert payloads == before[2] + [(DUMMY.slug, "textarea")]
    assert prose == before[3] + [("dummy_lesson", "dummy_lesson.title", "dummy_lesson.summary")]
    assert notebooks == before[4] + ["99_dummy_lesson.ipynb"]
    assert browsed == before[5] + [DUMMY.slug]


def test_every_suite_collects_the_dummy_lesson():
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           "-p", "tests.dummy_lesson_plugin", "-p", "no:cacheprovider", *SUITES],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    added = {suite: sum(line.startswith(suite + "::") and _names_dummy(line) for line in collected)
             for suite in SUITES}
    assert added == SUITES, collected


def _names_dummy(test_id: str) -> bool:
    return any(name in test_id for name in (DUMMY.slug, DUMMY.prose, DUMMY.notebook))
