"""Every worked example in a lessons/ docstring runs and gives the printed value (design
principle 6): a docstring example that drifts from the code fails here."""
import doctest
import importlib
import pkgutil

import pytest

import lessons

MODULES = sorted(m.name for m in pkgutil.walk_packages(lessons.__path__, "lessons.")
                 if m.name != "lessons.train")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
