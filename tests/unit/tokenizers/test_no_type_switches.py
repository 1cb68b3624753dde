"""Design principle 10: no caller asks which tokenizer it holds. The source of lessons/, app/ and
the notebooks is parsed (ast) and every question about a tokenizer's variant is reported; only
the tokenizers package itself may know its variants."""
import ast
import json

import pytest

from lessons.engine.tokenizers import VARIANTS
from tests.conftest import ROOT

ALLOWED = ROOT / "lessons" / "engine" / "tokenizers"
CLASS_NAMES = {"Tokenizer", *(cls.__name__ for cls in VARIANTS.values())}
KIND_NAMES = set(VARIANTS)
# Names U+FFFD for a different job: repairing browser messages with lone surrogates (issue #22)
BROWSER_MESSAGE_REPAIR = ROOT / "app" / "state" / "server.py"


def _variant_only_attributes() -> set[str]:
    """Names (class or instance) some variants have and others lack: asking whether a tokenizer
    has one is asking which variant it is."""
    samples = [VARIANTS["char"]("ab"), VARIANTS["word"](["a"]), VARIANTS["bpe"].train("ab ab", 258)]
    names = [{n for n in set(dir(type(tok))) | set(vars(tok)) if not n.startswith("_")}
             for tok in samples]
    return set.union(*names) - set.intersection(*names)


VARIANT_ONLY = _variant_only_attributes()


def _names_in(node) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | \
           {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}


def type_switches(source: str) -> list[str]:
    """Every place in the source that asks which tokenizer variant it holds."""
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("isinstance", "issubclass") and len(node.args) == 2 \
                    and _names_in(node.args[1]) & CLASS_NAMES:
                found.append(f"{where}: {node.func.id} against a tokenizer class")
            asked = node.args[1] if len(node.args) >= 2 else None
            if node.func.id in ("hasattr", "getattr") and isinstance(asked, ast.Constant) \
                    and asked.value in VARIANT_ONLY:
                found.append(f"{where}: {node.func.id}(..., {asked.value!r})")
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            kinds = any(isinstance(o, ast.Attribute) and o.attr == "kind" for o in operands)
            constants = {o.value for o in operands if isinstance(o, ast.Constant)}
            constants |= {e.value for o in operands if isinstance(o, (ast.Tuple, ast.List, ast.Set))
                          for e in o.elts if isinstance(e, ast.Constant)}
            if kinds and constants & KIND_NAMES:
                found.append(f"{where}: .kind compared with {sorted(constants & KIND_NAMES)}")
            if any(isinstance(o, ast.Call) and isinstance(o.func, ast.Name) and o.func.id == "type"
                   for o in operands) and set().union(*map(_names_in, operands)) & CLASS_NAMES:
                found.append(f"{where}: type() compared with a tokenizer class")
        if isinstance(node, ast.Attribute) and node.attr == "byte_offset":
            found.append(f"{where}: .byte_offset (the char tokenizer's inside)")
        if isinstance(node, ast.Constant) and "\ufffd" in str(node.value):
            found.append(f"{where}: a '\\ufffd' guess at a piece of a character")
    return found


def _sources():
    for folder in ("lessons", "app"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if ALLOWED not in path.parents:
                yield path, path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        # IPython's own lines (%magic, !shell) are not Python: left out
        yield path, "\n".join(line for cell in code for line in cell.splitlines()
                              if not line.lstrip().startswith(("%", "!")))


def test_no_caller_branches_on_the_tokenizer_variant():
    problems = [f"{path.relative_to(ROOT)} {hit}" for path, source in _sources()
                for hit in type_switches(source)
                if not (path == BROWSER_MESSAGE_REPAIR and "\\ufffd" in hit)]
    assert problems == []


def test_the_scan_reads_every_lesson_and_view():
    scanned = {str(path.relative_to(ROOT)) for path, _ in _sources()}
    assert {"lessons/concepts/embeddings/compute.py", "lessons/concepts/tokenization/compute.py",
            "lessons/concepts/softmax/compute.py", "app/views/tokenization.py"} <= scanned
    assert not any(name.startswith("lessons/engine/tokenizers/") for name in scanned)


@pytest.mark.parametrize("snippet", [
    "if isinstance(tok, BPETokenizer): pass",
    "ok = isinstance(tok, (CharTokenizer, WordTokenizer))",
    "x = tok.kind == 'char'",
    "x = 'bpe' != checkpoint.tokenizer.kind",
    "x = tok.kind in ('char', 'word')",
    "x = type(tok) is CharTokenizer",
    "offset = getattr(tok, 'byte_offset', None)",
    "if hasattr(tok, 'merges'): pass",
    "is_byte = i >= tok.byte_offset",
    "is_byte = '\\ufffd' in tok.decode([i])",
])
def test_the_scan_catches_each_kind_of_switch(snippet):
    assert len(type_switches(snippet)) >= 1, snippet


@pytest.mark.parametrize("snippet", [
    "ok = isinstance(module, nn.Linear)",
    "x = self.kind == 'text_area'",
    "x = view.kind == 'byte'",
    "label = tok.token_label(i)",
    "x = getattr(tok, 'vocab_size')",
])
def test_the_scan_lets_ordinary_code_pass(snippet):
    assert type_switches(snippet) == []
