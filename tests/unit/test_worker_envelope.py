"""Reading the queued envelope: what is valid, and what is poison for good."""

from __future__ import annotations

import json

import pytest

from shared import envelope as schema
from tests.support import slack_requests as sr
from worker.envelope import read
from worker.errors import Poison


def _body(kind: str = "event", payload: dict | None = None, **changes: object) -> str:
    payload = payload if payload is not None else json.loads(sr.mention(event_id="Ev1"))
    envelope = dict(schema.build(kind, payload, received_at=1.0, request_id="r"))  # type: ignore[arg-type]
    envelope.update(changes)
    return json.dumps(envelope)


def test_a_valid_envelope_is_read_with_its_payload() -> None:
    envelope = read(_body())
    assert envelope.kind == "event"
    assert envelope.event_callback().event.type == "app_mention"
    # A message is known by the message itself: Slack's retries and re-sends carry the same one.
    key = envelope.dedupe_key()
    assert key is not None and key.startswith("message:T0001:C0001:")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "not JSON"),
        ("[1]", "not a JSON object"),
        (_body(version=2), "unknown envelope version 2"),
        (_body(version=None), "unknown envelope version None"),
        (_body(kind="mystery"), "invalid envelope: kind"),
        (_body(payload={"event_id": "Ev1"}), "invalid envelope: event"),
        (_body(kind="command", payload={"command": "/ops", "text": "ping"}), "response_url"),
        (_body(received_at="yesterday"), "received_at"),
    ],
)
def test_unreadable_records_are_poison_with_a_reason(body: str, reason: str) -> None:
    with pytest.raises(Poison) as raised:
        read(body)
    assert reason in raised.value.reason


def test_the_dedupe_key_identifies_commands_and_clicks_by_what_slack_gives_them() -> None:
    command = dict(_form(sr.slash_command()))
    assert schema.dedupe_key("command", command) == f"command:{command['trigger_id']}"
    click = sr.block_action()
    assert schema.dedupe_key("interaction", click) == f"interaction:{click['trigger_id']}"
    del click["trigger_id"]
    assert (
        schema.dedupe_key("interaction", click) == f"interaction:U0HUMAN:{click['actions'][0]['action_ts']}"
    )


def test_an_event_without_a_message_is_known_by_its_event_id() -> None:
    payload = {
        "type": "event_callback",
        "event_id": "Ev9",
        "event": {"type": "app_home_opened", "user": "U1"},
    }
    assert schema.dedupe_key("event", payload) == "event:Ev9"
    assert schema.dedupe_key("event", {"event": {"type": "team_join", "user": {"id": "U1"}}}) is None


def _form(body: bytes) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(body.decode()))
