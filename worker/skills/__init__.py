"""The bot's skills: one module each, found by name. Adding a skill means adding one file here.

A skill module defines ``SKILL = Skill(name=…, help=…, run=…)``. ``run`` gets an ``Ask`` (the words
after the skill's name, who asked, where, and the time left) and returns a ``Reply``. A skill may
also answer button clicks: ``actions={"recheck": fn}`` receives clicks whose ``action_id`` is
``"<skill>:recheck"``; the click's ``value`` arrives as ``Ask.text``.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from worker.slack import Reply

__all__ = ["Ask", "Reply", "Skill", "all_skills", "find"]


@dataclass(frozen=True)
class Ask:
    text: str  # the words after the skill's name
    user: str | None = None
    channel: str | None = None
    team: str | None = None
    slack_time: float | None = None  # when Slack saw the event (epoch seconds), if known
    received_at: float | None = None  # when the ingest acknowledged it
    deadline: float = field(default_factory=lambda: time.monotonic() + 30)  # monotonic

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()


@dataclass(frozen=True)
class Skill:
    name: str
    help: str  # one line, shown by `help`
    run: Callable[[Ask], Reply]
    actions: Mapping[str, Callable[[Ask], Reply]] = field(default_factory=dict)


@cache
def all_skills() -> dict[str, Skill]:
    """Every module in this package with a ``SKILL``, by name."""
    found: dict[str, Skill] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        skill = getattr(module, "SKILL", None)
        if isinstance(skill, Skill):
            if skill.name in found:
                raise RuntimeError(f"two skills are named {skill.name!r}")
            found[skill.name] = skill
    return dict(sorted(found.items()))


def find(name: str) -> Skill | None:
    return all_skills().get(name.lower())
