"""Reading the queued envelope: poison is only what cannot be read; the Slack payload is the router's."""

from __future__ import annotations

import json
import time

import pytest

from shared import envelope as schema
from tests.fixtures import corpus
from tests.support import slack_requests as sr
from worker import route
from worker.envelope import read
from worker.errors import Poison

OBJECT_VALUED_EVENTS = [
    "team_join_sample",
    "team_join_minimal",
    "user_change_sample",
    "user_change_minimal",
    "user_profile_changed",
    "user_status_changed",
    "user_huddle_changed",
    "channel_created",
    "channel_rename",
    "group_rename",
    "im_created",
]


def _body(kind: str = "event", payload: object = None, **changes: object) -> str:
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
        (_body(payload="an event"), "invalid envelope: payload"),
        (_body(received_at="yesterday"), "received_at"),
    ],
)
def test_unreadable_records_are_poison_with_a_reason(body: str, reason: str) -> None:
    with pytest.raises(Poison) as raised:
        read(body)
    assert reason in raised.value.reason


@pytest.mark.parametrize("item", corpus.load(), ids=lambda item: item.name)
def test_every_real_slack_payload_is_read_and_planned_without_poison(item: corpus.Item) -> None:
    envelope = read(_body(item.kind, item.payload))
    job = route.plan(envelope, time.monotonic() + 60)
    assert isinstance(job, route.Job | route.Ignored)
    if isinstance(job, route.Ignored):
        assert job.reason  # an ignored record always says why in its log line


@pytest.mark.parametrize("name", OBJECT_VALUED_EVENTS)
def test_events_whose_user_or_channel_is_an_object_are_ignored_not_poison(name: str) -> None:
    item = corpus.item(f"events/{name}")
    event = item.payload["event"]
    assert isinstance(event.get("user"), dict) or isinstance(event.get("channel"), dict)
    job = route.plan(read(_body("event", item.payload)), time.monotonic() + 60)
    assert isinstance(job, route.Ignored) and event["type"] in job.reason


def test_legacy_attachment_buttons_are_ignored_not_poison() -> None:
    payload = corpus.item("interactions/interactive_message").payload
    assert "action_id" not in payload["actions"][0] and payload["actions"][0]["name"]
    job = route.plan(read(_body("interaction", payload)), time.monotonic() + 60)
    assert job == route.Ignored("no skill handles interaction interactive_message")


def test_a_payload_that_lacks_what_its_route_needs_is_ignored_with_the_reason() -> None:
    mention = json.loads(sr.mention(extra={"channel": {"id": "C0001"}}))
    command = {"command": "/ops", "text": "ping"}
    click = sr.block_action("check:recheck", **{"actions": [{"name": "recheck"}]})
    planned = [
        route.plan(read(_body(kind, payload)), time.monotonic() + 60)
        for kind, payload in (("event", mention), ("command", command), ("interaction", click))
    ]
    reasons = [job.reason for job in planned if isinstance(job, route.Ignored)]
    assert reasons == [
        "event lacks what its route needs: event.channel: Input should be a valid string",
        "command lacks what its route needs: response_url: Field required",
        "interaction lacks what its route needs: actions.0.action_id: Field required",
    ]


def test_summary_names_the_id_of_an_object_valued_user_or_channel() -> None:
    user_change = corpus.item("events/user_status_changed").payload
    assert schema.summary("event", user_change)["user"] == "U111"
    channel_created = corpus.item("events/channel_created").payload
    summary = schema.summary("event", channel_created)
    assert summary["channel"] == "C024BE91L" and "user" not in summary
    blank = corpus.item("events/user_change_sample").payload  # every id blanked: left out, not ""
    assert set(schema.summary("event", blank)) == {"kind", "type"}


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


def test_a_blank_id_is_never_a_dedupe_key() -> None:
    """Two different events with a blank ``event_id`` must not be taken for one."""
    assert schema.dedupe_key("event", corpus.item("events/user_change_sample").payload) is None
    blank_message = json.loads(sr.direct_message())
    blank_message["event_id"] = blank_message["event"]["ts"] = blank_message["event"]["channel"] = ""
    assert schema.dedupe_key("event", blank_message) is None
    assert schema.dedupe_key("command", {"command": "/x", "trigger_id": ""}) is None


def _form(body: bytes) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(body.decode()))
