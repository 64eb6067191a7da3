"""From a queued Slack action to a skill and the place its answer goes.

- a mention is answered in its channel (in the thread when the mention was in one);
- a direct message is answered in the DM;
- a slash command goes to the skill that claims it by name (``Skill.commands``), else to the skill its
  first word names; it is answered through its ``response_url``: ephemeral, unless ``--public`` is in
  its text (past the URL's 30 minutes, ``worker.replies`` answers with ``chat.postEphemeral``);
- a button click runs the skill's action (``action_id`` ``<skill>:<name>``) and updates the message it
  came from (a click in the App Home or a modal, which has no message, is answered by direct message);
- a modal submission or a shortcut (``callback_id`` ``<skill>:<name>``) runs the skill's view or
  shortcut; what it answers goes to the user by direct message (a message shortcut's through its
  ``response_url``);
- any other Events API type goes to the skill that declares it in ``Skill.events``.

Anything else Slack may send (message edits, ``user_change``, legacy attachment buttons…) is not the
bot's business: ``plan`` returns ``Ignored`` with a reason and the record is logged and dropped, never
retried and never dead-lettered. Only what is routed is validated strictly (``worker.envelope``'s
models); a routed payload that lacks what its route needs is ignored the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from worker import skills
from worker.envelope import QueuedEnvelope, Unroutable
from worker.skills import Ask, Handler, Reply
from worker.slack import web_client

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


@dataclass(frozen=True)
class DirectMessage:
    """The user's DM with the bot (``conversations.open``): where a modal's or a shortcut's answer goes."""

    user: str


Destination = PostMessage | UpdateMessage | ResponseUrl | DirectMessage


@dataclass(frozen=True)
class Ignored:
    """Not the bot's to answer: acknowledged and dropped with this reason in the log."""

    reason: str


@dataclass(frozen=True)
class Job:
    skill: str
    ask: Ask
    destination: Destination
    handler: Handler | None = None  # a claimed command, a click, a view, a shortcut or an event; None: words

    def run(self) -> Reply | None:
        if self.handler is not None:
            return self.handler(self.ask)
        return answer(self.skill, self.ask)


@dataclass(frozen=True)
class AskDefaults:
    """What every ``Ask`` of one record shares: the deadline and the Slack client bound to it."""

    deadline: float
    slack: WebClient


def plan(envelope: QueuedEnvelope, deadline: float, slack: WebClient | None = None) -> Job | Ignored:
    context = AskDefaults(deadline, slack if slack is not None else web_client(None, deadline))
    try:
        if envelope.kind == "event":
            return _plan_event(envelope, context)
        if envelope.kind == "command":
            return _plan_command(envelope, context)
        return _plan_interaction(envelope, context)
    except Unroutable as unroutable:
        return Ignored(unroutable.reason)


def answer(skill_name: str, ask: Ask) -> Reply | None:
    """Run a skill by name; unknown words get a pointer to `help`."""
    if not skill_name:
        skill_name = "help"
    skill = skills.find(skill_name)
    if skill is None:
        return Reply(text=f"I don't know `{skill_name}`. Say `help` to see what I can do.")
    return skill.run(ask)


def split_words(text: str) -> tuple[str, str]:
    """``"<@UBOT> check <https://x>"`` → ``("check", "<https://x>")``."""
    text = _MENTION.sub("", text).strip()
    name, _, rest = text.partition(" ")
    return name.lower(), rest.strip()


def _plan_event(envelope: QueuedEnvelope, context: AskDefaults) -> Job | Ignored:
    raw = envelope.payload.get("event")
    raw = raw if isinstance(raw, dict) else {}
    event_type = _text(raw.get("type")) or ""
    declared = skills.for_event(event_type)
    if declared is not None:
        return _plan_declared_event(envelope, raw, declared, context)
    if not _for_the_bot(raw):
        return Ignored(f"no skill handles {_describe(raw)}")
    callback = envelope.event_callback()  # only now, for a mention or a DM, is the event held to a shape
    event = callback.event
    if not event.channel:
        return Ignored(f"{_describe(raw)} without a channel")
    name, rest = split_words(event.text)
    ask = _ask(
        context,
        text=rest,
        user=event.user,
        channel=event.channel,
        team=callback.team_id,
        payload=envelope.payload,
        slack_time=_float(event.ts) or callback.event_time,
        received_at=envelope.received_at,
    )
    return Job(name, ask, PostMessage(event.channel, thread_ts=event.thread_ts))


def _plan_declared_event(
    envelope: QueuedEnvelope, event: dict[str, Any], skill: skills.Skill, context: AskDefaults
) -> Job | Ignored:
    user = _text(event.get("user"))
    channel = _text(event.get("channel"))
    ask = _ask(
        context,
        text=_text(event.get("text")) or "",
        user=user,
        channel=channel,
        team=_text(envelope.payload.get("team_id")),
        payload=envelope.payload,
        slack_time=_float(envelope.payload.get("event_time")),
        received_at=envelope.received_at,
    )
    destination: Destination
    if channel:
        destination = PostMessage(channel)
    elif user:
        destination = DirectMessage(user)
    else:
        return Ignored(f"{_describe(event)} names neither a channel nor a user to answer")
    return Job(skill.name, ask, destination, skill.events[_text(event.get("type")) or ""])


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


def _plan_command(envelope: QueuedEnvelope, context: AskDefaults) -> Job:
    command = envelope.slash_command()
    words = command.text.split()
    public = PUBLIC_FLAG in words
    text = " ".join(word for word in words if word != PUBLIC_FLAG)
    claimed = skills.for_command(command.command)
    name, rest = (claimed.name, text) if claimed is not None else split_words(text)
    ask = _ask(
        context,
        text=rest,
        user=command.user_id,
        channel=command.channel_id,
        team=command.team_id,
        command=command.command,
        trigger_id=command.trigger_id,
        payload=envelope.payload,
        received_at=envelope.received_at,
    )
    handler = claimed.run if claimed is not None else None
    destination = ResponseUrl(
        command.response_url,
        in_channel=public,
        received_at=envelope.received_at,
        channel=command.channel_id,
        user=command.user_id,
    )
    return Job(name, ask, destination, handler)


def _plan_interaction(envelope: QueuedEnvelope, context: AskDefaults) -> Job | Ignored:
    kind = envelope.payload.get("type")
    if kind == "block_actions":
        return _plan_click(envelope, context)
    if kind == "view_submission":
        return _plan_view(envelope, context)
    if kind in ("shortcut", "message_action"):
        return _plan_shortcut(envelope, context)
    return Ignored(f"no skill handles interaction {kind!s:.64}")  # interactive_message, view_closed…


def _plan_click(envelope: QueuedEnvelope, context: AskDefaults) -> Job | Ignored:
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
    ask = _ask(
        context,
        text=action.value or "",
        user=_text(interaction.user.get("id")),
        channel=channel,
        team=_text(_id_of(envelope.payload.get("team"))),  # optional: not required of the payload
        trigger_id=_text(envelope.payload.get("trigger_id")),
        payload=envelope.payload,
        slack_time=_float(action.action_ts),
        received_at=envelope.received_at,
    )
    destination: Destination
    if container.get("is_ephemeral") or not (channel and ts):
        if interaction.response_url:
            destination = ResponseUrl(
                interaction.response_url,
                replace_original=True,
                received_at=envelope.received_at,
                channel=channel,
                user=ask.user,
            )
        elif container.get("type") == "view" and ask.user:
            # A button in the App Home or a modal: no message to update and no response_url, so what
            # the action answers (if anything: opening a modal is an answer) goes to the user by DM.
            destination = DirectMessage(ask.user)
        else:
            return Ignored("a click that can only be answered through a response_url, and it has none")
    else:
        destination = UpdateMessage(channel, ts)
    return Job(skill_name, ask, destination, skill.actions[action_name])


def _plan_view(envelope: QueuedEnvelope, context: AskDefaults) -> Job | Ignored:
    view = envelope.payload.get("view")
    callback_id = _text(view.get("callback_id")) if isinstance(view, dict) else None
    skill, name = _callback(callback_id)
    if skill is None or name not in skill.views:
        return Ignored(f"no skill handles view {callback_id!s:.64}")
    user = _text(_id_of(envelope.payload.get("user")))
    if user is None:
        return Ignored("a view submission without a user")
    ask = _ask(
        context,
        text="",
        user=user,
        team=_text(_id_of(envelope.payload.get("team"))),
        trigger_id=_text(envelope.payload.get("trigger_id")),
        payload=envelope.payload,
        received_at=envelope.received_at,
    )
    return Job(skill.name, ask, DirectMessage(user), skill.views[name])


def _plan_shortcut(envelope: QueuedEnvelope, context: AskDefaults) -> Job | Ignored:
    callback_id = _text(envelope.payload.get("callback_id"))
    skill, name = _callback(callback_id)
    if skill is None or name not in skill.shortcuts:
        return Ignored(f"no skill handles shortcut {callback_id!s:.64}")
    user = _text(_id_of(envelope.payload.get("user")))
    if user is None:
        return Ignored("a shortcut without a user")
    message = envelope.payload.get("message")
    ask = _ask(
        context,
        text=_text(message.get("text")) or "" if isinstance(message, dict) else "",
        user=user,
        channel=_text(_id_of(envelope.payload.get("channel"))),
        team=_text(_id_of(envelope.payload.get("team"))),
        trigger_id=_text(envelope.payload.get("trigger_id")),
        payload=envelope.payload,
        slack_time=_float(envelope.payload.get("action_ts")),
        received_at=envelope.received_at,
    )
    response_url = _text(envelope.payload.get("response_url"))
    destination: Destination = (
        ResponseUrl(response_url, received_at=envelope.received_at, channel=ask.channel, user=user)
        if response_url
        else DirectMessage(user)
    )
    return Job(skill.name, ask, destination, skill.shortcuts[name])


def _callback(callback_id: str | None) -> tuple[skills.Skill | None, str]:
    skill_name, _, name = (callback_id or "").partition(":")
    return (skills.find(skill_name) if skill_name else None), name


def _ask(context: AskDefaults, **fields: Any) -> Ask:
    return Ask(deadline=context.deadline, slack=context.slack, **fields)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _id_of(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
