"""For the SRE command tests: run ``slackbot`` in-process, and make real dead letters through the pipeline."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

import pytest

from ops import cli
from shared import envelope as schema
from tests.support import slack_requests as sr
from tests.support.pipeline import Pipeline
from worker import deadletters

POISON_BODY = "{this is not an envelope"


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def slackbot(capsys: pytest.CaptureFixture[str], *argv: str) -> CliResult:
    """``slackbot ARGV…`` in this process (the environment is the test's); its exit code and output."""
    capsys.readouterr()
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


def kill_permanently(pipeline: Pipeline, event_id: str, channel: str = "C0GONE") -> None:
    """A mention Slack refuses for good (``channel_not_found``): the worker dead-letters it at once."""
    pipeline.slack.add_fault(method="chat.postMessage", status=200, error="channel_not_found", times=1)
    pipeline.post(sr.mention("<@UBOT> ping", event_id=event_id, channel=channel))
    pipeline.drain()


def kill_old_command(pipeline: Pipeline, user: str, minutes: float = 31) -> None:
    """A slash command queued ``minutes`` ago (its response_url past use) whose every other way to its user
    is refused for good (``channel_not_found``, then ``user_not_found``): the worker dead-letters it."""
    form = dict(parse_qsl(sr.slash_command("ping", response_url=pipeline.slack.new_response_url()).decode()))
    form["user_id"] = user
    envelope = schema.build("command", form, received_at=time.time() - minutes * 60, request_id="r-old")
    pipeline.slack.add_fault(method="chat.postEphemeral", status=200, error="channel_not_found")
    pipeline.slack.add_fault(method="conversations.open", status=200, error="user_not_found")
    pipeline.send_raw(schema.dumps(envelope), schema.message_attributes(envelope))
    pipeline.drain()


def poison(pipeline: Pipeline) -> str:
    """A body that is not an envelope: the worker dead-letters it as poison. Its work queue message id."""
    source_id = pipeline.send_raw(POISON_BODY, {"kind": {"DataType": "String", "StringValue": "event"}})
    pipeline.drain()
    return source_id


def exhaust_retries(pipeline: Pipeline, event_id: str) -> None:
    """Slack answers 503 until SQS itself moves the record to the DLQ after 5 receives."""
    pipeline.slack.add_fault(method="chat.postMessage", status=503, times=1000)
    pipeline.post(sr.mention("<@UBOT> ping", event_id=event_id, channel="C0FLAKY"))
    pipeline.drain(timeout_seconds=5.0)
    pipeline.slack.clear_faults()


def dead_letter_ids(pipeline: Pipeline) -> dict[str, str]:
    """The DLQ's message ids by event id (``"poison"`` for an unreadable body), read without removing."""
    found = deadletters.scan(pipeline.sqs, pipeline.dlq_url, hold_seconds=5)
    return {letter.summary().get("event_id") or "poison": letter.message_id for letter in found}
