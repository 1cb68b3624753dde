"""Checkpoints: one ``.safetensors`` file holds the weights, and its metadata holds the model
config, the tokenizer, the training config and the metrics, all as JSON.

Never pickle: safetensors stores plain arrays, so loading a file cannot run code. Anything
that is not one of our safetensors files is refused with a ``CheckpointError`` that says why.

Optional weight *snapshots* taken during training (for the "watch it learn" sliders) live in
the same file under ``snapshot.<step>.<name>``, stored in float16 to keep the file small.

A fine-tuned model may carry a new head on its body (``lessons.engine.heads``): its weights
are ``head.<name>`` and its description the ``head`` metadata entry. A file without them (every
file written before heads existed) loads with ``head=None``, as does a config without
``causal``, which loads as the causal model it was.
"""
from __future__ import annotations

import json
import os
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as save_to_bytes

from lessons.errors import LessonError
from lessons.engine.config import ConfigError, ModelConfig, TrainConfig, config_from_dict, config_to_dict
from lessons.engine.heads import head_from_dict
from lessons.engine.model import GPT
from lessons.engine.tokenizers import CharTokenizer, TokenizerError, tokenizer_from_dict

FORMAT = "llm-explorer/1"
TIED = "lm_head.weight"   # the same tensor as token_embedding.weight; stored once
HEAD = "head."            # the prefix of a new head's weights
SNAPSHOT = "snapshot."    # snapshot.<step>.<weight name>


class CheckpointError(LessonError):
    """A file that is not a usable checkpoint; the message is shown to the learner."""


@dataclass
class Checkpoint:
    model: GPT
    tokenizer: object
    train_config: TrainConfig | None = None
    metrics: list[dict] = field(default_factory=list)
    snapshots: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)
    head: torch.nn.Module | None = None       # a head on the body (e.g. a classifier), if any
    # A name no other checkpoint gets, so a page can remember what it drew for this model
    # (app/state/results.py shared()) without hashing its weights. A checkpoint is never changed
    # after it is made: a run's "use this model" is a frozen copy.
    uid: str = field(default_factory=lambda: uuid.uuid4().hex, compare=False, repr=False)

    def snapshot_model(self, step: int) -> GPT:
        """A copy of the model with the weights it had at ``step``."""
        model = GPT(self.model.config)
        _load_weights(model, _body_weights(self.snapshots[step]))
        return model.eval()

    def at_step(self, step: int) -> "Checkpoint":
        """The model as it was at snapshot ``step``, as a checkpoint of its own, so every
        lesson function can look at it: same tokenizer, the metrics up to that step, no
        snapshots. Its uid is this one's plus the step: the same snapshot always gets the same
        name (a page's shared results find it again), and only whoever knows this checkpoint's
        uid can name it.

        >>> ckpt = toy_checkpoint()
        >>> ckpt.snapshots = {0: {k: v.clone() for k, v in ckpt.model.state_dict().items()}}
        >>> early = ckpt.at_step(0)
        >>> early.uid == ckpt.uid + "@0", early.snapshots
        (True, {})
        """
        return Checkpoint(self.snapshot_model(step), self.tokenizer, self.train_config,
                          [m for m in self.metrics if m.get("step", 0) <= step], {},
                          uid=f"{self.uid}@{step}")


def checkpoint_bytes(model: GPT, tokenizer, train_config: TrainConfig | None = None,
                     metrics: list[dict] | None = None,
                     snapshots: dict[int, dict[str, torch.Tensor]] | None = None,
                     head: torch.nn.Module | None = None) -> bytes:
    tensors = {k: v.detach().float().cpu().contiguous()
               for k, v in model.state_dict().items() if k != TIED}
    for k, v in (head.state_dict() if head is not None else {}).items():
        tensors[HEAD + k] = v.detach().float().cpu().contiguous()
    for step, weights in (snapshots or {}).items():
        for k, v in weights.items():
            if k != TIED:
                tensors[f"snapshot.{step}.{k}"] = v.detach().half().cpu().contiguous()
    metadata = {
        "format": FORMAT,
        "model_config": json.dumps(config_to_dict(model.config)),
        "tokenizer": json.dumps(tokenizer.to_dict()),
        "train_config": json.dumps(config_to_dict(train_config) if train_config else None),
        "metrics": json.dumps(metrics or []),
    }
    if head is not None:
        metadata["head"] = json.dumps(head.to_dict())
    return save_to_bytes(tensors, metadata=metadata)


def save_checkpoint(path: str, model: GPT, tokenizer, **kwargs) -> None:
    data = checkpoint_bytes(model, tokenizer, **kwargs)
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:       # write then rename: a crash never leaves half a file
        f.write(data)
    os.replace(tmp, path)


MAX_SNAPSHOTS = 64   # far more than any slider needs; bounds what a file can make us hold


@dataclass
class _Described:
    """What a checkpoint's metadata says, checked, before any weight is read."""
    model_config: ModelConfig
    tokenizer: object
    train_config: TrainConfig | None
    metrics: list[dict]
    head: torch.nn.Module | None     # on torch's "meta" device: shapes only, no storage
    head_description: dict | None


def load_checkpoint(source, max_bytes: int | None = None,
                    max_parameters: int | None = None) -> Checkpoint:
    """Load from a path or from bytes (an upload). Raises CheckpointError on anything else.

    The order matters, because a file's metadata is whatever its author wrote: the settings
    are read and type-checked, the parameter count they imply is compared with
    ``max_parameters``, and every tensor's shape (read from the header) with the model's,
    all before a single weight is read or a model is built (issue #22: ``n_layer = 10^9`` in
    a 100 KB file used to build layers until the server ran out of memory)."""
    data = _source_bytes(source, max_bytes)
    with _opened_safetensors(data) as file:
        described = _described(file.metadata() or {})
        _check_parameter_count(described, max_parameters)
        shapes = {key: tuple(file.get_slice(key).get_shape()) for key in file.keys()}
        _check_shapes(shapes, described)
        tensors = {key: file.get_tensor(key) for key in shapes}
    _check_finite(tensors)
    weights = {k: v for k, v in tensors.items() if not k.startswith(SNAPSHOT)}
    model = GPT(described.model_config)
    _load_weights(model, _body_weights(weights))
    head = None
    if described.head_description is not None:
        head = head_from_dict(described.head_description)
        _load_weights(head, {k[len(HEAD):]: v for k, v in weights.items() if k.startswith(HEAD)})
        head.eval()
    return Checkpoint(model.eval(), described.tokenizer, described.train_config,
                      described.metrics, _group_snapshots(tensors), head)


def parameter_count(config: ModelConfig, head: torch.nn.Module | None = None) -> int:
    """Trainable parameters of ``GPT(config)`` (the tied output matrix once), worked out from
    the settings alone, so a model too big for the server is refused before it exists.

    Per block: two LayerNorms (C each, +C bias), qkv (3C x C), out (C x C), MLP (4C x C and
    C x 4C), plus 11C of biases when ``bias``. V = vocabulary, T = block size, L = layers.

    >>> parameter_count(ModelConfig(vocab_size=10, block_size=4, n_layer=1, n_head=1, n_embd=2))
    106
    """
    V, T, L, C, b = (config.vocab_size, config.block_size, config.n_layer, config.n_embd,
                     int(config.bias))
    per_block = 12 * C * C + 2 * C + 11 * b * C
    body = V * C + T * C + L * per_block + C + b * C
    return body + (sum(p.numel() for p in head.parameters()) if head is not None else 0)


def _source_bytes(source, max_bytes: int | None) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        if max_bytes is not None and len(source) > max_bytes:
            raise CheckpointError("file_too_big", size_mb=len(source) / 1e6, limit_mb=max_bytes / 1e6)
        return bytes(source)
    try:
        with open(source, "rb") as f:
            return f.read()
    except OSError as exc:
        raise CheckpointError("file_unreadable", path=source, reason=exc.strerror) from exc


def _described(metadata: dict) -> _Described:
    if metadata.get("format") != FORMAT:
        raise CheckpointError("ckpt_foreign")
    try:
        model_config = config_from_dict(ModelConfig, json.loads(metadata["model_config"]))
        tokenizer = tokenizer_from_dict(json.loads(metadata["tokenizer"]))
        train_dict = json.loads(metadata.get("train_config") or "null")
        train_config = config_from_dict(TrainConfig, train_dict) if train_dict is not None else None
        metrics = _checked_metrics(json.loads(metadata.get("metrics") or "[]"))
        head_description = json.loads(metadata["head"]) if "head" in metadata else None
        head = _meta_head(head_description) if head_description is not None else None
    except CheckpointError:
        raise
    except ConfigError as exc:     # its own message, translated ("n_layer should be a whole number")
        raise CheckpointError(exc.key, **exc.values) from None
    # RecursionError: JSON nested tens of thousands deep; the others: any value of a wrong kind
    except (KeyError, json.JSONDecodeError, TokenizerError, TypeError, AttributeError,
            ValueError, RecursionError) as exc:
        # only the error's kind: its text may quote whatever the file holds
        raise CheckpointError("ckpt_damaged_settings", detail=type(exc).__name__) from None
    if tokenizer.vocab_size != model_config.vocab_size:
        raise CheckpointError("ckpt_vocab_mismatch", tokenizer_vocab=tokenizer.vocab_size,
                              model_vocab=model_config.vocab_size)
    return _Described(model_config, tokenizer, train_config, metrics, head, head_description)


def _meta_head(data) -> torch.nn.Module:
    """The head a description makes, on the meta device (its sizes are checked later)."""
    if not isinstance(data, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1
            for k, v in data.items() if k != "kind"):
        raise TypeError("head sizes")
    with torch.device("meta"):
        return head_from_dict(data)


def _checked_metrics(metrics) -> list[dict]:
    """A list of rows {name: number or None}, each with a whole-number step: what the
    training page's charts and tables read every second."""
    if not isinstance(metrics, list):
        raise CheckpointError("ckpt_bad_metrics", detail=type(metrics).__name__)
    number = (int, float, type(None))
    for index, row in enumerate(metrics):
        if not (isinstance(row, dict) and isinstance(row.get("step"), int)
                and all(isinstance(v, number) and not isinstance(v, bool) for v in row.values())):
            raise CheckpointError("ckpt_bad_metrics", detail=f"row {index + 1}")
    return metrics


def _check_parameter_count(described: _Described, max_parameters: int | None) -> None:
    params = parameter_count(described.model_config, described.head)
    if max_parameters is not None and params > max_parameters:
        raise CheckpointError("ckpt_too_many_parameters", params=f"{params:,}",
                              cap=f"{max_parameters:,}")


def _expected_shapes(described: _Described) -> tuple[dict, dict]:
    """(body shapes, head shapes) of the model the metadata describes, from a model on torch's
    "meta" device, which has shapes but no storage: nothing is allocated."""
    with torch.device("meta"):
        body = GPT(described.model_config)
    body_shapes = {k: tuple(v.shape) for k, v in body.state_dict().items() if k != TIED}
    head = described.head
    head_shapes = {HEAD + k: tuple(v.shape) for k, v in head.state_dict().items()} if head else {}
    return body_shapes, head_shapes


def _check_shapes(shapes: dict[str, tuple], described: _Described) -> None:
    """Every weight, and every snapshot's, must have the shape the model gives it."""
    body, head = _expected_shapes(described)
    weights = {k: v for k, v in shapes.items() if not k.startswith(SNAPSHOT)}
    _compare(weights, {**body, **head})
    snapshots: dict[str, dict[str, tuple]] = {}
    for key, shape in shapes.items():
        if key.startswith(SNAPSHOT):
            step, _, name = key[len(SNAPSHOT):].partition(".")
            if not step.isdigit() or not (name in body or name in head):
                raise CheckpointError("ckpt_bad_snapshots", detail=key[:60])
            snapshots.setdefault(step, {})[name] = shape
    if len(snapshots) > MAX_SNAPSHOTS:
        raise CheckpointError("ckpt_bad_snapshots", detail=f"{len(snapshots)} > {MAX_SNAPSHOTS}")
    for step, snapshot in snapshots.items():
        # a snapshot holds the whole body; a fine-tuned model's also holds its head
        holds_head = any(name in head for name in snapshot)
        try:
            _compare(snapshot, {**body, **head} if holds_head else body)
        except CheckpointError as exc:
            raise CheckpointError("ckpt_bad_snapshots",
                                  detail=f"step {step}: {exc.values['detail']}") from None


def _compare(found: dict[str, tuple], expected: dict[str, tuple]) -> None:
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    wrong = [f"{k}: file {found[k]}, model {expected[k]}"
             for k in expected if k in found and found[k] != expected[k]]
    if missing or unexpected or wrong:
        details = "; ".join(filter(None, [
            f"missing {', '.join(missing[:3])}" if missing else "",
            f"unexpected {', '.join(unexpected[:3])}" if unexpected else "",
            f"wrong shape {', '.join(wrong[:3])}" if wrong else ""]))
        raise CheckpointError("ckpt_wrong_weights", detail=details)


def _check_finite(tensors: dict[str, torch.Tensor]) -> None:
    # NaN or infinity in a weight turns every number a page computes into NaN (and PCA into a
    # LinAlgError); a file that holds them is refused at the door instead.
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError("ckpt_not_finite", name=name)


@contextmanager
def _opened_safetensors(data: bytes):
    """The file opened with safetensors, its header read, no tensor loaded yet."""
    if data[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05") or data[:2] == b"PK":
        raise CheckpointError("ckpt_pickle")
    # safe_open wants a file; a temporary one keeps uploads off any user-chosen path
    with tempfile.NamedTemporaryFile(suffix=".safetensors") as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            file = safe_open(tmp.name, framework="pt")
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise CheckpointError("ckpt_not_safetensors", detail=exc) from exc
        with file:
            yield file


def _body_weights(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The body's weights without a head's (``head.*``)."""
    return {k: v for k, v in weights.items() if not k.startswith(HEAD)}


def _load_weights(model: torch.nn.Module, weights: dict[str, torch.Tensor]) -> None:
    # an in-memory snapshot still holds the tied head; it is the embedding under another name
    weights = {k: v for k, v in weights.items() if k != TIED}
    _compare({k: tuple(v.shape) for k, v in weights.items()},
             {k: tuple(v.shape) for k, v in model.state_dict().items() if k != TIED})
    model.load_state_dict({k: v.float() for k, v in weights.items()}, strict=False)


def _group_snapshots(tensors: dict[str, torch.Tensor]) -> dict[int, dict[str, torch.Tensor]]:
    snapshots: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("snapshot."):
            _, step, name = key.split(".", 2)
            snapshots.setdefault(int(step), {})[name] = value
    return dict(sorted(snapshots.items()))


def toy_checkpoint(text: str = "ab", block_size: int = 4, n_layer: int = 1, n_head: int = 1,
                   n_embd: int = 4, seed: int = 0) -> Checkpoint:
    """An untrained model over a character tokenizer of ``text``: the smallest checkpoint a
    docstring example or a test can hand to a lesson function. Seeded, and torch's global
    random state is left as it was.

    >>> ckpt = toy_checkpoint("ab", n_embd=8, n_head=2)
    >>> ckpt.tokenizer.vocab_size, ckpt.model.config.n_head
    (258, 2)
    """
    tokenizer = CharTokenizer.train(text)
    config = ModelConfig(tokenizer.vocab_size, block_size=block_size, n_layer=n_layer,
                         n_head=n_head, n_embd=n_embd)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return Checkpoint(GPT(config).eval(), tokenizer)


@dataclass(frozen=True)
class ShippedModel:
    """A model that ships in lessons/assets/ (each is re-created by one README command)."""
    key: str           # how the sidebar, the CLI and tests name it
    file: str          # file name in lessons/assets/
    text: str          # the built-in text it was trained on (a key of corpus.BUILTIN_TEXTS)
    language: str      # "en" or "zh": the interface in that language suggests it


# Every shipped model, the default (the one every page opens on) first.
SHIPPED_MODELS: dict[str, ShippedModel] = {
    model.key: model for model in (
        ShippedModel("classroom", "classroom.safetensors", "python_reference", "en"),
        # the same shape trained BERT-style (issue #16): --objective masked
        ShippedModel("masked", "masked.safetensors", "python_reference", "en"),
        # character-level on the Chinese poems (issue #18): make shipped-poems-model
        ShippedModel("poems", "poems.safetensors", "poems_zh", "zh"),
    )
}
DEFAULT_SHIPPED = "classroom"
SHIPPED_MODEL = SHIPPED_MODELS[DEFAULT_SHIPPED].file


def shipped_for_language(language: str) -> str:
    """The shipped model an interface in ``language`` opens on: the first made for it.

    >>> shipped_for_language("en"), shipped_for_language("zh"), shipped_for_language("xx")
    ('classroom', 'poems', 'classroom')
    """
    return next((key for key, model in SHIPPED_MODELS.items() if model.language == language),
                DEFAULT_SHIPPED)


def shipped_model_path(key: str = DEFAULT_SHIPPED) -> str:
    if key not in SHIPPED_MODELS:
        raise KeyError(f"no shipped model {key!r}; known: {', '.join(SHIPPED_MODELS)}")
    return str(resources.files("lessons").joinpath("assets", SHIPPED_MODELS[key].file))


def load_shipped_model(key: str = DEFAULT_SHIPPED) -> Checkpoint:
    """A small model that ships with the project (README); by default the one every page opens on."""
    return load_checkpoint(shipped_model_path(key))
