"""The bot's skills: one module (or package) each, found by name. Adding a skill means adding one file here.

A skill module defines ``SKILL = Skill(name=…, help=…, run=…)``. ``run`` gets an ``Ask`` (the words
after the skill's name, who asked, where, the slash command and its ``trigger_id``, a Slack client and
the time left) and returns a ``Reply``, or None when it has answered by itself (a modal it opened, a
Home tab it published). A skill may also take:

- ``commands=("/whois",)``: slash commands routed to it by name (the whole text is ``Ask.text``); a
  command no skill claims is routed by its first word, so ``/ops check …`` reaches ``check``;
- ``actions={"recheck": fn}``: button clicks whose ``action_id`` is ``"<skill>:recheck"`` (the click's
  ``value`` arrives as ``Ask.text``);
- ``views={"declare": fn}``: modal submissions whose ``callback_id`` is ``"<skill>:declare"``, run
  after the ingest has checked the modal's declared rules (``shared.modals``) and acknowledged;
- ``shortcuts={"declare": fn}``: global and message shortcuts whose ``callback_id`` is
  ``"<skill>:declare"``;
- ``events={"app_home_opened": fn}``: any Events API type.

What Slack sent is in ``Ask.payload`` for handlers that need more than the text (a modal's values).
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from slack_sdk import WebClient

from worker.slack import Reply, web_client

__all__ = ["Ask", "Handler", "Reply", "Skill", "all_skills", "find", "for_command", "for_event"]


def _no_deadline() -> float:
    return time.monotonic() + 30


@dataclass(frozen=True)
class Ask:
    text: str  # the words after the skill's name (a claimed command's whole text; a click's value)
    user: str | None = None
    channel: str | None = None
    team: str | None = None
    command: str | None = None  # the slash command's name ("/whois"), None otherwise
    trigger_id: str | None = None  # opens a modal (views.open) within 3 s of the click; None otherwise
    payload: Mapping[str, Any] = field(default_factory=dict)  # what Slack sent, for views and events
    slack_time: float | None = None  # when Slack saw the event (epoch seconds), if known
    received_at: float | None = None  # when the ingest acknowledged it
    deadline: float = field(default_factory=_no_deadline)  # monotonic
    # The Web API for the bot token, its retries bounded by the deadline (worker.slack.web_client).
    slack: WebClient = field(default=None)  # type: ignore[assignment]  # filled in by __post_init__

    def __post_init__(self) -> None:
        if self.slack is None:  # a skill called directly (tests): a client for the configured token
            object.__setattr__(self, "slack", web_client(None, self.deadline))

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()


Handler = Callable[[Ask], Reply | None]


@dataclass(frozen=True)
class Skill:
    name: str
    help: str  # one line, shown by `help` and on the Home tab
    run: Handler
    actions: Mapping[str, Handler] = field(default_factory=dict)
    commands: tuple[str, ...] = ()
    views: Mapping[str, Handler] = field(default_factory=dict)
    events: Mapping[str, Handler] = field(default_factory=dict)
    shortcuts: Mapping[str, Handler] = field(default_factory=dict)


@cache
def all_skills() -> dict[str, Skill]:
    """Every module in this package with a ``SKILL``, by name; two skills may not claim one name or command."""
    found: dict[str, Skill] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        skill = getattr(module, "SKILL", None)
        if isinstance(skill, Skill):
            if skill.name in found:
                raise RuntimeError(f"two skills are named {skill.name!r}")
            found[skill.name] = skill
    _refuse_shared_claims(found.values())
    return dict(sorted(found.items()))


def _refuse_shared_claims(skills: Any) -> None:
    owners: dict[str, str] = {}
    for skill in skills:
        claims = [f"command {c}" for c in skill.commands] + [f"event {e}" for e in skill.events]
        for claim in claims:
            if claim in owners:
                raise RuntimeError(f"{owners[claim]!r} and {skill.name!r} both claim {claim}")
            owners[claim] = skill.name


def find(name: str) -> Skill | None:
    return all_skills().get(name.lower())


def for_command(command: str) -> Skill | None:
    """The skill that claims a slash command by name, if one does."""
    wanted = command.lower()
    return next((s for s in all_skills().values() if wanted in (c.lower() for c in s.commands)), None)


def for_event(event_type: str) -> Skill | None:
    return next((s for s in all_skills().values() if event_type in s.events), None)
