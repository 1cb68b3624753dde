"""The core never imports the UI (design principle 2): every module of the lessons package,
imported in a fresh interpreter, leaves streamlit, IPython and bertviz's own __init__ (which
imports IPython) out of sys.modules, and so does drawing bertviz's views."""
import json
import pkgutil
import subprocess
import sys

import lessons
from tests.helpers import ROOT

UI_PACKAGES = ("streamlit", "IPython", "bertviz")
MODULES = sorted(m.name for m in pkgutil.walk_packages(lessons.__path__, "lessons."))

# Imports the modules named on the command line one by one and prints, as JSON, which UI
# packages each one brought first into sys.modules; then the same for drawing bertviz's views.
PROBE = """
import importlib, json, sys
UI = set(sys.argv[1].split(","))
found, seen = {}, set()

def note(step):
    loaded = {name.split(".")[0] for name in sys.modules} & UI
    if loaded - seen:
        found[step] = sorted(loaded - seen)
        seen.update(loaded)

for name in sys.argv[2:]:
    importlib.import_module(name)
    note(name)
import torch
from lessons.concepts.attention import bertviz
attn = torch.ones(1, 1, 2, 2) / 2
bertviz.head_view_html(attn, ["a", "b"]), bertviz.model_view_html(attn, ["a", "b"])
note("drawing bertviz's views")
print(json.dumps(found))
"""


def test_the_walk_sees_every_module_file():
    # a folder without __init__.py would hide its modules from the walk (and from this guard)
    files = {".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
             for path in (ROOT / "lessons").rglob("*.py")}
    assert files == {"lessons", *MODULES}


def test_no_lessons_module_imports_a_ui_package():
    done = subprocess.run([sys.executable, "-c", PROBE, ",".join(UI_PACKAGES), *MODULES],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == {}, "these bring a UI package into the core"


def test_the_probe_would_see_a_ui_import():
    """The guard can fail: a module that imports streamlit is reported by name."""
    done = subprocess.run([sys.executable, "-c", PROBE, ",".join(UI_PACKAGES), "streamlit.errors"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == {"streamlit.errors": ["streamlit"]}
