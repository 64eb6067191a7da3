"""The queued envelope (see ``shared/envelope.py``), validated with pydantic.

``read`` turns an SQS record body into a typed ``Envelope`` or raises ``Poison``: a record that fails
here can never succeed, however often it is retried, so it goes straight to the dead-letter queue.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared import envelope as schema
from worker.errors import Poison


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SlackEvent(_Model):
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
    response_url: str
    user_id: str | None = None
    channel_id: str | None = None
    team_id: str | None = None
    trigger_id: str | None = None


class Action(_Model):
    action_id: str
    value: str | None = None
    action_ts: str | None = None


class Interaction(_Model):
    type: str
    response_url: str | None = None
    actions: list[Action] = Field(default_factory=list)
    user: dict[str, Any] = Field(default_factory=dict)
    channel: dict[str, Any] | None = None
    container: dict[str, Any] = Field(default_factory=dict)
    message: dict[str, Any] | None = None


class Envelope(_Model):
    version: Literal[1]
    kind: Literal["event", "command", "interaction"]
    payload: dict[str, Any]
    received_at: float
    request_id: str = ""
    retry_num: int = 0
    retry_reason: str | None = None

    def event_callback(self) -> EventCallback:
        return EventCallback.model_validate(self.payload)

    def slash_command(self) -> SlashCommand:
        return SlashCommand.model_validate(self.payload)

    def interaction(self) -> Interaction:
        return Interaction.model_validate(self.payload)

    def dedupe_key(self) -> str | None:
        return schema.dedupe_key(self.kind, self.payload)

    def summary(self) -> dict[str, str]:
        return schema.summary(self.kind, self.payload)


_PAYLOAD_MODELS: dict[str, type[_Model]] = {
    "event": EventCallback,
    "command": SlashCommand,
    "interaction": Interaction,
}


def read(body: str) -> Envelope:
    try:
        raw = json.loads(body)
    except ValueError:
        raise Poison("body is not JSON") from None
    if not isinstance(raw, dict):
        raise Poison("body is not a JSON object")
    if raw.get("version") != schema.VERSION:
        raise Poison(f"unknown envelope version {raw.get('version')!r} (this worker reads {schema.VERSION})")
    try:
        envelope = Envelope.model_validate(raw)
        _PAYLOAD_MODELS[envelope.kind].model_validate(envelope.payload)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Poison(f"invalid envelope: {where}: {first['msg']}") from None
    return envelope
