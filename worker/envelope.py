"""The queued envelope (see ``shared/envelope.py``): read leniently, validated only where it is routed.

``read`` turns an SQS record body into a ``QueuedEnvelope`` or raises ``Poison``. Poison is only what can
never be read: not JSON, not our envelope's shape, an envelope version this worker does not know. A
record that fails there can never succeed, however often it is retried, so it goes straight to the
dead-letter queue.

The Slack payload inside is not judged by ``read``: Slack sends many valid shapes that no skill acts on
(legacy attachment buttons whose actions have a ``name`` instead of an ``action_id``; ``user_change``
or ``channel_created`` events whose ``user`` or ``channel`` is an object). Dead-lettering those would
page the on-call for nothing. The strict models below are applied by ``worker.route`` only to the
payloads it acts on, through ``event_callback``, ``slash_command`` and ``interaction``; when one of
those lacks what its route needs, ``Unroutable`` says what, and the record is ignored with that reason.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared import envelope as schema
from worker.errors import Poison


class Unroutable(Exception):
    """A valid envelope whose Slack payload lacks what its route needs: ignored, never dead-lettered."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SlackEvent(_Model):
    """A mention or a direct message: the only events the bot answers."""

    type: str
    subtype: str | None = None
    user: str | None = None
    text: str = ""
    channel: str | None = None
    channel_type: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    event_ts: str | None = None


class EventCallback(_Model):
    event_id: str | None = None
    team_id: str | None = None
    event_time: float | None = None
    event: SlackEvent


class SlashCommand(_Model):
    command: str
    text: str = ""
    response_url: str = Field(min_length=1)  # the only way to answer a command
    user_id: str | None = None
    channel_id: str | None = None
    team_id: str | None = None
    trigger_id: str | None = None


class Action(_Model):
    action_id: str
    value: str | None = None
    action_ts: str | None = None


class Interaction(_Model):
    """A ``block_actions`` click (Block Kit buttons carry an ``action_id``)."""

    type: str
    response_url: str | None = None
    actions: list[Action] = Field(default_factory=list)
    user: dict[str, Any] = Field(default_factory=dict)
    channel: dict[str, Any] | None = None
    container: dict[str, Any] = Field(default_factory=dict)
    message: dict[str, Any] | None = None


_M = TypeVar("_M", bound=_Model)


class QueuedEnvelope(_Model):
    version: Literal[1]
    kind: Literal["event", "command", "interaction"]
    payload: dict[str, Any]
    received_at: float
    request_id: str = ""
    retry_num: int = 0
    retry_reason: str | None = None

    def event_callback(self) -> EventCallback:
        """The payload as a mention or direct message; raises ``Unroutable`` if it is not one."""
        return _validated(EventCallback, self.payload, self.kind)

    def slash_command(self) -> SlashCommand:
        return _validated(SlashCommand, self.payload, self.kind)

    def interaction(self) -> Interaction:
        return _validated(Interaction, self.payload, self.kind)

    def dedupe_key(self) -> str | None:
        return schema.dedupe_key(self.kind, self.payload)

    def summary(self) -> dict[str, str]:
        return schema.summary(self.kind, self.payload)


def read(body: str) -> QueuedEnvelope:
    try:
        raw = json.loads(body)
    except ValueError:
        raise Poison("body is not JSON") from None
    if not isinstance(raw, dict):
        raise Poison("body is not a JSON object")
    if raw.get("version") != schema.VERSION:
        raise Poison(f"unknown envelope version {raw.get('version')!r} (this worker reads {schema.VERSION})")
    try:
        return QueuedEnvelope.model_validate(raw)
    except ValidationError as error:
        raise Poison(f"invalid envelope: {_first_problem(error)}") from None


def _validated(model: type[_M], payload: dict[str, Any], kind: str) -> _M:
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise Unroutable(f"{kind} lacks what its route needs: {_first_problem(error)}") from None


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}"
