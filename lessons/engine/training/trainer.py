"""The trainer. It knows nothing of any UI: it reports each logged step to callbacks, and
whoever listens (a page, a notebook, the CLI, a test) decides what to draw.

``Trainer`` holds everything a run needs (model, tokenizer, objective, optimizer, step
counter), so stopping is just returning from ``train`` and resuming is calling it again.

A run starts from scratch (a fresh model and tokenizer for a text) or from a checkpoint
(``Trainer.from_checkpoint``: continue pre-training, or fine-tune). What it learns is its
*objective* (``objectives.py``: next-token prediction by default, or classification with a new
head on the body); ``freeze`` names the parts that must not change (``parameters.py``).
"""
from __future__ import annotations

import copy
import math
import threading
import time
from dataclasses import replace

import torch

from lessons.errors import LessonError
from lessons.engine.config import ModelConfig, TrainConfig
from lessons.engine.corpus import vocabulary_text
from lessons.engine.decoding import generate, unknown_tokens, unmask
from lessons.engine.devices import pick_device
from lessons.engine.model import GPT
from lessons.engine.tokenizers import MASK, train_tokenizer
from lessons.engine.training.objectives import MaskedToken, NextToken
from lessons.engine.training.parameters import freeze as freeze_parameters, make_optimizer
from lessons.engine.training.schedule import learning_rate_at, snapshot_steps
from lessons.engine.training.status import RunStatus


class Divergence(LessonError):
    """Why a run stopped by itself (kept, not raised: the run ends, the app goes on)."""


class Trainer:
    def __init__(self, model_config: ModelConfig | None, train_config: TrainConfig,
                 text: str | None = None, tokenizer=None, device: str = "auto",
                 val_fraction: float = 0.1, *, model: GPT | None = None, objective=None,
                 head=None, freeze=()):
        """From scratch: ``Trainer(model_config, train_config, text)`` trains a tokenizer on
        the text (unless one is given) and a fresh model of that shape.

        From a model: ``model=`` (trained in place; ``from_checkpoint`` copies one first)
        with its ``tokenizer``; ``model_config`` may then be None. ``objective`` defaults to
        next-token prediction on ``text``; if it wants a new head, ``head`` (one of the same
        shape, e.g. a checkpoint's) is where that head starts. ``freeze``: name prefixes.
        """
        self.train_config = train_config
        self.device = pick_device(device)
        if tokenizer is None:
            if model is not None:
                raise ValueError("a given model needs the tokenizer it was trained with")
            tokenizer = train_tokenizer(train_config.tokenizer,
                                        vocabulary_text(text, train_config.tokenizer,
                                                        train_config.min_count, val_fraction),
                                        train_config.bpe_vocab_size, train_config.min_count)
        self.tokenizer = tokenizer
        if model is None and model_config is None:
            raise ValueError("a fresh model needs a model_config")
        self.model_config = (replace(model_config, vocab_size=tokenizer.vocab_size)
                             if model is None else model.config)
        if self.model_config.vocab_size != tokenizer.vocab_size:
            raise ValueError(f"the tokenizer has {tokenizer.vocab_size} tokens, the model "
                             f"{self.model_config.vocab_size}")
        if objective is None:
            if text is None:
                raise ValueError("give a text to learn, or an objective")
            objective = NextToken.from_text(text, tokenizer, self.model_config.block_size,
                                            val_fraction)
        self.objective = objective

        torch.manual_seed(train_config.seed)   # same seed -> same initial weights
        self.model = (model if model is not None else GPT(self.model_config)).to(self.device)
        self.head = self._start_head(head)
        self.frozen = freeze_parameters(self.named_parameters(remove_duplicate=False), freeze)
        self.optimizer = make_optimizer(self.named_parameters(), train_config, self.device)
        self.batch_generator = torch.Generator().manual_seed(train_config.seed)
        self.step = 0
        self.elapsed_s = 0.0                   # wall time spent training, across resumes
        self.metrics: list[dict] = []
        self.snapshots: dict[int, dict[str, torch.Tensor]] = {}
        self.message = ""
        self.problem: Divergence | None = None   # why the run diverged, translatable
        self.best_step: int | None = None        # keep_best: the evaluation with the lowest
        self.best_val_loss = math.inf            # validation loss so far, and its weights
        self._best_weights: dict[str, torch.Tensor] | None = None

    @classmethod
    def for_objective(cls, objective: str, model_config: ModelConfig, train_config: TrainConfig,
                      text: str, device: str = "auto", val_fraction: float = 0.1) -> "Trainer":
        """A fresh model learning ``text`` the way ``objective`` names: "next" (GPT: predict
        the next token) or "masked" (BERT: its tokenizer gains [MASK], its attention looks
        both ways, and it recovers hidden tokens)."""
        if objective == "next":
            return cls(model_config, train_config, text, device=device, val_fraction=val_fraction)
        if objective != "masked":
            raise ValueError(f"unknown objective {objective!r}: 'next' or 'masked'")
        tokenizer = train_tokenizer(train_config.tokenizer, text,
                                    train_config.bpe_vocab_size).with_special_tokens(MASK)
        config = replace(model_config, causal=False, vocab_size=tokenizer.vocab_size)
        task = MaskedToken.from_text(text, tokenizer, config.block_size, val_fraction)
        return cls(config, train_config, text, tokenizer, device, val_fraction, objective=task)

    @classmethod
    def from_checkpoint(cls, checkpoint, train_config: TrainConfig, text: str | None = None,
                        *, objective=None, freeze=(), device: str = "auto",
                        val_fraction: float = 0.1) -> "Trainer":
        """Continue from a checkpoint's weights and tokenizer: more next-token training on
        ``text``, or fine-tuning for ``objective``. Works on a copy: a checkpoint is shared
        and never changes. A head the checkpoint carries is reused when the objective wants
        one of the same shape."""
        return cls(None, train_config, text, checkpoint.tokenizer, device, val_fraction,
                   model=copy.deepcopy(checkpoint.model), objective=objective,
                   head=copy.deepcopy(checkpoint.head), freeze=freeze)

    def _start_head(self, given):
        head = self.objective.new_head(self.model_config)
        if head is None:
            return None
        if given is not None and given.to_dict() == head.to_dict():
            head.load_state_dict(given.state_dict())
        return head.to(self.device)

    def named_parameters(self, remove_duplicate: bool = True):
        """(name, parameter) for the model, then the head's as ``head.<name>``."""
        yield from self.model.named_parameters(remove_duplicate=remove_duplicate)
        if self.head is not None:
            for name, param in self.head.named_parameters():
                yield f"head.{name}", param

    def _train_mode(self, training: bool) -> None:
        self.model.train(training)
        if self.head is not None:
            self.head.train(training)

    @torch.no_grad()
    def evaluate(self) -> dict:
        """The objective's validation metrics (always on the same batches), e.g. val_loss."""
        was_training = self.model.training
        self._train_mode(False)
        cfg = self.train_config
        batches = self.objective.validation_batches(cfg.batch_size, cfg.eval_iters, cfg.seed + 1,
                                                    self.device)
        metrics = self.objective.evaluate(self.model, self.head, batches)
        self._train_mode(was_training)
        return metrics

    def validation_loss(self) -> float:
        return self.evaluate()["val_loss"]

    def _keep_snapshot(self):
        self.snapshots[self.step] = self._weights()

    def _weights(self) -> dict[str, torch.Tensor]:
        weights = dict(self.model.state_dict())
        if self.head is not None:
            weights.update({f"head.{k}": v for k, v in self.head.state_dict().items()})
        return {k: v.detach().to("cpu", copy=True) for k, v in weights.items()}

    def _note_evaluation(self, measured: dict) -> bool:
        """keep_best: remember the weights if this evaluation is the lowest so far; return
        True when ``patience`` evaluations in a row have not beaten it (time to stop)."""
        val_loss = measured.get("val_loss")
        if not self.train_config.keep_best or val_loss is None:
            return False
        if val_loss < self.best_val_loss:
            self.best_val_loss, self.best_step = val_loss, self.step
            self._best_weights = self._weights()
            return False
        patience = self.train_config.patience
        evaluations_since = (self.step - self.best_step) // self.train_config.eval_interval
        return patience > 0 and evaluations_since >= patience

    def _end_at_best(self) -> None:
        """Put the best evaluation's weights back. The snapshots after it go (the sliders end
        where the model ends) and the best becomes the last snapshot; the loss curve keeps
        every step, so the learner still sees the validation loss climb after it."""
        if self._best_weights is None or self.best_step == self.step:
            return
        self.model.load_state_dict({k: v for k, v in self._best_weights.items()
                                    if not k.startswith("head.")})
        if self.head is not None:
            self.head.load_state_dict({k[len("head."):]: v for k, v in self._best_weights.items()
                                       if k.startswith("head.")})
        if self.snapshots:
            self.snapshots = {s: w for s, w in self.snapshots.items() if s < self.best_step}
            self.snapshots[self.best_step] = self._best_weights

    def train(self, callback=None, stop_event: threading.Event | None = None) -> RunStatus:
        """Run until max_iters, a stop request, or divergence; return how it ended
        (RunStatus.FINISHED, STOPPED or DIVERGED). Calling it again resumes.

        ``callback(metrics: dict)`` gets every logged step: step, train_loss, val_loss (on
        evaluation steps, else None; likewise any other metric the objective reports), lr,
        grad_norm, tokens_per_s, elapsed_s.
        """
        cfg = self.train_config
        keep_at = set(snapshot_steps(cfg))
        self.message = ""
        self._train_mode(True)
        trainable = [p for _, p in self.named_parameters() if p.requires_grad]
        clip = cfg.grad_clip if cfg.grad_clip > 0 else float("inf")
        started = time.perf_counter() - self.elapsed_s
        window_start, window_tokens = time.perf_counter(), 0
        while self.step < cfg.max_iters:
            if stop_event is not None and stop_event.is_set():
                self.message = f"stopped at step {self.step}"
                return RunStatus.STOPPED
            if self.step in keep_at:
                self._keep_snapshot()
            lr = learning_rate_at(self.step, cfg)
            for group in self.optimizer.param_groups:
                group["lr"] = lr * group.get("lr_scale", 1.0)
            batch = self.objective.train_batch(cfg.batch_size, self.batch_generator, self.device)
            loss = self.objective.loss(self.model, self.head, batch)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(trainable, clip).item()
            loss_value = loss.item()
            problem = self._divergence(loss_value, grad_norm)
            if problem:
                self.message, self.problem = str(problem), problem
                self.elapsed_s = time.perf_counter() - started
                self._record(loss_value, {}, lr, grad_norm, 0.0, callback)
                return RunStatus.DIVERGED
            self.optimizer.step()
            self.step += 1
            window_tokens += batch.n_tokens
            is_last = self.step == cfg.max_iters
            evaluate = self.step % cfg.eval_interval == 0 or is_last
            if self.step % cfg.log_interval == 0 or evaluate:
                measured = self.evaluate() if evaluate else {}
                now = time.perf_counter()
                tokens_per_s = window_tokens / max(now - window_start, 1e-9)
                self.elapsed_s = now - started
                self._record(loss_value, measured, lr, grad_norm, tokens_per_s, callback)
                window_start, window_tokens = time.perf_counter(), 0
                if self._note_evaluation(measured):
                    break                      # patience ran out: stop early
        if self.step in keep_at:
            self._keep_snapshot()
        self.elapsed_s = time.perf_counter() - started
        self.message = f"finished {self.step} steps"
        if cfg.keep_best:
            self._end_at_best()
            self.message += f"; weights from step {self.best_step} (lowest validation loss)"
        return RunStatus.FINISHED

    def _divergence(self, loss: float, grad_norm: float) -> Divergence | None:
        if not math.isfinite(loss):
            return Divergence("div_loss_overflow", loss=loss, step=self.step)
        if not math.isfinite(grad_norm):
            return Divergence("div_grad_overflow", grad_norm=grad_norm, step=self.step)
        # A loss far above random guessing (ln vocab for tokens) means the weights have been
        # thrown somewhere useless; better to stop than to burn minutes on it.
        guess = self.objective.chance_loss(self.model_config)
        if self.step > 0 and loss > 4 * guess + 10:
            return Divergence("div_exploded", loss=loss, step=self.step, guess=guess)
        return None

    def _record(self, train_loss, measured: dict, lr, grad_norm, tokens_per_s, callback):
        row = {"step": self.step, "train_loss": train_loss}
        row.update({name: measured.get(name) for name in self.objective.metric_names})
        row.update(lr=lr, grad_norm=grad_norm, tokens_per_s=tokens_per_s,
                   elapsed_s=self.elapsed_s)
        self.metrics.append(row)
        if callback is not None:
            callback(row)

    def sample(self, prompt: str = "", max_new_tokens: int = 200, temperature: float = 0.8,
               top_k: int | None = None, top_p: float | None = None, seed: int = 0,
               repetition: float = 1.0) -> str:
        """Generate text from the current weights (a fixed seed makes it repeatable).

        A masked model cannot write left to right: it gets ``max_new_tokens`` [MASK]s after
        the prompt (within its block) and fills them left to right, two per round."""
        if not self.model_config.causal:
            return self._unmasked_sample(prompt, max_new_tokens)
        ids = self.tokenizer.encode(prompt) or [0]
        idx = torch.tensor([ids], dtype=torch.long, device=self.device)
        generator = torch.Generator(device=self.device).manual_seed(seed)
        # an early model happily emits byte tokens it never saw, which decode to '�'; and the
        # unknown token □ (a rare character, no character in particular) cannot be written
        seen = torch.bincount(self.objective.training_ids(), minlength=self.model_config.vocab_size)
        never = ((seen == 0) | unknown_tokens(self.tokenizer, len(seen))).to(self.device)
        out = generate(self.model, idx, max_new_tokens, temperature, top_k, top_p, generator,
                       never, repetition)
        return self.tokenizer.decode(out[0, len(ids) if prompt else 1:].tolist())

    def _unmasked_sample(self, prompt: str, new_tokens: int) -> str:
        block = self.model_config.block_size
        new_tokens = max(1, min(new_tokens, block - 1))
        prompt_ids = self.tokenizer.encode(prompt)[-(block - new_tokens):] if prompt else []
        mask_id = self.tokenizer.special_token_id(MASK)
        specials = list(self.tokenizer.special_tokens().values())
        rounds = unmask(self.model, prompt_ids + [mask_id] * new_tokens, mask_id, specials,
                        per_round=2, order="left_to_right")
        return self.tokenizer.decode(rounds[-1][len(prompt_ids):])
