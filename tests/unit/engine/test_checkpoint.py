import pickle

import pytest
import torch
from safetensors.torch import save

from lessons.engine.checkpoint import CheckpointError, load_checkpoint, load_shipped_model


def test_round_trip(tiny_checkpoint_bytes, tiny_text):
    ckpt = load_checkpoint(tiny_checkpoint_bytes)
    again = load_checkpoint(tiny_checkpoint_bytes)
    idx = torch.tensor([ckpt.tokenizer.encode("the cat sat")])
    assert torch.equal(ckpt.model(idx)[0], again.model(idx)[0])
    assert ckpt.tokenizer.decode(ckpt.tokenizer.encode(tiny_text[:100])) == tiny_text[:100]
    assert ckpt.metrics and ckpt.metrics[-1]["step"] == 30
    assert ckpt.train_config.max_iters == 30


def test_snapshots_survive_and_rebuild_a_model(tiny_checkpoint_bytes):
    ckpt = load_checkpoint(tiny_checkpoint_bytes)
    assert sorted(ckpt.snapshots) == [0, 15, 30]
    last = ckpt.snapshot_model(30)
    # stored in float16: the final snapshot equals the final weights to fp16 precision
    assert torch.allclose(last.token_embedding.weight, ckpt.model.token_embedding.weight, atol=1e-3)


def test_file_round_trip(tmp_path, tiny_checkpoint_bytes):
    path = tmp_path / "m.safetensors"
    path.write_bytes(tiny_checkpoint_bytes)
    assert load_checkpoint(str(path)).model.config.n_layer == 1


def test_pickle_is_refused(tmp_path):
    payload = pickle.dumps({"weights": [1, 2, 3]})
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(payload)
    path = tmp_path / "model.pt"
    torch.save({"a": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(str(path))


def test_truncated_file_is_refused(tiny_checkpoint_bytes):
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_checkpoint(tiny_checkpoint_bytes[: len(tiny_checkpoint_bytes) // 2])


def test_foreign_safetensors_is_refused():
    with pytest.raises(CheckpointError, match="not saved by LLM Explorer"):
        load_checkpoint(save({"w": torch.zeros(3)}))


def test_wrong_shapes_are_refused(tiny_checkpoint_bytes):
    from safetensors import safe_open
    import tempfile
    with tempfile.NamedTemporaryFile() as f:
        f.write(tiny_checkpoint_bytes)
        f.flush()
        with safe_open(f.name, "pt") as st:
            meta, tensors = st.metadata(), {k: st.get_tensor(k) for k in st.keys()}
    tensors["position_embedding.weight"] = torch.zeros(5, 7)
    with pytest.raises(CheckpointError, match="wrong shape"):
        load_checkpoint(save(tensors, metadata=meta))


def test_shipped_model_loads_and_is_small():
    import os
    from lessons.engine.checkpoint import shipped_model_path
    assert os.path.getsize(shipped_model_path()) <= 5 * 1024 * 1024
    ckpt = load_shipped_model()
    assert ckpt.model.num_parameters() > 10_000
    val = [m["val_loss"] for m in ckpt.metrics if m.get("val_loss") is not None]
    assert val and val[-1] < val[0]


def test_snapshot_model_from_a_live_run(tiny_text):
    from lessons.engine.config import preset
    from lessons.hosting.runs import RunBook
    book = RunBook()
    run = book.start(*preset("tiny", max_iters=20), tiny_text, "tiny text", device="cpu")
    run.background.join(60)
    ckpt = book.checkpoint(run.id)          # snapshots straight from the trainer, not a file
    last = ckpt.snapshot_model(20)
    assert torch.equal(last.token_embedding.weight, ckpt.model.token_embedding.weight)


def test_every_shipped_model_loads_and_names_a_builtin_text():
    from lessons.engine.checkpoint import SHIPPED_MODELS
    from lessons.engine.corpus import BUILTIN_TEXTS
    for key, entry in SHIPPED_MODELS.items():
        assert entry.text in BUILTIN_TEXTS, key
        assert load_shipped_model(key).model.num_parameters() > 0
    with pytest.raises(KeyError, match="classroom"):
        load_shipped_model("no-such-model")
