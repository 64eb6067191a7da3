"""From a queued Slack action to a skill and the place its answer goes.

- a mention is answered in its channel (in the thread when the mention was in one);
- a direct message is answered in the DM;
- a slash command is answered through its ``response_url``: ephemeral, unless ``--public`` is in
  its text (past the URL's 30 minutes, ``worker.replies`` answers with ``chat.postEphemeral``);
- a button click runs the skill's action and updates the message it came from.

Anything else Slack may send (message edits, ``user_change``, legacy attachment buttons, modal
submissions…) is not the bot's business: ``plan`` returns ``Ignored`` with a reason and the record is
logged and dropped, never retried and never dead-lettered. Only what is routed is validated strictly
(``worker.envelope``'s models); a routed payload that lacks what its route needs is ignored the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from worker import skills
from worker.envelope import Envelope, Unroutable
from worker.skills import Ask, Reply

_MENTION = re.compile(r"^\s*(<@[A-Z0-9]+(\|[^>]*)?>\s*)+")
PUBLIC_FLAG = "--public"
# A direct message with a file attached (subtype ``file_share``) still carries the user's words to the bot.
# Every other subtype (edits, deletions, joins, bot posts…) is not someone talking to the bot.
_DIRECT_MESSAGE_SUBTYPES = frozenset({None, "file_share"})


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
    """Slack's ``response_url`` of a command or click, and what answering without it needs.

    The URL takes 5 posts within 30 minutes: ``received_at`` (the envelope's, epoch seconds) dates it,
    and ``channel``/``user`` say where ``chat.postEphemeral`` (or a direct message) answers once it has
    expired (see ``worker.replies``).
    """

    url: str
    replace_original: bool = False
    in_channel: bool = False  # a slash command's answer is ephemeral unless asked otherwise
    received_at: float | None = None
    channel: str | None = None
    user: str | None = None


Destination = PostMessage | UpdateMessage | ResponseUrl


@dataclass(frozen=True)
class Ignored:
    """Not the bot's to answer: acknowledged and dropped with this reason in the log."""

    reason: str


@dataclass(frozen=True)
class Job:
    skill: str
    ask: Ask
    destination: Destination
    action: str | None = None  # a button's action name, for a click

    def run(self) -> Reply:
        return answer(self.skill, self.ask, self.action)


def plan(envelope: Envelope, deadline: float) -> Job | Ignored:
    try:
        if envelope.kind == "event":
            return _plan_event(envelope, deadline)
        if envelope.kind == "command":
            return _plan_command(envelope, deadline)
        return _plan_interaction(envelope, deadline)
    except Unroutable as unroutable:
        return Ignored(unroutable.reason)


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


def _plan_event(envelope: Envelope, deadline: float) -> Job | Ignored:
    raw = envelope.payload.get("event")
    raw = raw if isinstance(raw, dict) else {}
    if not _for_the_bot(raw):
        return Ignored(f"no skill handles {_describe(raw)}")
    callback = envelope.event_callback()  # only now, for a mention or a DM, is the event held to a shape
    event = callback.event
    if not event.channel:
        return Ignored(f"{_describe(raw)} without a channel")
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


def _for_the_bot(event: dict[str, Any]) -> bool:
    """A mention, or a direct message (with or without a file); the ingest has dropped bots' own."""
    if event.get("type") == "app_mention":
        return True
    return (
        event.get("type") == "message"
        and event.get("channel_type") == "im"
        and event.get("subtype") in _DIRECT_MESSAGE_SUBTYPES
    )


def _describe(event: dict[str, Any]) -> str:
    words = [f"event {event.get('type')!s:.64}"]
    for field_name in ("subtype", "channel_type"):
        if isinstance(event.get(field_name), str):
            words.append(f"{field_name} {event[field_name]:.64}")
    return " ".join(words)


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
    destination = ResponseUrl(
        command.response_url,
        in_channel=public,
        received_at=envelope.received_at,
        channel=command.channel_id,
        user=command.user_id,
    )
    return Job(name, ask, destination)


def _plan_interaction(envelope: Envelope, deadline: float) -> Job | Ignored:
    kind = envelope.payload.get("type")
    if kind != "block_actions":  # interactive_message, view_submission, shortcut…: no skill takes them yet
        return Ignored(f"no skill handles interaction {kind!s:.64}")
    interaction = envelope.interaction()
    if not interaction.actions:
        return Ignored("block_actions without actions")
    action = interaction.actions[0]
    skill_name, _, action_name = action.action_id.partition(":")
    skill = skills.find(skill_name)
    if skill is None or action_name not in skill.actions:
        return Ignored(f"no skill handles action {action.action_id:.64}")
    container: dict[str, Any] = interaction.container
    channel = _text(container.get("channel_id")) or _text((interaction.channel or {}).get("id"))
    ts = _text(container.get("message_ts")) or _text((interaction.message or {}).get("ts"))
    ask = Ask(
        text=action.value or "",
        user=_text(interaction.user.get("id")),
        channel=channel,
        team=_text(_id_of(envelope.payload.get("team"))),  # optional: not required of the payload
        slack_time=_float(action.action_ts),
        received_at=envelope.received_at,
        deadline=deadline,
    )
    destination: Destination
    if container.get("is_ephemeral") or not (channel and ts):
        if not interaction.response_url:
            return Ignored("a click that can only be answered through a response_url, and it has none")
        destination = ResponseUrl(
            interaction.response_url,
            replace_original=True,
            received_at=envelope.received_at,
            channel=channel,
            user=ask.user,
        )
    else:
        destination = UpdateMessage(channel, ts)
    return Job(skill_name, ask, destination, action=action_name)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _id_of(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
