"""Every registry lesson's notebook runs top to bottom, headless and offline (design principle
13). Notebooks are committed without outputs. (That each entry's notebook exists and each
notebook belongs to an entry: tests/unit/test_prose.py.) Every test here is marked slow."""
import os

import nbformat
import pytest
from nbclient import NotebookClient

from tests.cases import notebook_cases
from tests.helpers import ROOT


@pytest.mark.parametrize("name", notebook_cases())
def test_notebook_runs(name, monkeypatch):
    path = ROOT / "notebooks" / name
    nb = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), \
        "commit notebooks without outputs"
    # the kernel inherits this environment: make lessons/ importable from a plain clone
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
