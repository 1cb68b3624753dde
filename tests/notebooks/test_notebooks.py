"""Every registry lesson's notebook runs top to bottom, headless and offline (design principle
13). Notebooks are committed without outputs. (That each entry's notebook exists and each
notebook belongs to an entry: tests/unit/test_prose.py.) Every test here is marked slow."""
import json
import os
import re

import nbformat
import pytest
from nbclient import NotebookClient

from tests.cases import notebook_cases
from tests.helpers import ROOT


def _shown_text(nb) -> str:
    """Everything the executed cells showed: printed text, Markdown, HTML, reprs, figures."""
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            for kind, value in output.get("data", {}).items():
                if kind.startswith("text/"):
                    parts.append(value)
                elif kind.endswith("json"):            # a plotly figure: its titles and labels
                    parts.append(json.dumps(value, ensure_ascii=False))
    return "\n".join(p if isinstance(p, str) else "".join(p) for p in parts)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", notebook_cases())
def test_notebook_runs(name, lang, monkeypatch):
    path = ROOT / "notebooks" / name
    nb = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), \
        "commit notebooks without outputs"
    # the kernel inherits this environment: make lessons/ importable from a plain clone
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # the one language setting every notebook reads in its first code cell
    monkeypatch.setenv("LLM_EXPLORER_LANG", lang)
    # notebooks that train read this to train less: here every cell must run, scores are for class
    monkeypatch.setenv("LLM_EXPLORER_QUICK", "1")
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    chinese = re.search(r"[\u4e00-\u9fff]", _shown_text(nb))
    # the English run may show Chinese sample text; the Chinese run must show Chinese prose
    assert lang == "en" or chinese, f"{name} showed no Chinese text with LLM_EXPLORER_LANG=zh"
