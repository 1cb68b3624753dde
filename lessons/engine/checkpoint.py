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


def load_checkpoint(source, max_bytes: int | None = None) -> Checkpoint:
    """Load from a path or from bytes (an upload). Raises CheckpointError on anything else."""
    if isinstance(source, (bytes, bytearray)):
        if max_bytes is not None and len(source) > max_bytes:
            raise CheckpointError("file_too_big", size_mb=len(source) / 1e6, limit_mb=max_bytes / 1e6)
        tensors, metadata = _read_safetensors_bytes(bytes(source))
    else:
        try:
            with open(source, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise CheckpointError("file_unreadable", path=source, reason=exc.strerror) from exc
        tensors, metadata = _read_safetensors_bytes(data)
    if metadata.get("format") != FORMAT:
        raise CheckpointError("ckpt_foreign")
    try:
        model_config = config_from_dict(ModelConfig, json.loads(metadata["model_config"]))
        tokenizer = tokenizer_from_dict(json.loads(metadata["tokenizer"]))
        train_dict = json.loads(metadata.get("train_config") or "null")
        train_config = config_from_dict(TrainConfig, train_dict) if train_dict else None
        metrics = json.loads(metadata.get("metrics") or "[]")
        head = head_from_dict(json.loads(metadata["head"])) if "head" in metadata else None
    except (KeyError, json.JSONDecodeError, ConfigError, TokenizerError, TypeError) as exc:
        raise CheckpointError("ckpt_damaged_settings", detail=exc) from exc
    if tokenizer.vocab_size != model_config.vocab_size:
        raise CheckpointError("ckpt_vocab_mismatch", tokenizer_vocab=tokenizer.vocab_size,
                              model_vocab=model_config.vocab_size)
    weights = {k: v for k, v in tensors.items() if not k.startswith("snapshot.")}
    model = GPT(model_config)
    _load_weights(model, _body_weights(weights))
    if head is not None:
        _load_weights(head, {k[len(HEAD):]: v for k, v in weights.items() if k.startswith(HEAD)})
        head.eval()
    return Checkpoint(model.eval(), tokenizer, train_config, metrics, _group_snapshots(tensors),
                      head)


def _read_safetensors_bytes(data: bytes):
    if data[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05") or data[:2] == b"PK":
        raise CheckpointError("ckpt_pickle")
    # safe_open wants a file; a temporary one keeps uploads off any user-chosen path
    with tempfile.NamedTemporaryFile(suffix=".safetensors") as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            with safe_open(tmp.name, framework="pt") as f:
                metadata = f.metadata() or {}
                tensors = {k: f.get_tensor(k) for k in f.keys()}
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise CheckpointError("ckpt_not_safetensors", detail=exc) from exc
    return tensors, metadata


def _body_weights(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The body's weights without a head's (``head.*``)."""
    return {k: v for k, v in weights.items() if not k.startswith(HEAD)}


def _load_weights(model: torch.nn.Module, weights: dict[str, torch.Tensor]) -> None:
    # an in-memory snapshot still holds the tied head; it is the embedding under another name
    weights = {k: v for k, v in weights.items() if k != TIED}
    expected = {k: v.shape for k, v in model.state_dict().items() if k != TIED}
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    wrong = [f"{k}: file {tuple(weights[k].shape)}, model {tuple(expected[k])}"
             for k in expected if k in weights and weights[k].shape != expected[k]]
    if missing or unexpected or wrong:
        details = "; ".join(filter(None, [
            f"missing {', '.join(missing[:3])}" if missing else "",
            f"unexpected {', '.join(unexpected[:3])}" if unexpected else "",
            f"wrong shape {', '.join(wrong[:3])}" if wrong else ""]))
        raise CheckpointError("ckpt_wrong_weights", detail=details)
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
