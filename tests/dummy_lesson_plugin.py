"""A pytest plugin for tests/unit/test_registry_cases.py: `pytest -p tests.dummy_lesson_plugin`
appends tests.cases.DUMMY to the registry before any suite builds its case list."""
from lessons import registry
from tests.cases import DUMMY


def pytest_configure(config):
    registry.LESSONS = [*registry.LESSONS, DUMMY]
    registry.PAGES = [*registry.PAGES, DUMMY]
