"""Every translation key written in the code exists in both languages: app/, lessons/ and the
notebooks' code cells are read as syntax trees, and each string of the form "topic.key" whose
topic is a prose file (lessons/prose/en/<topic>.md) must name a section of that file in en and
in zh. A key built at run time from a literal prefix (f"attention.pattern_{name}" or
"training.status_" + status) needs at least one key with that prefix; prose("topic", "key")
calls count as "topic.key".

What this cannot see: keys assembled from two variables (f"{entry.prose}.title": the registry's
keys are checked by tests/unit/test_prose.py), keys a page prefixes itself (T = "embeddings"
then tr("title") -> f"{T}.{key}"), and the errors topic's keys chosen by LessonError("key").
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass

import pytest

from lessons.i18n import LANGUAGES, topic_sections, topics
from tests.helpers import ROOT

TOPICS = frozenset(topics("en"))
FULL_KEY = re.compile(r"([a-z_]+)\.([A-Za-z0-9_]+)")      # fullmatch: "attention.title"
KEY_PREFIX = re.compile(r"([a-z_]+)\.([A-Za-z0-9_]*)")    # fullmatch: "attention.pattern_"
FILE_SUFFIXES = {"py", "md", "ipynb", "json", "csv", "txt", "png", "html", "safetensors"}


@dataclass(frozen=True)
class KeyUse:
    where: str        # file:line
    line: int
    topic: str
    key: str          # the whole key, or the literal start of one built at run time
    is_prefix: bool


def key_uses(source: str, where: str) -> list[KeyUse]:
    """Every translation key, or literal key prefix, in one piece of Python source."""
    tree = ast.parse(source)
    # literal pieces of a longer string: the parts of an f-string, the left of a "+"
    pieces = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
              for part in node.values}
    pieces |= {id(node.left) for node in ast.walk(tree) if isinstance(node, ast.BinOp)}
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in pieces:
            uses += _matches(node.value, FULL_KEY, node, where, is_prefix=False)
        elif isinstance(node, ast.JoinedStr) and node.values:
            uses += _matches(_literal(node.values[0]), KEY_PREFIX, node, where, is_prefix=True)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            uses += _matches(_literal(node.left), KEY_PREFIX, node, where, is_prefix=True)
        elif isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "prose":
            topic, key = (_literal(arg) for arg in (node.args + [None, None])[:2])
            uses += _matches(f"{topic}.{key}", FULL_KEY, node, where, is_prefix=False)
    return sorted(uses, key=lambda use: use.line)      # ast.walk goes breadth first


def _literal(node) -> str | None:
    is_str = isinstance(node, ast.Constant) and isinstance(node.value, str)
    return node.value if is_str else None


def _matches(text, pattern, node, where, is_prefix) -> list[KeyUse]:
    found = pattern.fullmatch(text) if isinstance(text, str) else None
    if not found or found.group(1) not in TOPICS or found.group(2) in FILE_SUFFIXES:
        return []      # "attention.py" is a file name
    return [KeyUse(f"{where}:{node.lineno}", node.lineno, found.group(1), found.group(2),
                   is_prefix)]


def missing_in(use: KeyUse, lang: str) -> bool:
    keys = topic_sections(use.topic, lang)
    return not any(k.startswith(use.key) for k in keys) if use.is_prefix else use.key not in keys


# ---- where the code is ------------------------------------------------------------------------

def code_files() -> list[tuple[str, str]]:
    """(name, Python source) for every module of app/ and lessons/ and every notebook cell."""
    files = [(str(path.relative_to(ROOT)), path.read_text("utf-8"))
             for folder in ("app", "lessons") for path in sorted((ROOT / folder).rglob("*.py"))]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text("utf-8"))["cells"]
        for number, cell in enumerate(cells):
            if cell["cell_type"] == "code":
                files.append((f"{path.relative_to(ROOT)} cell {number}", _python_of(cell)))
    return files


def _python_of(cell) -> str:
    # IPython's %magic and !shell lines are not Python: blank them, keeping line numbers
    lines = "".join(cell["source"]).splitlines()
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)


def all_key_uses() -> list[KeyUse]:
    return [use for name, source in code_files() for use in key_uses(source, name)]


# ---- the checks -------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_key_in_the_code_exists(lang):
    uses = all_key_uses()
    assert len(uses) > 100, "the scanner stopped finding the keys the pages use"
    missing = [f"{u.where}: {u.topic}.{u.key}{'…' if u.is_prefix else ''}"
               for u in uses if missing_in(u, lang)]
    assert not missing, f"not in lessons/prose/{lang}/: " + "; ".join(missing)


def test_the_scanner_finds_each_form_and_catches_a_typo():
    source = '\n'.join([
        'tr("attention.title")',                 # a full key
        'tr("attention.titel")',                 # a typo
        'tr(f"attention.pattern_{kind}")',       # a prefix that exists
        'tr(f"attention.patern_{kind}")',        # a prefix that does not
        'tr("training.status_" + status)',       # a prefix by concatenation
        'state.prose("softmax", "intro")',       # topic and key apart
        'open("attention.py")',                  # not keys: a file name ...
        'import_module("lessons.engine")',       # ... and "lessons" is not a topic
    ])
    uses = key_uses(source, "snippet")
    assert [(u.topic, u.key, u.is_prefix) for u in uses] == [
        ("attention", "title", False), ("attention", "titel", False),
        ("attention", "pattern_", True), ("attention", "patern_", True),
        ("training", "status_", True), ("softmax", "intro", False)]
    assert [u.where for u in uses if missing_in(u, "en")] == ["snippet:2", "snippet:4"]
