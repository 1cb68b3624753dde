"""What a run learns: an *objective* makes the batches and computes the loss.

The ``Trainer`` only runs the loop (learning rate, gradients, clipping, evaluation, snapshots,
stop and resume); everything that depends on the task is here, behind one interface:

- ``train_batch(batch_size, generator, device) -> Batch`` and
  ``validation_batches(batch_size, count, seed, device)`` (always the same batches);
- ``loss(model, head, batch)`` -> a scalar tensor, and ``evaluate(...)`` -> metrics;
- ``new_head(model_config)``: the head this objective trains on the body (None: ``lm_head``);
- ``chance_loss(model_config)``: the loss of guessing uniformly (the divergence guard's scale);
- ``training_ids()``: every token id the training data holds (the sampler never emits others).

``NextToken`` is language modelling, what every model here is pre-trained with.
``Classification`` fine-tunes for a task, one label per text (issue #15). A masked-token
objective (issue #16) is one more class: its ``train_batch`` hides 15 % of the positions
(80 % [MASK], 10 % a random token, 10 % kept) and sets every other target to -100, which
``GPT.forward``'s cross-entropy skips, so its ``loss`` is ``NextToken``'s; it trains a model
with ``ModelConfig(causal=False)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lessons.engine.config import ModelConfig
from lessons.engine.corpus import TokenStream, split_text
from lessons.engine.heads import ClassifierHead


@dataclass
class Batch:
    inputs: torch.Tensor                  # (B, T) token ids
    targets: torch.Tensor                 # (B, T) token ids to predict, or (B,) class labels
    attend: torch.Tensor | None = None    # (B, T) bool: False marks padding
    lengths: torch.Tensor | None = None   # (B,) real tokens in each row of a padded batch

    @property
    def n_tokens(self) -> int:
        """Real tokens in the batch (what tokens per second counts)."""
        return self.inputs.numel() if self.lengths is None else int(self.lengths.sum())


class NextToken:
    """Predict every next token of windows cut from one long text (GPT pre-training)."""

    metric_names = ("val_loss",)

    def __init__(self, train_ids, val_ids, block_size: int):
        self.train_data = TokenStream(train_ids, block_size)
        self.val_data = TokenStream(val_ids, block_size)

    @classmethod
    def from_text(cls, text: str, tokenizer, block_size: int, val_fraction: float = 0.1):
        train_text, val_text = split_text(text, val_fraction)
        return cls(tokenizer.encode(train_text), tokenizer.encode(val_text), block_size)

    def new_head(self, model_config: ModelConfig):
        return None                       # the body's own (tied) lm_head predicts tokens

    def chance_loss(self, model_config: ModelConfig) -> float:
        return math.log(model_config.vocab_size)

    def training_ids(self) -> torch.Tensor:
        return self.train_data.data

    def train_batch(self, batch_size: int, generator: torch.Generator, device) -> Batch:
        return Batch(*self.train_data.batch(batch_size, generator, device))

    def validation_batches(self, batch_size: int, count: int, seed: int, device):
        generator = torch.Generator().manual_seed(seed)
        for _ in range(count):
            yield Batch(*self.val_data.batch(batch_size, generator, device))

    def loss(self, model, head, batch: Batch) -> torch.Tensor:
        return model(batch.inputs, batch.targets)[1]

    @torch.no_grad()
    def evaluate(self, model, head, batches) -> dict:
        losses = [self.loss(model, head, batch).item() for batch in batches]
        return {"val_loss": sum(losses) / len(losses)}


class Classification:
    """One label per text: a head reads the final LayerNorm's output at each text's last
    token and scores ``n_classes`` classes; the loss is the cross-entropy against the label.

    Examples are (token ids, label) pairs, cropped to the block size; a batch pads them on
    the right and tells the model which positions are real (``Batch.attend``).

    >>> task = Classification([([5, 6, 7], 0), ([8], 1)], [([5], 0)], n_classes=2, block_size=4)
    >>> batch = task.batch_of(task.train)
    >>> batch.inputs.tolist(), batch.attend.int().tolist(), batch.targets.tolist()
    ([[5, 6, 7], [8, 0, 0]], [[1, 1, 1], [1, 0, 0]], [0, 1])
    """

    metric_names = ("val_loss", "val_accuracy")

    def __init__(self, train: list[tuple[list[int], int]], val: list[tuple[list[int], int]],
                 n_classes: int, block_size: int, pad_id: int = 0):
        self.n_classes, self.pad_id = n_classes, pad_id
        self.train = self._checked(train, block_size)
        self.val = self._checked(val, block_size)

    @classmethod
    def from_texts(cls, train: list[tuple[str, int]], val: list[tuple[str, int]], tokenizer,
                   n_classes: int, block_size: int):
        """The same from (text, label) pairs, encoded with the model's tokenizer."""
        def encode(pairs):
            return [(tokenizer.encode(text), label) for text, label in pairs]
        return cls(encode(train), encode(val), n_classes, block_size)

    def _checked(self, examples, block_size: int):
        if not examples:
            raise ValueError("a classification task needs examples for training and validation")
        for ids, label in examples:
            if not ids or not 0 <= label < self.n_classes:
                raise ValueError(f"bad example: {len(ids)} tokens, label {label} "
                                 f"(labels are 0..{self.n_classes - 1})")
        # keep the start of a long text: where a text's kind is usually decided
        return [(list(ids[:block_size]), int(label)) for ids, label in examples]

    def new_head(self, model_config: ModelConfig) -> ClassifierHead:
        return ClassifierHead(model_config.n_embd, self.n_classes)

    def chance_loss(self, model_config: ModelConfig) -> float:
        return math.log(self.n_classes)

    def training_ids(self) -> torch.Tensor:
        return torch.tensor([i for ids, _ in self.train for i in ids], dtype=torch.long)

    def batch_of(self, examples, device="cpu") -> Batch:
        lengths = torch.tensor([len(ids) for ids, _ in examples])
        inputs = torch.full((len(examples), int(lengths.max())), self.pad_id, dtype=torch.long)
        for row, (ids, _) in enumerate(examples):
            inputs[row, :len(ids)] = torch.tensor(ids)
        attend = torch.arange(inputs.shape[1])[None, :] < lengths[:, None]      # (B, T)
        labels = torch.tensor([label for _, label in examples])
        return Batch(inputs.to(device), labels.to(device), attend.to(device), lengths.to(device))

    def train_batch(self, batch_size: int, generator: torch.Generator, device) -> Batch:
        picks = torch.randint(len(self.train), (batch_size,), generator=generator)
        return self.batch_of([self.train[i] for i in picks.tolist()], device)

    def validation_batches(self, batch_size: int, count: int, seed: int, device):
        """Every validation example once, in order (``count`` and ``seed`` are not needed)."""
        for start in range(0, len(self.val), batch_size):
            yield self.batch_of(self.val[start:start + batch_size], device)

    def class_logits(self, model, head, batch: Batch) -> torch.Tensor:
        """(B, n_classes) scores for each text of the batch."""
        return head(model.features(batch.inputs, batch.attend), batch.lengths)

    def loss(self, model, head, batch: Batch) -> torch.Tensor:
        return F.cross_entropy(self.class_logits(model, head, batch), batch.targets)

    @torch.no_grad()
    def evaluate(self, model, head, batches) -> dict:
        total_loss, correct, seen = 0.0, 0, 0
        for batch in batches:
            logits = self.class_logits(model, head, batch)
            total_loss += F.cross_entropy(logits, batch.targets, reduction="sum").item()
            correct += int((logits.argmax(-1) == batch.targets).sum())
            seen += len(batch.targets)
        return {"val_loss": total_loss / seen, "val_accuracy": correct / seen}

    @torch.no_grad()
    def predict(self, model, head, ids_list: list[list[int]]) -> list[int]:
        """The likeliest class of each text (token ids, cropped to the block size)."""
        was_training = model.training
        model.eval(), head.eval()
        examples = [(ids[:model.config.block_size], 0) for ids in ids_list]
        batch = self.batch_of(examples, next(model.parameters()).device)
        classes = self.class_logits(model, head, batch).argmax(-1).tolist()
        model.train(was_training), head.train(was_training)
        return classes


# what happened to each position in a masked batch (MaskedToken.corrupt's third tensor)
UNCHANGED, MASKED, RANDOMISED, KEPT = 0, 1, 2, 3


class MaskedToken(NextToken):
    """BERT's masked language modelling: hide some tokens, predict them from both sides.

    Windows are cut from the text as for ``NextToken``, but the target at a position is that
    position's own token. ``rate`` of the positions are chosen; of those 80 % become
    ``[MASK]``, 10 % a random token and 10 % stay as they are (so the model cannot learn that
    only ``[MASK]`` needs predicting), and every other target is -100, which the model's
    cross-entropy skips: the loss counts the chosen positions only. It trains a model with
    ``ModelConfig(causal=False)``, whose tokenizer has the ``[MASK]`` token.

    >>> from lessons.engine.tokenizers import CharTokenizer, MASK
    >>> tok = CharTokenizer.train("abcdefgh").with_special_tokens(MASK)
    >>> task = MaskedToken.from_text("abcdefgh" * 40, tok, block_size=16)
    >>> inputs, targets, kinds = task.corrupt(torch.zeros(1000, 16, dtype=torch.long) + 3,
    ...                                       torch.Generator().manual_seed(0))
    >>> round((kinds > 0).float().mean().item(), 2), bool((targets[kinds == 0] == -100).all())
    (0.15, True)
    """

    metric_names = ("val_loss", "val_accuracy")

    def __init__(self, train_ids, val_ids, block_size: int, mask_id: int, rate: float = 0.15):
        super().__init__(train_ids, val_ids, block_size)
        self.mask_id, self.rate = mask_id, rate
        # random replacements come from the tokens the text really holds: a small char model's
        # vocabulary is mostly byte tokens no text of it uses, which would teach nothing
        self.replacement_ids = torch.unique(self.train_data.data)

    @classmethod
    def from_text(cls, text: str, tokenizer, block_size: int, val_fraction: float = 0.1,
                  rate: float = 0.15):
        from lessons.engine.tokenizers import MASK
        special = tokenizer.special_tokens()
        if MASK not in special:
            raise ValueError("a masked model's tokenizer needs the [MASK] token "
                             "(tokenizer.with_special_tokens(MASK))")
        train_text, val_text = split_text(text, val_fraction)
        return cls(tokenizer.encode(train_text), tokenizer.encode(val_text), block_size,
                   special[MASK], rate)

    def corrupt(self, ids: torch.Tensor, generator: torch.Generator):
        """(inputs, targets, kinds) for a (B, T) batch of token ids: which positions are
        chosen and what each becomes (kinds: UNCHANGED, MASKED, RANDOMISED, KEPT)."""
        draw = torch.rand(ids.shape, generator=generator)
        chosen = draw < self.rate
        # a row with nothing chosen would give an empty loss: choose one position there
        empty = ~chosen.any(dim=1)
        if empty.any():
            forced = torch.randint(ids.shape[1], (int(empty.sum()),), generator=generator)
            chosen[empty.nonzero(as_tuple=True)[0], forced] = True
        fate = torch.rand(ids.shape, generator=generator)
        kinds = torch.full(ids.shape, UNCHANGED, dtype=torch.long)
        kinds[chosen & (fate < 0.8)] = MASKED
        kinds[chosen & (fate >= 0.8) & (fate < 0.9)] = RANDOMISED
        kinds[chosen & (fate >= 0.9)] = KEPT
        picks = torch.randint(len(self.replacement_ids), ids.shape, generator=generator)
        inputs = ids.clone()
        inputs[kinds == MASKED] = self.mask_id
        randomised = kinds == RANDOMISED
        inputs[randomised] = self.replacement_ids[picks[randomised]]
        targets = torch.where(chosen, ids, torch.full_like(ids, -100))
        return inputs, targets, kinds

    def _masked_batch(self, stream, batch_size: int, generator: torch.Generator, device) -> Batch:
        windows, _ = stream.batch(batch_size, generator, "cpu")
        inputs, targets, _ = self.corrupt(windows, generator)
        return Batch(inputs.to(device), targets.to(device))

    def train_batch(self, batch_size: int, generator: torch.Generator, device) -> Batch:
        return self._masked_batch(self.train_data, batch_size, generator, device)

    def validation_batches(self, batch_size: int, count: int, seed: int, device):
        generator = torch.Generator().manual_seed(seed)
        for _ in range(count):
            yield self._masked_batch(self.val_data, batch_size, generator, device)

    @torch.no_grad()
    def evaluate(self, model, head, batches) -> dict:
        """Cross-entropy and accuracy over the chosen positions of the validation batches."""
        total, correct, seen = 0.0, 0, 0
        for batch in batches:
            logits, _ = model(batch.inputs)
            counted = batch.targets != -100
            picked, truth = logits[counted], batch.targets[counted]
            total += F.cross_entropy(picked, truth, reduction="sum").item()
            correct += int((picked.argmax(-1) == truth).sum())
            seen += int(counted.sum())
        return {"val_loss": total / seen, "val_accuracy": correct / seen}
