"""app/state.shared(): results computed once for the whole server, never handed to the wrong
model or the wrong inputs (that would show one learner another model's pictures)."""
import json

import pytest
import streamlit as st
import torch

from app import state
from lessons.engine.checkpoint import load_checkpoint, load_shipped_model
from tests.helpers import open_view


@pytest.fixture(autouse=True)
def empty_caches():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_same_inputs_are_computed_once_and_other_inputs_again():
    calls = []

    def square(x, scale=1):
        calls.append(x)
        return {"value": x * x * scale}

    first = state.shared(square, 3)
    assert state.shared(square, 3) is first and calls == [3]
    assert state.shared(square, 4)["value"] == 16
    assert state.shared(square, 3, scale=2)["value"] == 18
    assert calls == [3, 4, 3]


def test_each_checkpoint_is_its_own_key(tiny_checkpoint_bytes):
    # the same file uploaded twice still makes two checkpoints with their own names
    a, b = load_checkpoint(tiny_checkpoint_bytes), load_checkpoint(tiny_checkpoint_bytes)
    assert a.uid != b.uid and len(a.uid) == 32
    layers = lambda checkpoint: checkpoint.model.config.n_layer   # noqa: E731
    shipped = load_shipped_model()
    assert state.shared(layers, shipped) == shipped.model.config.n_layer
    assert state.shared(layers, a) == a.model.config.n_layer != shipped.model.config.n_layer


def test_tensors_are_keyed_by_content_not_identity():
    x = torch.zeros(3, 4)
    y = x.clone()
    y[2, 3] = 1e-6
    assert state._key_part(x) == state._key_part(x.clone())
    assert state._key_part(x) != state._key_part(y)
    assert state._key_part(x) != state._key_part(x.double())
    assert state._key_part(x) != state._key_part(x.reshape(4, 3))
    assert state.shared(torch.sum, x).item() == 0 and state.shared(torch.sum, y).item() > 0


def test_functions_of_the_same_name_on_different_pages_do_not_collide():
    def make(value):
        def picture(_):
            return value
        return picture
    first, second = make("first"), make("second")       # same name, same place: one key
    assert state.shared(first, 1) == "first" and state.shared(second, 1) == "first"
    exec_globals = {}
    exec(compile("def picture(_):\n    return 'other page'\n", "views/other.py", "exec"),
         exec_globals)
    assert state.shared(exec_globals["picture"], 1) == "other page"


def test_an_argument_without_a_safe_key_is_refused():
    with pytest.raises(TypeError, match="cannot key"):
        state.shared(len, {1, 2})
    with pytest.raises(TypeError, match="cannot key"):
        state.shared(len, object())


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
