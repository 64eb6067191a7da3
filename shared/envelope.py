"""The queued message: what the ingest puts on SQS and the worker takes off it.

One SQS message per accepted Slack delivery. The body is a versioned JSON envelope; the message
attributes repeat a few fields so that an SRE (or ``slackbot dlq list``) can see what a message is
without parsing it. Bump ``VERSION`` on any incompatible change: the worker dead-letters versions it
does not know instead of guessing.
"""

from __future__ import annotations

import json
from typing import Any, Literal, NotRequired, TypedDict

VERSION = 1

Kind = Literal["event", "command", "interaction"]


class Envelope(TypedDict):
    version: int
    kind: Kind
    # What Slack sent, parsed: the Events API JSON, the slash command's form fields, or the
    # interactivity ``payload`` JSON.
    payload: dict[str, Any]
    received_at: float  # epoch seconds at the ingest
    request_id: str  # the ingest invocation's request id, for correlation
    retry_num: int  # Slack's X-Slack-Retry-Num, 0 for a first delivery
    retry_reason: NotRequired[str | None]  # Slack's X-Slack-Retry-Reason


def build(
    kind: Kind,
    payload: dict[str, Any],
    *,
    received_at: float,
    request_id: str,
    retry_num: int = 0,
    retry_reason: str | None = None,
) -> Envelope:
    return {
        "version": VERSION,
        "kind": kind,
        "payload": payload,
        "received_at": received_at,
        "request_id": request_id,
        "retry_num": retry_num,
        "retry_reason": retry_reason,
    }


def dumps(envelope: Envelope) -> str:
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def summary(kind: str, payload: dict[str, Any]) -> dict[str, str]:
    """The few fields an SRE needs to recognise a message: kind, event id, team, channel, user.

    Used for SQS message attributes at the ingest, for log lines in both functions and by the ops CLI.
    Missing fields are left out rather than guessed.
    """
    fields: dict[str, Any] = {"kind": kind}
    if kind == "event":
        event = payload.get("event")
        event = event if isinstance(event, dict) else {}
        fields["event_id"] = payload.get("event_id")
        fields["team"] = payload.get("team_id")
        # ``user_change``, ``team_join``, ``channel_created``… carry the whole object: its id is the one
        fields["channel"] = _an_id(event.get("channel"))
        fields["user"] = _an_id(event.get("user"))
        fields["type"] = event.get("type")
    elif kind == "command":
        fields["team"] = payload.get("team_id")
        fields["channel"] = payload.get("channel_id")
        fields["user"] = payload.get("user_id")
        fields["type"] = payload.get("command")
    elif kind == "interaction":
        fields["team"] = _id_of(payload.get("team"))
        fields["channel"] = _id_of(payload.get("channel")) or _id_of(payload.get("container"), "channel_id")
        fields["user"] = _id_of(payload.get("user"))
        fields["type"] = payload.get("type")
    return {
        key: str(value)
        for key, value in fields.items()
        if isinstance(value, str | int) and not isinstance(value, bool) and value != ""
    }


def _id_of(value: Any, key: str = "id") -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _an_id(value: Any) -> Any:
    """An id given as itself (``"U123"``) or inside the object it names (``{"id": "U123", …}``)."""
    return _id_of(value) if isinstance(value, dict) else value


def _nonempty(value: Any) -> str | None:
    """A usable id: a non-empty string (Slack's samples blank ids; one blank key would merge them all)."""
    return value if isinstance(value, str) and value else None


def message_attributes(envelope: Envelope, known: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    """SQS message attributes for an envelope (String type; SQS refuses empty values).

    ``known`` is the envelope's ``summary`` when the caller has it already (the ingest logs it too).
    """
    fields = dict(known) if known is not None else summary(envelope["kind"], envelope["payload"])
    fields["version"] = str(envelope["version"])
    if envelope["retry_num"]:
        fields["retry_num"] = str(envelope["retry_num"])
    return {name: {"DataType": "String", "StringValue": value[:256]} for name, value in fields.items()}


def dedupe_key(kind: str, payload: dict[str, Any]) -> str | None:
    """The one state-table id of a Slack action, whichever delivery carries it.

    A message is known by (team, channel, ts): Slack has delivered one message under several event ids
    (and as both ``app_mention`` and ``message``), and its retries carry the same message. Other events
    are known by their ``event_id``; slash commands and interactions by the ``trigger_id`` unique to
    one invocation, else (a click without one) by who clicked and when.
    """
    if kind == "event":
        event = payload.get("event")
        event = event if isinstance(event, dict) else {}
        ts, channel = _nonempty(event.get("ts")), _nonempty(event.get("channel"))
        if event.get("type") in ("message", "app_mention") and ts and channel:
            return f"message:{_nonempty(payload.get('team_id')) or ''}:{channel}:{ts}"
        event_id = _nonempty(payload.get("event_id"))
        return f"event:{event_id}" if event_id else None
    trigger_id = _nonempty(payload.get("trigger_id"))
    if trigger_id:
        return f"{kind}:{trigger_id}"
    if kind == "interaction":
        actions = payload.get("actions")
        first = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
        action_ts = _nonempty(first.get("action_ts"))
        if action_ts:
            return f"interaction:{_id_of(payload.get('user'))}:{action_ts}"
    return None


# Slack takes up to 5 posts to a ``response_url`` within 30 minutes of the command or click. The worker
# counts that age from the envelope's ``received_at`` (the ingest's clock when it acknowledged Slack); one
# 30 minutes old or more is not contacted at all. ``received_at`` is a second or two later than the moment
# Slack minted the URL, so a post in the last seconds may still find it expired: Slack then answers
# ``expired_url`` or 404, and the worker answers the other way all the same (worker/replies.py).
RESPONSE_URL_LIFETIME_SECONDS = 30 * 60


def response_url_expired(received_at: float, now: float) -> bool:
    """Whether a ``response_url`` received at ``received_at`` (epoch seconds) is past use at ``now``."""
    return now - received_at >= RESPONSE_URL_LIFETIME_SECONDS


def answered_through_response_url(kind: str, payload: dict[str, Any]) -> bool:
    """Whether the worker answers this command or click through its ``response_url`` (as ``worker.route``
    decides): every slash command; a button click on an ephemeral message, or on one it cannot name by
    channel and ts (any other click updates its message with ``chat.update``)."""
    if not _nonempty(payload.get("response_url")):
        return False
    if kind == "command":
        return True
    if kind != "interaction" or payload.get("type") != "block_actions":
        return False
    container = payload.get("container")
    container = container if isinstance(container, dict) else {}
    channel = _nonempty(container.get("channel_id")) or _nonempty(_id_of(payload.get("channel")))
    ts = _nonempty(container.get("message_ts")) or _nonempty(_id_of(payload.get("message"), "ts"))
    return bool(container.get("is_ephemeral")) or not (channel and ts)


def carries_expired_response_url(envelope: dict[str, Any], now: float) -> bool:
    """A queued command or click that the worker would answer through a ``response_url`` already past use
    at ``now``: it is answered with ``chat.postEphemeral`` (or a direct message) instead."""
    received_at = envelope.get("received_at")
    payload = envelope.get("payload")
    if (
        not isinstance(received_at, int | float)
        or isinstance(received_at, bool)
        or not isinstance(payload, dict)
    ):
        return False
    return answered_through_response_url(str(envelope.get("kind", "")), payload) and response_url_expired(
        float(received_at), now
    )


# Message attributes the worker adds when it dead-letters a record itself (SQS allows 10 in all).
DEAD_REASON = "reason"  # a short human reason, e.g. "slack error: channel_not_found"
DEAD_CATEGORY = "category"  # "poison" (can never be read) or "permanent" (Slack refused for good)
DEAD_SOURCE_ID = "source_message_id"  # the work queue's message id
_KEPT_ON_DEAD_LETTER = ("kind", "event_id", "team", "channel", "user", "type", "version")


def dead_letter_attributes(
    original: dict[str, dict[str, str]], reason: str, category: str, source_id: str
) -> dict[str, dict[str, str]]:
    attributes = {
        DEAD_REASON: {"DataType": "String", "StringValue": reason[:1000] or "unknown"},
        DEAD_CATEGORY: {"DataType": "String", "StringValue": category},
        DEAD_SOURCE_ID: {"DataType": "String", "StringValue": source_id or "unknown"},
    }
    for name in _KEPT_ON_DEAD_LETTER:
        value = original.get(name)
        if value and value.get("StringValue"):
            attributes[name] = {"DataType": "String", "StringValue": value["StringValue"]}
    return attributes
