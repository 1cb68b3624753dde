"""The training lesson's quiz: the size of the active model, and a question only a run can
answer: does half the learning rate end a short run higher or lower?"""
from __future__ import annotations

from dataclasses import replace

from lessons.engine.config import preset
from lessons.engine.training import Trainer
from lessons.i18n import t
from lessons.quiz import Question, question, with_distractors

STEPS = 40                  # two runs of a tiny model: a few seconds on a laptop CPU
TEXT_CHARS = 20_000         # of the model's text: enough for 40 batches and a validation split


def questions(checkpoint, lang: str, **_) -> list[Question]:
    return [parameter_count(checkpoint, lang), half_learning_rate(lang)]


def parameter_count(checkpoint, lang: str) -> Question:
    """How many numbers the model learned; the wrong choices are the count without its token
    table, and the count of a model twice as wide (about four times as many)."""
    model = checkpoint.model
    total = model.num_parameters()
    table = model.token_embedding.weight.numel()
    positions = model.position_embedding.weight.numel()
    blocks = sum(p.numel() for p in model.blocks.parameters())
    others = [f"{n:,}" for n in (total - table, 4 * total, max(1, total // 4), table)]
    return question("train_params", lang, with_distractors(f"{total:,}", others, "train_params"), {},
                    dict(total=f"{total:,}", table=f"{table:,}", vocab=model.config.vocab_size,
                         width=model.config.n_embd, positions=f"{positions:,}",
                         blocks=f"{blocks:,}", layers=model.config.n_layer))


def tiny_run_configs():
    """The two runs the experiment compares: the tiny preset as is, and with half its rates."""
    model_config, train_config = preset("tiny", max_iters=STEPS, eval_interval=STEPS,
                                        eval_iters=5, snapshot_count=0)
    half = replace(train_config, learning_rate=train_config.learning_rate / 2,
                   min_lr=train_config.min_lr / 2)
    return model_config, train_config, half


def half_learning_rate(lang: str) -> Question:
    _, full, half = tiny_run_configs()
    labels = [t("quiz.train_half_lr_higher", lang), t("quiz.train_half_lr_lower", lang)]
    return question("train_half_lr", lang, (tuple(labels), None),
                    dict(steps=STEPS, lr=f"{full.learning_rate:g}", half=f"{half.learning_rate:g}"),
                    experiment="half_lr")


def tiny_validation_losses(tokenizer, text: str, on_progress=None) -> tuple[float, float]:
    """Final validation loss of a tiny model trained on ``text`` with ``tokenizer`` at the
    preset's learning rate, then at half of it (same seed: same start, same batches)."""
    model_config, full, half = tiny_run_configs()
    losses = []
    for run, config in enumerate((full, half)):
        trainer = Trainer(model_config, config, text[:TEXT_CHARS], tokenizer=tokenizer, device="cpu")

        def report(row, run=run):
            if on_progress is not None:
                on_progress((run + row["step"] / STEPS) / 2)
        trainer.train(callback=report)
        losses.append(trainer.evaluate()["val_loss"])
    return losses[0], losses[1]


def answer_half_lr(asked: Question, checkpoint, lang: str, text: str, on_progress=None) -> Question:
    """The half-learning-rate question, answered by the two runs on the model's own text with
    its own tokenizer."""
    full_loss, half_loss = tiny_validation_losses(checkpoint.tokenizer, text, on_progress)
    _, full, half = tiny_run_configs()
    why = t("quiz.train_half_lr_why", lang, steps=STEPS, lr=f"{full.learning_rate:g}",
            half=f"{half.learning_rate:g}", full_loss=f"{full_loss:.3f}", half_loss=f"{half_loss:.3f}")
    return replace(asked, answer=0 if half_loss > full_loss else 1, explanation=why)
