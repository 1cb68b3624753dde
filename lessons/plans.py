"""Lesson plans: a teacher's guided tour through the pages, one small JSON file a plan.

A plan lives in ``lessons/data/plans/<name>.json`` and opens with ``?plan=<name>``::

    {"title": {"en": "...", "zh": "..."},
     "minutes": 45,
     "steps": [{"link": "tokenization?w.tok_text=%22Hello%22&hide=shipped_model",
                "minutes": 8,
                "text": {"en": "What to do and look for.", "zh": "……"}}]}

``link`` is a teacher link without its host (app/state/links.py): a page's url path ("" for
the home page) and its query parameters. ``text`` is shown above the page with Previous/Next.

>>> plan = load_plan("intro-45")
>>> plan.minutes, len(plan.steps) >= 5, plan.steps[0].slug
(45.0, True, '')
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from urllib.parse import parse_qsl, urlsplit

from lessons import registry
from lessons.i18n import LANGUAGES
from lessons.errors import LessonError

_PLAN_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,40}")


class PlanError(LessonError):
    """A plan name that is not shipped, or a plan file that breaks the format."""


@dataclass(frozen=True)
class Step:
    slug: str                    # the page's url path ("" = home)
    params: dict[str, str]       # the link's query parameters
    text: dict[str, str]         # language -> what to do
    minutes: float


@dataclass(frozen=True)
class Plan:
    name: str
    title: dict[str, str]
    minutes: float
    steps: tuple[Step, ...]


def plan_names() -> list[str]:
    folder = resources.files("lessons").joinpath("data", "plans")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def load_plan(name: str) -> Plan:
    """The shipped plan of that name; PlanError for anything else (names are never paths)."""
    if not isinstance(name, str) or not _PLAN_NAME.fullmatch(name) or name not in plan_names():
        raise PlanError("plan_unknown", name=str(name)[:40], known=", ".join(plan_names()))
    text = resources.files("lessons").joinpath("data", "plans", f"{name}.json").read_text("utf-8")
    return parse_plan(name, json.loads(text))


def _texts(value, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or set(value) != set(LANGUAGES) or \
            not all(isinstance(v, str) and v.strip() for v in value.values()):
        raise PlanError("plan_bad", where=where)
    return dict(value)


def parse_step(raw, index: int) -> Step:
    where = f"steps[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("link"), str):
        raise PlanError("plan_bad", where=where)
    parts = urlsplit(raw["link"])
    slug = parts.path.strip("/")
    if parts.scheme or parts.netloc or slug not in {e.url_path for e in registry.PAGES}:
        raise PlanError("plan_bad", where=f"{where}.link")
    return Step(slug, dict(parse_qsl(parts.query)), _texts(raw.get("text"), f"{where}.text"),
                float(raw.get("minutes", 0)))


def parse_plan(name: str, raw) -> Plan:
    """A plan from its JSON; PlanError naming the first thing that breaks the format.

    >>> parse_plan("x", {"title": {"en": "A", "zh": "甲"}, "steps": [
    ...     {"link": "softmax?lang=zh", "text": {"en": "Look", "zh": "看"}}]}).steps[0].params
    {'lang': 'zh'}
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("steps"), list) or not raw["steps"]:
        raise PlanError("plan_bad", where="steps")
    steps = tuple(parse_step(step, i) for i, step in enumerate(raw["steps"]))
    return Plan(name, _texts(raw.get("title"), "title"),
                float(raw.get("minutes", sum(s.minutes for s in steps))), steps)
