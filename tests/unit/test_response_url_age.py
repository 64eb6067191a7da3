"""When a response_url is past use (30 minutes after the ingest received it), and which records use one."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl

import pytest

from shared import envelope as schema
from tests.support import slack_requests as sr
from worker import route
from worker.envelope import QueuedEnvelope

NOW = 1_800_000_000.0
MINUTE = 60.0


@pytest.mark.parametrize(
    ("age_seconds", "expired"),
    [
        (0, False),
        (29 * MINUTE + 59, False),  # younger than 30 minutes: still Slack's to take
        (30 * MINUTE, True),
        (31 * MINUTE, True),
        (-120, False),  # the ingest's clock ahead of the worker's: not expired
    ],
)
def test_a_response_url_expires_30_minutes_after_it_was_received(age_seconds: float, expired: bool) -> None:
    assert schema.response_url_expired(NOW - age_seconds, NOW) is expired


def _command(**fields: str) -> dict[str, Any]:
    return {**dict(parse_qsl(sr.slash_command("ping").decode())), **fields}


def _click(**extra: Any) -> dict[str, Any]:
    return sr.block_action("check:recheck", "https://example.org", **extra)


EPHEMERAL = {"type": "message", "message_ts": "1.2", "channel_id": "C0001", "is_ephemeral": True}


@pytest.mark.parametrize(
    ("kind", "payload", "through_response_url"),
    [
        ("command", _command(), True),
        ("interaction", _click(container=EPHEMERAL), True),
        ("interaction", _click(), False),  # an ordinary message's button: chat.update
        ("interaction", _click(container={"type": "view"}, channel=None, message=None), True),
    ],
    ids=["command", "ephemeral-click", "message-click", "click-without-message"],
)
def test_the_records_counted_are_those_the_worker_answers_through_their_response_url(
    kind: schema.Kind, payload: dict[str, Any], through_response_url: bool
) -> None:
    assert schema.answered_through_response_url(kind, payload) is through_response_url
    envelope = QueuedEnvelope.model_validate(schema.build(kind, payload, received_at=NOW, request_id="r"))
    job = route.plan(envelope, time.monotonic() + 60)
    assert isinstance(job, route.Job)
    assert isinstance(job.destination, route.ResponseUrl) is through_response_url


def test_the_route_dates_the_response_url_and_says_who_to_answer_instead() -> None:
    envelope = QueuedEnvelope.model_validate(
        schema.build("command", _command(), received_at=NOW, request_id="r")
    )
    job = route.plan(envelope, time.monotonic() + 60)
    assert isinstance(job, route.Job) and isinstance(job.destination, route.ResponseUrl)
    assert (job.destination.received_at, job.destination.channel, job.destination.user) == (
        NOW,
        "C0001",
        "U0HUMAN",
    )


@pytest.mark.parametrize(
    ("envelope", "carries"),
    [
        (schema.build("command", _command(), received_at=NOW - 31 * MINUTE, request_id="r"), True),
        (schema.build("command", _command(), received_at=NOW - 5 * MINUTE, request_id="r"), False),
        (
            schema.build("command", _command(response_url=""), received_at=NOW - 31 * MINUTE, request_id="r"),
            False,
        ),
        (schema.build("interaction", _click(), received_at=NOW - 31 * MINUTE, request_id="r"), False),
        (schema.build("event", {"event": {}}, received_at=NOW - 31 * MINUTE, request_id="r"), False),
        ({"kind": "command", "payload": _command(), "received_at": "yesterday"}, False),
        ({"kind": "command", "payload": _command(), "received_at": True}, False),
    ],
    ids=["old-command", "fresh-command", "no-url", "message-click", "event", "bad-time", "bool-time"],
)
def test_which_queued_records_carry_an_expired_response_url(envelope: Any, carries: bool) -> None:
    assert schema.carries_expired_response_url(envelope, NOW) is carries
