"""Model and training settings as frozen dataclasses, plus the named presets.

A preset is a pair (ModelConfig, TrainConfig). Everything the app, the CLI, the notebooks
and the tests train goes through one of these, so a number in the README can always be
reproduced by naming its preset.

>>> model, train = PRESETS["tiny"]
>>> model.n_layer, train.max_iters
(1, 60)
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from lessons.errors import LessonError


class ConfigError(LessonError):
    """A setting that cannot work (e.g. heads that do not divide the width)."""


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 96
    block_size: int = 64      # longest context the model sees, in tokens
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128         # embedding width; each head gets n_embd // n_head
    dropout: float = 0.0
    bias: bool = True         # biases in Linear layers and LayerNorms
    # True: GPT-style, position i sees positions <= i (a next-token predictor).
    # False: BERT-style, every position sees the whole sequence (a masked-token predictor).
    # A checkpoint saved before this field existed loads as causal, which it was.
    causal: bool = True

    def __post_init__(self):
        checks = [
            (self.vocab_size >= 2, "cfg_vocab"),
            (self.block_size >= 1, "cfg_block"),
            (self.n_layer >= 1, "cfg_layers"),
            (self.n_head >= 1, "cfg_heads"),
            (self.n_embd >= 1, "cfg_width"),
            (self.n_embd % max(self.n_head, 1) == 0, "cfg_heads_divide_width"),
            (0.0 <= self.dropout < 1.0, "cfg_dropout"),
        ]
        _raise_first_failure(checks, width=self.n_embd, heads=self.n_head)

    @property
    def head_size(self) -> int:
        return self.n_embd // self.n_head


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int = 12
    max_iters: int = 2000
    learning_rate: float = 1e-3
    min_lr: float = 1e-4          # the cosine schedule ends here
    warmup_iters: int = 100
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0        # 0 turns clipping off
    eval_interval: int = 250
    eval_iters: int = 50          # validation loss = mean over this many batches
    log_interval: int = 10
    seed: int = 1337
    tokenizer: str = "char"       # "char" or "bpe"
    bpe_vocab_size: int = 512     # only used when tokenizer == "bpe"
    snapshot_count: int = 0       # keep this many evenly spaced weight snapshots (0: none)
    optimizer: str = "adamw"      # "adamw", or "muon" for the block matrices (lessons/muon.py)
    muon_lr: float = 0.02         # peak learning rate of the Muon part
    muon_steps: int = 5           # Newton–Schulz iterations per Muon update (fewer: cheaper)
    # char tokenizer: a character seen fewer times than this in the training part gets no token
    # of its own but shares the unknown token □ (1: every character of the text has one)
    min_count: int = 1
    # end with the weights of the evaluation that had the lowest validation loss (the curve
    # still shows every step), and stop after `patience` evaluations without a new lowest (0:
    # run to max_iters)
    keep_best: bool = False
    patience: int = 0

    def __post_init__(self):
        checks = [
            (self.batch_size >= 1, "cfg_batch"),
            (self.max_iters >= 1, "cfg_steps"),
            # `not <= 0` also refuses NaN, which compares false with everything
            (not self.learning_rate <= 0 and math.isfinite(self.learning_rate), "cfg_lr"),
            (self.min_lr >= 0, "cfg_min_lr"),
            (self.warmup_iters >= 0, "cfg_warmup"),
            (self.grad_clip >= 0, "cfg_clip"),
            (self.eval_interval >= 1 and self.eval_iters >= 1 and self.log_interval >= 1,
             "cfg_intervals"),
            (self.tokenizer in ("char", "bpe"), "cfg_tokenizer"),
            (self.bpe_vocab_size >= 257, "cfg_bpe_vocab"),
            (self.snapshot_count >= 0, "cfg_snapshots"),
            (self.optimizer in ("adamw", "muon"), "cfg_optimizer"),
            (self.muon_steps >= 1, "cfg_muon_steps"),
            (self.min_count >= 1, "cfg_min_count"),
            (self.patience >= 0, "cfg_patience"),
        ]
        _raise_first_failure(checks, lr=self.learning_rate)


def _raise_first_failure(checks: list[tuple[bool, str]], **values) -> None:
    for ok, key in checks:
        if not ok:
            raise ConfigError(key, **values)


def config_to_dict(config) -> dict:
    return asdict(config)


def config_from_dict(cls, data: dict):
    """Build a config from a dict, ignoring unknown keys (older/newer checkpoints). A value of
    the wrong type is refused here, before it can reach ``range(n_layer)`` or a tensor shape
    (a checkpoint's metadata is whatever its author wrote).

    >>> config_from_dict(ModelConfig, {"n_layer": 2, "future_setting": 1}).n_layer
    2
    >>> config_from_dict(ModelConfig, {"n_layer": 2.5})
    Traceback (most recent call last):
    lessons.engine.config.ConfigError: the setting n_layer should be a whole number, not 2.5
    """
    if not isinstance(data, dict):
        raise ConfigError("cfg_not_settings", value=_short(data))
    kinds = {f.name: f.type for f in fields(cls)}
    chosen = {k: v for k, v in data.items() if k in kinds}
    for name, value in chosen.items():
        if not _has_type(value, kinds[name]):
            raise ConfigError(f"cfg_type_{kinds[name]}", name=name, value=_short(value))
    return cls(**chosen)


def _has_type(value, kind: str) -> bool:
    """kind is a field's annotation as written (``from __future__ import annotations``).
    subtle: bool is an int in Python, and True layers is not a number anyone meant."""
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "int":
        return isinstance(value, int)
    if kind == "float":
        return isinstance(value, (int, float)) and math.isfinite(value)
    return isinstance(value, str)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# name -> (model, training). vocab_size is a placeholder: the tokenizer sets it.
PRESETS: dict[str, tuple[ModelConfig, TrainConfig]] = {
    # Seconds on a laptop CPU: for tests and the notebooks.
    "tiny": (
        ModelConfig(block_size=32, n_layer=1, n_head=2, n_embd=32),
        TrainConfig(batch_size=8, max_iters=60, learning_rate=3e-3, min_lr=3e-4, warmup_iters=5,
                    eval_interval=20, eval_iters=5, log_interval=10, snapshot_count=3),
    ),
    # The training page's first suggestion (issue 23: the first minute decides whether a class
    # believes the model learns): the speedrun's recipe on the built-in text, so the loss falls
    # from 4.6 to about 1.35 and the samples turn into words within about 15 s on a 2-core CPU.
    "quick-demo": (
        ModelConfig(block_size=32, n_layer=2, n_head=4, n_embd=64),
        TrainConfig(batch_size=64, max_iters=600, learning_rate=1e-2, min_lr=1e-3,
                    warmup_iters=10, weight_decay=0.0, eval_interval=50, eval_iters=10,
                    log_interval=10, snapshot_count=4, optimizer="muon", muon_lr=0.04),
    ),
    # The model that ships with the project (see README for its exact command).
    "classroom": (
        ModelConfig(block_size=128, n_layer=3, n_head=4, n_embd=96),
        TrainConfig(batch_size=32, max_iters=3000, learning_rate=2e-3, min_lr=2e-4,
                    warmup_iters=100, eval_interval=250, eval_iters=50, log_interval=50,
                    snapshot_count=4),
    ),
    # nanoGPT's CPU "baby GPT" (train_shakespeare_char.py with its README's CPU overrides).
    "baby": (
        ModelConfig(block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0, bias=False),
        TrainConfig(batch_size=12, max_iters=2000, learning_rate=1e-3, min_lr=1e-4,
                    warmup_iters=100, eval_interval=250, eval_iters=20, log_interval=10),
    ),
    # Time to quality on CPU (issue 23): the same validation loss as the baby GPT in a fifth of
    # its time. Small and fed well beats big and fed little at this budget: 2 layers 64 wide
    # (an eighth of the baby's weights) see 3,072 tokens a step in windows of 32 (attention over
    # 32 positions costs a quarter of 64's), Muon for the block matrices, and a short cosine.
    "speedrun-cpu": (
        ModelConfig(block_size=32, n_layer=2, n_head=4, n_embd=64, dropout=0.0, bias=False),
        TrainConfig(batch_size=96, max_iters=320, learning_rate=1e-2, min_lr=1e-3,
                    warmup_iters=10, weight_decay=0.0, eval_interval=80, eval_iters=50,
                    log_interval=10, optimizer="muon", muon_lr=0.04),
    ),
    # nanoGPT's GPU config for shakespeare_char.
    "shakespeare-char": (
        ModelConfig(block_size=256, n_layer=6, n_head=6, n_embd=384, dropout=0.2, bias=False),
        TrainConfig(batch_size=64, max_iters=5000, learning_rate=1e-3, min_lr=1e-4,
                    warmup_iters=100, eval_interval=250, eval_iters=200, log_interval=10),
    ),
    # "Train a poet" on the Chinese poems (corpus "poems_zh"): a character model whose samples
    # already break into lines of 5 and 7 characters with ，and 。 (issue 18; the poems
    # preset's shape and tricks, a higher learning rate and 700 steps: 77 % of its lines
    # exactly 5 or 7 against 15 % by chance, 43 s of one CPU thread: README).
    "poet": (
        ModelConfig(block_size=32, n_layer=3, n_head=4, n_embd=96, dropout=0.1),
        TrainConfig(batch_size=16, max_iters=700, learning_rate=5e-3, min_lr=5e-4,
                    warmup_iters=30, eval_interval=100, eval_iters=10, log_interval=10,
                    snapshot_count=4, min_count=4),
    ),
    # The shipped Chinese model (lessons/assets/poems.safetensors; README has its command and
    # figures). The poems are small (34k characters to learn from, half of the 2,700 different
    # characters seen fewer than 4 times), so the model is kept from learning them by heart:
    # rare characters share one unknown token (min_count), a little dropout, small batches
    # (fewer passes over the text per step: the line structure takes about 600 steps to learn,
    # and a batch of 32 has read the poems 20 times by then), and it ends with the weights of
    # its lowest validation loss (keep_best). A 32-character window holds two lines or more:
    # enough to see whether a poem counts 5 or 7.
    "poems": (
        ModelConfig(block_size=32, n_layer=3, n_head=4, n_embd=96, dropout=0.1),
        TrainConfig(batch_size=16, max_iters=1000, learning_rate=3e-3, min_lr=3e-4,
                    warmup_iters=50, eval_interval=100, eval_iters=40, log_interval=50,
                    snapshot_count=4, min_count=4, keep_best=True),
    ),
}


# The built-in text (a key of corpus.BUILTIN_TEXTS) a preset is made for; any other trains on the
# default text. The CLI and the Training page start from it unless told otherwise.
PRESET_TEXTS: dict[str, str] = {"poet": "poems_zh", "poems": "poems_zh"}


def preset_text(name: str) -> str:
    """The built-in text a preset trains on by default.

    >>> preset_text("poet"), preset_text("tiny")
    ('poems_zh', 'python_reference')
    """
    return PRESET_TEXTS.get(name, "python_reference")


def preset(name: str, **overrides) -> tuple[ModelConfig, TrainConfig]:
    """Look up a preset and apply overrides to whichever config has that field."""
    if name not in PRESETS:
        raise ConfigError("cfg_unknown_preset", name=name, choices=", ".join(PRESETS))
    model, train = PRESETS[name]
    model_keys = {f.name for f in fields(ModelConfig)}
    train_keys = {f.name for f in fields(TrainConfig)}
    unknown = set(overrides) - model_keys - train_keys
    if unknown:
        raise ConfigError("cfg_unknown_setting", names=", ".join(sorted(unknown)))
    model = replace(model, **{k: v for k, v in overrides.items() if k in model_keys})
    train = replace(train, **{k: v for k, v in overrides.items() if k in train_keys})
    return model, train
