"""Commands and clicks whose ``response_url`` is past use are answered another way, never lost.

Through the real worker handler: SQS (moto server) → the worker → the Slack stand-in. An old record
(envelope received 31 minutes ago, as after retries or a redrive) is built with ``shared.envelope.build``
and queued directly; a fresh one goes through the ingest, and the stand-in makes its response_url refuse.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qsl

import pytest

from shared import envelope as schema
from tests.support import slack_requests as sr
from tests.support.pipeline import Pipeline

USER, CHANNEL = "U0HUMAN", "C0001"  # who sent sr.slash_command and sr.block_action, and where


def _queue_old(pipeline: Pipeline, kind: schema.Kind, payload: dict[str, Any], minutes: float = 31) -> None:
    """Queue a record as the ingest would have ``minutes`` ago."""
    envelope = schema.build(kind, payload, received_at=time.time() - minutes * 60, request_id="r-old")
    pipeline.send_raw(schema.dumps(envelope), schema.message_attributes(envelope))


def _old_command(pipeline: Pipeline, text: str = "ping", minutes: float = 31) -> str:
    url = pipeline.slack.new_response_url()
    form = dict(parse_qsl(sr.slash_command(text, response_url=url).decode()))
    _queue_old(pipeline, "command", form, minutes)
    return url


def _dead(pipeline: Pipeline) -> list[tuple[str, str]]:
    return [
        (
            m["MessageAttributes"][schema.DEAD_REASON]["StringValue"],
            m["MessageAttributes"][schema.DEAD_CATEGORY]["StringValue"],
        )
        for m in pipeline.dead_letters()
    ]


def _methods(pipeline: Pipeline) -> list[tuple[str, bool]]:
    return [(record["method"] or record["kind"], record["ok"]) for record in pipeline.slack.calls()]


def test_an_old_command_is_answered_ephemerally_and_its_response_url_is_not_contacted(
    pipeline: Pipeline,
) -> None:
    _old_command(pipeline, "ping")
    invocations = pipeline.drain()

    assert all(invocation.failed == [] for invocation in invocations)
    assert _methods(pipeline) == [("chat.postEphemeral", True)]  # no response_url post at all
    (reply,) = pipeline.replies()
    assert reply["args"]["channel"] == CHANNEL and reply["args"]["user"] == USER
    assert reply["args"]["text"].startswith("pong")
    assert pipeline.dead_letters() == []


def test_a_command_28_minutes_old_still_uses_its_response_url(pipeline: Pipeline) -> None:
    _old_command(pipeline, "ping", minutes=28)
    pipeline.drain()
    assert _methods(pipeline) == [("response_url", True)]


@pytest.mark.parametrize(
    "refusal",
    ["expired", "used_url", "404"],
)
def test_a_response_url_slack_refuses_as_gone_falls_back_to_post_ephemeral(
    pipeline: Pipeline, refusal: str
) -> None:
    url = pipeline.slack.new_response_url()
    if refusal == "expired":
        pipeline.slack.expire_response_url(url)  # answers 404 expired_url
    elif refusal == "used_url":
        pipeline.slack.add_fault(method="response_url", status=400, error="used_url")
    else:
        pipeline.slack.add_fault(method="response_url", status=404, error="no_service")
    body = sr.slash_command("ping", response_url=url)
    assert pipeline.post(body, "application/x-www-form-urlencoded")["statusCode"] == 200
    invocations = pipeline.drain()

    assert all(invocation.failed == [] for invocation in invocations)
    assert _methods(pipeline) == [("response_url", False), ("chat.postEphemeral", True)]
    (reply,) = pipeline.replies()
    assert (reply["args"]["channel"], reply["args"]["user"]) == (CHANNEL, USER)
    assert pipeline.dead_letters() == []


@pytest.mark.parametrize("refusal", ["channel_not_found", "not_in_channel", "user_not_in_channel"])
def test_when_post_ephemeral_is_refused_a_direct_message_gets_the_answer(
    pipeline: Pipeline, refusal: str
) -> None:
    if refusal == "user_not_in_channel":
        pipeline.slack.users_not_in_channels.add(USER)
    else:
        pipeline.slack.add_fault(method="chat.postEphemeral", status=200, error=refusal)
    _old_command(pipeline, "ping")
    invocations = pipeline.drain()

    assert all(invocation.failed == [] for invocation in invocations)
    assert _methods(pipeline) == [
        ("chat.postEphemeral", False),
        ("conversations.open", True),
        ("chat.postMessage", True),
    ]
    opened, posted = pipeline.slack.calls()[1:]
    assert opened["args"]["users"] == USER
    dm = opened["response"]["channel"]["id"]
    assert dm.startswith("D") and posted["args"]["channel"] == dm
    assert posted["args"]["text"].startswith("pong")
    assert f"I could not answer you in <#{CHANNEL}>" in json.dumps(posted["args"]["blocks"])
    assert pipeline.dead_letters() == []


def test_when_even_the_direct_message_is_refused_the_record_is_dead_lettered_with_every_reason(
    pipeline: Pipeline,
) -> None:
    pipeline.slack.add_fault(method="chat.postEphemeral", status=200, error="channel_not_found")
    pipeline.slack.add_fault(method="conversations.open", status=200, error="user_not_found")
    _old_command(pipeline, "ping")
    invocations = pipeline.drain()

    assert [invocation.failed for invocation in invocations] == [[]]  # dead-lettered at once, not retried
    assert pipeline.replies() == []
    assert _dead(pipeline) == [
        (
            "response_url 31 min old; chat.postEphemeral: channel_not_found; direct message: user_not_found",
            "permanent",
        )
    ]


def test_a_transient_failure_of_the_fallback_is_retried_and_then_answered(pipeline: Pipeline) -> None:
    pipeline.slack.add_fault(method="chat.postEphemeral", status=503, times=4)  # the SDK retries 3 times
    _old_command(pipeline, "ping")
    invocations = pipeline.drain()

    assert len(invocations) == 2 and invocations[0].failed and not invocations[1].failed
    assert [reply["method"] for reply in pipeline.replies()] == ["chat.postEphemeral"]
    assert pipeline.dead_letters() == []


def test_an_old_click_on_an_ephemeral_message_is_answered_ephemerally(pipeline: Pipeline) -> None:
    url = pipeline.slack.new_response_url()
    click = sr.block_action(
        "check:recheck",
        "http://169.254.169.254/latest/meta-data/",  # refused by the checker: only Slack is contacted
        container={"type": "message", "message_ts": "1700000000.000100", "is_ephemeral": True},
        response_url=url,
    )
    _queue_old(pipeline, "interaction", click)
    pipeline.drain()

    assert _methods(pipeline) == [("chat.postEphemeral", True)]  # not the response_url's replace_original
    (reply,) = pipeline.replies()
    assert (reply["args"]["channel"], reply["args"]["user"]) == (CHANNEL, USER)
    assert "169.254.169.254" in json.dumps(reply["args"])


def test_a_forged_response_url_is_refused_first_even_when_old(pipeline: Pipeline) -> None:
    form = dict(parse_qsl(sr.slash_command("ping", response_url="https://evil.example/x").decode()))
    _queue_old(pipeline, "command", form)
    pipeline.drain()

    assert pipeline.slack.calls() == []  # nothing is posted in its place either
    assert _dead(pipeline) == [("forged response_url", "permanent")]
