"""The fine-tuning lesson's quiz: what the base model says before any training (the prompt
method), and how few of its numbers a linear probe trains."""
from __future__ import annotations

from lessons.concepts.finetuning.compute import method_trainer, prompt_probabilities
from lessons.concepts.finetuning.data import builtin_dataset
from lessons.quiz import Question, pct, question, with_distractors


def questions(checkpoint, lang: str, data=None, **_) -> list[Question]:
    data = data or builtin_dataset(lang)
    asked = [probe_size(checkpoint, data, lang)]
    longest_label = max(len(checkpoint.tokenizer.encode(label)) for label in data.labels)
    # the prompt method reads the label as next tokens: a causal model with room for it
    if checkpoint.model.config.causal and longest_label < checkpoint.model.config.block_size:
        asked.insert(0, prompt_label(checkpoint, data, lang))
    return asked


def prompt_label(checkpoint, data, lang: str) -> Question:
    """Which label the untrained-for-the-task model finds likelier after ``text -> ``."""
    text, truth = data.test[0]
    probs = prompt_probabilities(checkpoint.model, checkpoint.tokenizer, [text], data.labels)[0]
    best = int(probs.argmax())
    return question("ft_prompt", lang,
                    with_distractors(data.labels[best], data.labels, "ft_prompt"),
                    dict(text=text),
                    dict(label=data.labels[best], truth=data.labels[truth],
                         shares=", ".join(f"{name} {pct(float(p))}"
                                          for name, p in zip(data.labels, probs))))


def trainable(trainer) -> int:
    return sum(p.numel() for _, p in trainer.named_parameters() if p.requires_grad)


def probe_size(checkpoint, data, lang: str) -> Question:
    """How many numbers a linear probe trains on this model, against a full fine-tune."""
    probe = trainable(method_trainer(checkpoint, data, "probe", steps=1))
    full = trainable(method_trainer(checkpoint, data, "full", steps=1))
    width = checkpoint.model.config.n_embd
    others = [f"{n:,}" for n in (full, width, full - probe, probe * 10)]
    return question("ft_probe", lang, with_distractors(f"{probe:,}", others, "ft_probe"), {},
                    dict(probe=f"{probe:,}", full=f"{full:,}", share=f"{100 * probe / full:.3f}%",
                         width=width, classes=len(data.labels)))
