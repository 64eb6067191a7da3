"""From a queued Slack action to a skill and the place its answer goes.

- a mention is answered in its channel (in the thread when the mention was in one);
- a direct message is answered in the DM;
- a slash command is answered through its ``response_url``: ephemeral, unless ``--public`` is in
  its text;
- a button click runs the skill's action and updates the message it came from.

Anything else (message edits, other events, modal submissions) is not the bot's business: ``plan``
returns None and the record is logged and dropped, never retried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from worker import skills
from worker.envelope import Envelope
from worker.skills import Ask, Reply

_MENTION = re.compile(r"^\s*(<@[A-Z0-9]+(\|[^>]*)?>\s*)+")
PUBLIC_FLAG = "--public"


@dataclass(frozen=True)
class PostMessage:
    channel: str
    thread_ts: str | None = None


@dataclass(frozen=True)
class UpdateMessage:
    channel: str
    ts: str


@dataclass(frozen=True)
class ResponseUrl:
    url: str
    replace_original: bool = False
    in_channel: bool = False  # a slash command's answer is ephemeral unless asked otherwise


Destination = PostMessage | UpdateMessage | ResponseUrl


@dataclass(frozen=True)
class Job:
    skill: str
    ask: Ask
    destination: Destination
    action: str | None = None  # a button's action name, for a click

    def run(self) -> Reply:
        return answer(self.skill, self.ask, self.action)


def plan(envelope: Envelope, deadline: float) -> Job | None:
    if envelope.kind == "event":
        return _plan_event(envelope, deadline)
    if envelope.kind == "command":
        return _plan_command(envelope, deadline)
    return _plan_interaction(envelope, deadline)


def answer(skill_name: str, ask: Ask, action: str | None = None) -> Reply:
    """Run a skill (or one of its button actions); unknown words get a pointer to `help`."""
    if not skill_name:
        skill_name = "help"
    skill = skills.find(skill_name)
    if skill is None:
        return Reply(text=f"I don't know `{skill_name}`. Say `help` to see what I can do.")
    if action is not None:
        return skill.actions[action](ask)
    return skill.run(ask)


def split_words(text: str) -> tuple[str, str]:
    """``"<@UBOT> check <https://x>"`` → ``("check", "<https://x>")``."""
    text = _MENTION.sub("", text).strip()
    name, _, rest = text.partition(" ")
    return name.lower(), rest.strip()


def _plan_event(envelope: Envelope, deadline: float) -> Job | None:
    callback = envelope.event_callback()
    event = callback.event
    direct = event.type == "message" and event.channel_type == "im" and event.subtype is None
    if not (event.type == "app_mention" or direct) or not event.channel:
        return None
    name, rest = split_words(event.text)
    ask = Ask(
        text=rest,
        user=event.user,
        channel=event.channel,
        team=callback.team_id,
        slack_time=_float(event.ts) or callback.event_time,
        received_at=envelope.received_at,
        deadline=deadline,
    )
    return Job(name, ask, PostMessage(event.channel, thread_ts=event.thread_ts))


def _plan_command(envelope: Envelope, deadline: float) -> Job:
    command = envelope.slash_command()
    words = command.text.split()
    public = PUBLIC_FLAG in words
    name, rest = split_words(" ".join(word for word in words if word != PUBLIC_FLAG))
    ask = Ask(
        text=rest,
        user=command.user_id,
        channel=command.channel_id,
        team=command.team_id,
        received_at=envelope.received_at,
        deadline=deadline,
    )
    return Job(name, ask, ResponseUrl(command.response_url, in_channel=public))


def _plan_interaction(envelope: Envelope, deadline: float) -> Job | None:
    interaction = envelope.interaction()
    if interaction.type != "block_actions" or not interaction.actions:
        return None
    action = interaction.actions[0]
    skill_name, _, action_name = action.action_id.partition(":")
    skill = skills.find(skill_name)
    if skill is None or action_name not in skill.actions:
        return None
    container: dict[str, Any] = interaction.container
    channel = container.get("channel_id") or (interaction.channel or {}).get("id")
    ts = container.get("message_ts") or (interaction.message or {}).get("ts")
    ask = Ask(
        text=action.value or "",
        user=interaction.user.get("id"),
        channel=channel,
        team=(envelope.payload.get("team") or {}).get("id"),
        slack_time=_float(action.action_ts),
        received_at=envelope.received_at,
        deadline=deadline,
    )
    destination: Destination
    if container.get("is_ephemeral") or not (channel and ts):
        if not interaction.response_url:
            return None
        destination = ResponseUrl(interaction.response_url, replace_original=True)
    else:
        destination = UpdateMessage(channel, ts)
    return Job(skill_name, ask, destination, action=action_name)


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
