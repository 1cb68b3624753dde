"""Issue #22, items 2 and 3: checkpoint files crafted by a hostile visitor (or damaged by
accident). Each is refused with a message in both languages, before the model it describes is
built; the size cap counts parameters, not bytes."""
from __future__ import annotations

import json
import math
import tempfile
import time

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save

from lessons.engine.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint, \
    parameter_count, toy_checkpoint
from lessons.engine.config import ModelConfig
from lessons.engine.model import GPT
from lessons.hosting.limits import HOSTED

HOSTED_CAP = HOSTED.max_parameters


def _parts(data: bytes) -> tuple[dict, dict]:
    """(tensors, metadata) of a safetensors file, read with safetensors itself."""
    with tempfile.NamedTemporaryFile(suffix=".safetensors") as tmp:
        tmp.write(data)
        tmp.flush()
        with safe_open(tmp.name, framework="pt") as f:
            return {k: f.get_tensor(k) for k in f.keys()}, dict(f.metadata())


@pytest.fixture(scope="module")
def honest_file() -> bytes:
    ckpt = toy_checkpoint("abc", block_size=4, n_layer=1, n_head=1, n_embd=4)
    snapshot = {k: v.clone() for k, v in ckpt.model.state_dict().items()}
    return checkpoint_bytes(ckpt.model, ckpt.tokenizer, metrics=[{"step": 0, "train_loss": 5.0}],
                            snapshots={0: snapshot})


def crafted(honest: bytes, metadata: dict | None = None, tensors: dict | None = None,
            drop: tuple[str, ...] = ()) -> bytes:
    """The honest file with some metadata entries (given as Python values, written as JSON)
    and some tensors replaced or added."""
    weights, meta = _parts(honest)
    for key, value in (metadata or {}).items():
        meta[key] = value if isinstance(value, str) and key == "raw" else json.dumps(value)
    weights.update(tensors or {})
    for key in drop:
        weights.pop(key)
    return save(weights, metadata=meta)


def _model_config(honest: bytes) -> dict:
    return json.loads(_parts(honest)[1]["model_config"])


def refused(data: bytes, **limits) -> CheckpointError:
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(data, **limits)
    exc = info.value
    english, chinese = exc.in_language("en"), exc.in_language("zh")
    assert english != chinese and "{" not in chinese and "Traceback" not in english
    return exc


# ---- sizes: checked from the settings, before anything is built ----------------------------

@pytest.mark.parametrize("config", [
    ModelConfig(vocab_size=10, block_size=4, n_layer=1, n_head=1, n_embd=2),
    ModelConfig(vocab_size=96, block_size=64, n_layer=2, n_head=4, n_embd=64, bias=False),
    ModelConfig(vocab_size=300, block_size=16, n_layer=3, n_head=2, n_embd=8),
])
def test_parameter_count_from_settings_matches_torch(config):
    assert parameter_count(config) == sum(p.numel() for p in GPT(config).parameters())


@pytest.mark.parametrize("change", [{"n_layer": 10**9}, {"n_layer": 30_000},
                                    {"n_embd": 4096, "n_head": 4}, {"block_size": 10**7}])
def test_a_huge_model_in_a_small_file_is_refused_before_it_is_built(honest_file, change):
    config = {**_model_config(honest_file), **change}
    started = time.perf_counter()
    exc = refused(crafted(honest_file, {"model_config": config}), max_parameters=HOSTED_CAP)
    assert exc.key == "ckpt_too_many_parameters"
    assert time.perf_counter() - started < 2.0     # n_layer 30,000 took 40 s and 2.8 GB


def test_the_cap_counts_parameters_not_bytes(honest_file):
    """21.5 M parameters stored as int8: 21.5 MB, under the 32 MB file cap, 10x the model cap."""
    tokenizer_vocab = _model_config(honest_file)["vocab_size"]
    config = ModelConfig(vocab_size=tokenizer_vocab, block_size=64, n_layer=6, n_head=8, n_embd=544)
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in GPT(config).state_dict().items() if k != "lm_head.weight"}
    int8 = {k: torch.zeros(shape, dtype=torch.int8) for k, shape in shapes.items()}
    _, meta = _parts(honest_file)
    meta["model_config"] = json.dumps({**_model_config(honest_file), **config.__dict__})
    data = save(int8, metadata=meta)
    assert 20e6 < len(data) < HOSTED.max_checkpoint_bytes
    assert parameter_count(config) > 10 * HOSTED_CAP
    exc = refused(data, max_bytes=HOSTED.max_checkpoint_bytes, max_parameters=HOSTED_CAP)
    assert exc.key == "ckpt_too_many_parameters" and "2,000,000" in str(exc)


# ---- settings of the wrong kind -------------------------------------------------------------

def _deep(levels: int):
    value = 0
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("name, metadata", [
    ("layers 2.5", lambda mc: {"model_config": {**mc, "n_layer": 2.5}}),
    ("layers true", lambda mc: {"model_config": {**mc, "n_layer": True}}),
    ("layers as text", lambda mc: {"model_config": {**mc, "n_layer": "3"}}),
    ("model config a list", lambda mc: {"model_config": [1, 2, 3]}),
    ("train config a word", lambda mc: {"train_config": "hello"}),
    ("learning rate infinite", lambda mc: {"train_config": {"learning_rate": 1e999}}),
    ("tokenizer a number", lambda mc: {"tokenizer": 7}),
    ("nested 100k deep", lambda mc: {"model_config": _deep(100_000)}),
    ("metrics nested 50k deep", lambda mc: {"metrics": _deep(50_000)}),
    ("head of a wrong size", lambda mc: {"head": {"kind": "classifier", "n_embd": 2.5,
                                                  "n_classes": 2}}),
])
def test_settings_of_the_wrong_kind_are_refused(honest_file, name, metadata):
    changes = metadata(_model_config(honest_file))
    try:
        data = crafted(honest_file, changes)
    except (RecursionError, ValueError):
        # json.dumps itself cannot write it that deep: write the JSON text by hand
        _, meta = _parts(honest_file)
        key = next(iter(changes))
        meta[key] = "[" * 100_000 + "0" + "]" * 100_000
        data = save(_parts(honest_file)[0], metadata=meta)
    assert refused(data).key in ("ckpt_damaged_settings", "ckpt_bad_metrics", "cfg_not_settings",
                                 "cfg_type_int", "cfg_type_float")


def test_a_setting_of_the_wrong_type_is_named_in_both_languages(honest_file):
    config = {**_model_config(honest_file), "n_layer": 2.5}
    exc = refused(crafted(honest_file, {"model_config": config}))
    assert "n_layer" in exc.in_language("en") and "whole number" in exc.in_language("en")
    assert "n_layer" in exc.in_language("zh") and "整数" in exc.in_language("zh")


@pytest.mark.parametrize("metrics", [{"a": 1}, [1, 2], "rows", [{"step": "x"}],
                                     [{"step": 1, "loss": [1, 2]}], [{"loss": 1.0}]])
def test_metrics_that_are_not_rows_of_numbers_are_refused(honest_file, metrics):
    assert refused(crafted(honest_file, {"metrics": metrics})).key == "ckpt_bad_metrics"


def test_honest_metrics_with_nan_and_none_still_load(honest_file):
    rows = [{"step": 0, "train_loss": float("nan"), "val_loss": None}]
    ckpt = load_checkpoint(crafted(honest_file, {"metrics": rows}))
    assert math.isnan(ckpt.metrics[0]["train_loss"])


# ---- snapshots and weights --------------------------------------------------------------------

def test_snapshot_keys_that_name_no_step_are_refused(honest_file):
    bad = {"snapshot.abc.x": torch.zeros(2)}
    assert refused(crafted(honest_file, tensors=bad)).key == "ckpt_bad_snapshots"


def test_snapshots_of_the_wrong_shape_are_refused(honest_file):
    weights, _ = _parts(honest_file)
    key = "snapshot.0.token_embedding.weight"
    wrong = torch.zeros(weights[key].shape[0], weights[key].shape[1] + 1, dtype=torch.float16)
    assert refused(crafted(honest_file, tensors={key: wrong})).key == "ckpt_bad_snapshots"


def test_a_snapshot_missing_a_weight_is_refused(honest_file):
    data = crafted(honest_file, drop=("snapshot.0.ln_final.weight",))
    assert refused(data).key == "ckpt_bad_snapshots"


@pytest.mark.parametrize("bad_value", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("key", ["token_embedding.weight", "snapshot.0.blocks.0.attn.qkv.weight"])
def test_weights_that_are_not_numbers_are_refused(honest_file, key, bad_value):
    weights, _ = _parts(honest_file)
    poisoned = weights[key].clone()
    poisoned.view(-1)[0] = bad_value
    exc = refused(crafted(honest_file, tensors={key: poisoned}))
    assert exc.key == "ckpt_not_finite" and key in str(exc)


def test_the_honest_file_still_loads(honest_file):
    ckpt = load_checkpoint(honest_file, max_parameters=HOSTED_CAP)
    assert list(ckpt.snapshots) == [0] and ckpt.metrics == [{"step": 0, "train_loss": 5.0}]
