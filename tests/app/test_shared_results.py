"""app/ui.shared(): results computed once for the whole server, never handed to the wrong
model or the wrong inputs (that would show one learner another model's pictures)."""
import json

import pytest
import streamlit as st
import torch

from app.state.results import key_part
from app.ui import already_shared, shared
from lessons.engine.checkpoint import load_checkpoint, load_shipped_model
from tests.helpers import open_view

CALLS = []


@pytest.fixture(autouse=True)
def empty_caches():
    st.cache_resource.clear()
    CALLS.clear()
    yield
    st.cache_resource.clear()


def square(x, scale=1):
    CALLS.append(x)
    return {"value": x * x * scale}


def layers(checkpoint):
    return checkpoint.model.config.n_layer


def test_only_a_first_computation_says_it_is_working(monkeypatch):
    """Issue #20 item 15: a cold server tells the learner what it is doing, a warm one is quiet."""
    from app.state import results
    said = []
    real_spinner = st.spinner

    def recording_spinner(text, **kwargs):
        said.append(text)
        return real_spinner(text, **kwargs)
    monkeypatch.setattr(results.st, "spinner", recording_spinner)
    results._computed.clear()
    assert not already_shared(square, 5)
    shared(square, 5)
    assert already_shared(square, 5) and not already_shared(square, 6)
    assert not already_shared(square, 5, scale=2)
    shared(square, 5)
    shared(square, 6)
    assert said == [results.t("app.computing_first_time", "en")] * 2 and CALLS == [5, 6]


def test_same_inputs_are_computed_once_and_other_inputs_again():
    first = shared(square, 3)
    assert shared(square, 3) is first and CALLS == [3]
    assert shared(square, 4)["value"] == 16
    assert shared(square, 3, scale=2)["value"] == 18
    assert CALLS == [3, 4, 3]


def test_numbers_of_other_types_are_other_keys():
    # 1, 1.0 and True are equal in Python, so a dict key made of them would mix them up
    assert [shared(repr, v) for v in (1, 1.0, True)] == ["1", "1.0", "True"]


def test_each_checkpoint_is_its_own_key(tiny_checkpoint_bytes):
    # the same file uploaded twice still makes two checkpoints with their own names
    a, b = load_checkpoint(tiny_checkpoint_bytes), load_checkpoint(tiny_checkpoint_bytes)
    assert a.uid != b.uid and len(a.uid) == 32
    shipped = load_shipped_model()
    assert shared(layers, shipped) == shipped.model.config.n_layer
    assert shared(layers, a) == a.model.config.n_layer != shipped.model.config.n_layer


def test_tensors_are_keyed_by_content_not_identity():
    x = torch.zeros(3, 4)
    y = x.clone()
    y[2, 3] = 1e-6
    assert key_part(x) == key_part(x.clone())
    assert key_part(x) != key_part(y)
    assert key_part(x) != key_part(x.double())
    assert key_part(x) != key_part(x.reshape(4, 3))
    assert shared(torch.sum, x).item() == 0 and shared(torch.sum, y).item() > 0


def test_closures_over_different_values_never_share_a_result():
    """The old hole: two closures of one name, made at one place, had one key, so the second
    got the first's result. Now a closure is refused; nothing is computed or handed out."""
    def make(value):
        def picture(_):
            return value
        return picture
    first, second = make("first"), make("second")
    with pytest.raises(TypeError, match=r"refuses the closure .*picture: it captured value"):
        shared(first, 1)
    with pytest.raises(TypeError, match="refuses the closure"):
        shared(second, 1)
    with pytest.raises(TypeError, match="refuses lambdas"):
        shared(lambda _: "third", 1)


def test_functions_of_the_same_name_on_different_pages_do_not_collide():
    results = []
    for page, answer in (("views/one.py", "one"), ("views/other.py", "other")):
        namespace = {"__name__": "__main__"}      # how Streamlit runs a page
        exec(compile(f"def picture(_):\n    return {answer!r}\n", page, "exec"), namespace)
        results.append(shared(namespace["picture"], 1))
    assert results == ["one", "other"]


def test_a_page_function_reading_a_page_variable_is_refused():
    """A page runs once per visitor: a function that reads its variables instead of its
    arguments would compute with one visitor's value and hand it to all."""
    namespace = {"__name__": "__main__", "checkpoint": object(), "STEPS": ("a", "b"), "json": json}
    exec(compile("def steps(_):\n    return json.dumps(STEPS)\n"
                 "def leaky(_):\n    return steps(0) + str(checkpoint)\n"
                 "def calls_leaky(_):\n    return leaky(0)\n", "views/page.py", "exec"), namespace)
    assert shared(namespace["steps"], 1) == '["a", "b"]'       # modules and constants are fine
    for name in ("leaky", "calls_leaky"):
        with pytest.raises(TypeError, match="reads the page variable 'checkpoint'"):
            shared(namespace[name], 1)


class Model:
    def __init__(self, name):
        self.name = name

    def describe(self):
        return self.name


def test_bound_methods_partials_and_callable_objects_are_refused():
    import functools
    with pytest.raises(TypeError, match="bound method str.upper"):
        shared("abc".upper)                    # a C method: "abc" is an input
    with pytest.raises(TypeError, match="plain function, not a method"):
        shared(Model("mine").describe)          # self is an input
    with pytest.raises(TypeError, match="plain function, not a functools.partial"):
        shared(functools.partial(square, 2))


def test_an_argument_without_a_safe_key_is_refused():
    with pytest.raises(TypeError, match="cannot key"):
        shared(len, {1, 2})
    with pytest.raises(TypeError, match="cannot key"):
        shared(len, object())


def test_a_long_text_enters_the_key_as_a_digest():
    corpus = "To be, or not to be. " * 22_000          # ~460 KB, like the embedded corpus
    part = key_part(corpus)
    assert part[0] == "str-sha256" and part[1] == len(corpus) and len(repr(part)) < 120
    assert key_part(corpus[:-1] + "!") != part
    assert shared(len, corpus) == len(corpus) and shared(len, corpus[:-1] + "!") == len(corpus)


def test_attention_page_follows_the_active_model(tiny_checkpoint_bytes):
    """The page draws from the shared results: switching to another model must redraw, not
    show the shipped model's cached grid."""
    def grid_shape(at):
        chart = next(c for c in at.get("plotly_chart") if "attention_grid" in str(c.proto.id))
        spec = json.loads(chart.proto.spec)
        return len(spec["data"])

    shipped = load_shipped_model()
    at = open_view("attention")
    assert not at.exception
    assert grid_shape(at) == shipped.model.config.n_layer * shipped.model.config.n_head
    tiny = load_checkpoint(tiny_checkpoint_bytes)
    other = open_view("attention", checkpoint=tiny)
    assert not other.exception
    assert grid_shape(other) == tiny.model.config.n_layer * tiny.model.config.n_head
    assert grid_shape(at.run()) == shipped.model.config.n_layer * shipped.model.config.n_head
