"""Text UTF-8 cannot carry (lone UTF-16 surrogates, valid as JSON escapes) is queued, replaced, and answered.

Slack's JSON may escape any character as ``\\uXXXX``; half of an emoji pair on its own parses to a lone
surrogate, which no UTF-8 encoder accepts. The ingest replaces it with U+FFFD, the same in the queued
envelope, its SQS message attributes and the log line, instead of failing with a 500 that Slack retries
three times and then gives up on.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ingest.handler import lambda_handler
from tests.conftest import Aws
from tests.support import slack_requests as sr
from tests.support.pipeline import Pipeline

DOORS = pytest.mark.parametrize("door", sr.FRONT_DOORS)
FORM = "application/x-www-form-urlencoded"
HIGH_HALF = "\ud83d"  # the first half of 😀 (\ud83d\ude00)


def attributes_of(message: dict[str, Any]) -> dict[str, str]:
    return {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}


@DOORS
@pytest.mark.usefixtures("signing_secret")
def test_a_mention_with_a_lone_surrogate_is_queued_with_it_replaced(
    door: str, aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    body = sr.mention(f"<@UBOT> ping {HIGH_HALF}", channel=f"C0{HIGH_HALF}", event_id="Ev0HALF")
    assert b"\\ud83d" in body  # valid JSON: the surrogate travels as an escape
    capsys.readouterr()
    result = lambda_handler(sr.signed_event(door, body), None)
    assert result["statusCode"] == 200
    (message,) = aws.messages()
    queued = json.loads(message["Body"])
    assert queued["payload"]["event"]["text"] == "<@UBOT> ping \ufffd"
    assert queued["payload"]["event"]["channel"] == "C0\ufffd"
    assert attributes_of(message)["channel"] == "C0\ufffd"  # the same replacement as in the body
    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines() if text.strip()]
    assert line["outcome"] == "queued" and line["channel"] == "C0\ufffd"


@pytest.mark.usefixtures("signing_secret")
def test_a_valid_surrogate_pair_is_kept_and_only_lone_halves_are_replaced(aws: Aws) -> None:
    body = sr.mention("<@UBOT> ping \ud83d\ude00 \ude00\ud83d")
    assert lambda_handler(sr.signed_event("http_api", body), None)["statusCode"] == 200
    (message,) = aws.messages()
    assert json.loads(message["Body"])["payload"]["event"]["text"] == "<@UBOT> ping 😀 \ufffd\ufffd"


@pytest.mark.usefixtures("signing_secret")
def test_an_interaction_with_a_lone_surrogate_in_a_key_and_a_value_is_queued(aws: Aws) -> None:
    payload = sr.block_action(value=f"x{HIGH_HALF}")
    payload["state"] = {"values": {f"b{HIGH_HALF}": {}}}
    result = lambda_handler(sr.signed_event("rest_api", sr.interaction(payload), FORM), None)
    assert result["statusCode"] == 200
    (message,) = aws.messages()
    queued = json.loads(message["Body"])["payload"]
    assert queued["actions"][0]["value"] == "x\ufffd"
    assert queued["state"] == {"values": {"b\ufffd": {}}}


def test_the_mention_ping_with_a_lone_surrogate_gets_its_pong(pipeline: Pipeline) -> None:
    result = pipeline.post(sr.mention(f"<@UBOT> ping {HIGH_HALF}", channel="C0HALF"))
    assert result["statusCode"] == 200
    (invocation,) = pipeline.drain()
    assert invocation.failed == []
    (reply,) = pipeline.replies()
    assert reply["args"]["channel"] == "C0HALF"
    assert reply["args"]["text"].startswith("pong")
    assert pipeline.dead_letters() == []
