"""The embeddings page in AppTest: pick a token and move the timeline (neighbours against brute
force), a model switch, a BPE model."""
import pytest

from lessons.concepts.embeddings import compute as E
from lessons.engine.checkpoint import checkpoint_bytes, load_checkpoint, load_shipped_model
from tests.helpers import open_view
from tests.references import brute_force_neighbours


def open_page(lang, checkpoint=None):
    return open_view("embeddings", lang, checkpoint)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_pick_a_token_and_move_the_timeline(lang, tiny_checkpoint_bytes):
    checkpoint = load_checkpoint(tiny_checkpoint_bytes)
    at = open_page(lang, checkpoint)
    assert not at.exception, [e.value for e in at.exception]
    tokens = E.token_table(checkpoint.tokenizer)
    cat = next(t.id for t in tokens if t.label == "c")
    at.selectbox(key="embeddings_token").set_value(cat)
    at.slider(key="embeddings_k").set_value(4)
    steps = at.select_slider(key="embeddings_step")
    assert len(steps.options) == len(checkpoint.snapshots)
    last = max(checkpoint.snapshots)
    steps.set_value(last).run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    expected = brute_force_neighbours(checkpoint.model.token_embedding.weight.detach(), cat, 4,
                                      E.visible_ids(tokens))
    assert list(table.iloc[:, 0]) == [tokens[i].label for i, _ in expected]
    step_word = "step" if lang == "en" else "步"
    assert any(f"{last}" in c.value and step_word in c.value.lower() for c in at.caption), \
        [c.value for c in at.caption]
    # the other widgets: 3-D, byte tokens, fixed axes, fewer compared tokens, another lookup id
    at.radio(key="embeddings_dims").set_value(3)
    at.checkbox(key="embeddings_show_bytes").check()
    at.checkbox(key="embeddings_fixed_axes").check()
    at.multiselect(key="embeddings_compare").set_value([cat])
    at.radio(key="embeddings_lookup_index").set_value(2).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.info, "one compared token asks for a second"
    assert any("2" in s.value for s in at.success)


def test_page_survives_a_model_switch(tiny_checkpoint_bytes):
    at = open_page("en")                            # the shipped model
    assert not at.exception, [e.value for e in at.exception]
    shipped = E.visible_ids(E.token_table(load_shipped_model().tokenizer))
    tiny = load_checkpoint(tiny_checkpoint_bytes)
    shipped_id = shipped[-1]                            # a token id the tiny model does not show
    assert shipped_id not in E.visible_ids(E.token_table(tiny.tokenizer))
    at.selectbox(key="embeddings_token").set_value(shipped_id)   # Streamlit must drop these
    at.multiselect(key="embeddings_compare").set_value([shipped_id, shipped[0]])
    at.select_slider(key="embeddings_step").set_value(max(load_shipped_model().snapshots)).run()
    assert at.session_state["embeddings_token"] == shipped_id
    at.session_state["active_model"] = ("tiny", tiny)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    visible = E.visible_ids(E.token_table(tiny.tokenizer))
    assert at.session_state["embeddings_token"] in visible
    assert set(at.session_state["embeddings_compare"]) <= set(visible)
    assert at.session_state["embeddings_step"] in tiny.snapshots


def test_page_with_a_bpe_model(tiny_text):
    from lessons.engine.config import preset
    from lessons.engine.training import Trainer
    model_cfg, train_cfg = preset("tiny", max_iters=4, tokenizer="bpe", bpe_vocab_size=300,
                                  snapshot_count=2)
    trainer = Trainer(model_cfg, train_cfg, tiny_text, device="cpu")
    trainer.train()
    checkpoint = load_checkpoint(checkpoint_bytes(trainer.model, trainer.tokenizer, train_cfg,
                                                  trainer.metrics, trainer.snapshots))
    at = open_page("en", checkpoint)
    assert not at.exception, [e.value for e in at.exception]
    visible = E.visible_ids(E.token_table(checkpoint.tokenizer))
    assert at.selectbox(key="embeddings_token").value in visible
    assert len(at.select_slider(key="embeddings_step").options) == 2
