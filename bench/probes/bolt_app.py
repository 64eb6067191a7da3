"""Bolt for Python's AWS Lambda adapter doing the ingest's work: verify, ack, one SQS message.

Set up as its documentation says for Lambda: ``process_before_response=True`` (Lambda freezes the
process when the handler returns, so the listener runs before the answer), the signing secret, and an
``authorize`` that needs no network (a ``token`` would make Bolt call ``auth.test`` on the first
request). The ``app_mention`` listener acks and sends the event to the work queue with boto3, with
the message attributes the ingest sets: the same work as ``ingest.handler``. Used by the cold probe
(``bolt_cold.py``) and the warm benchmark.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import boto3

# The ``bench`` extra installs slack_bolt; ``make lint`` type-checks without it (``.[dev]``).
from slack_bolt import Ack, App  # type: ignore[import-not-found, unused-ignore]
from slack_bolt.adapter.aws_lambda import SlackRequestHandler  # type: ignore[import-not-found, unused-ignore]
from slack_bolt.authorization import AuthorizeResult  # type: ignore[import-not-found, unused-ignore]

BOT_USER = "UBOT"


def attributes(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The message attributes the ingest sets, so that SQS (moto) does the same work for both."""
    event = body.get("event") or {}
    values = {
        "kind": "event",
        "event_id": body.get("event_id"),
        "team": body.get("team_id"),
        "channel": event.get("channel"),
        "user": event.get("user"),
        "type": event.get("type"),
        "version": "1",
    }
    return {name: {"DataType": "String", "StringValue": str(v)} for name, v in values.items() if v}


def build(signing_secret: str, sqs: Any = None) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    client = sqs if sqs is not None else boto3.client("sqs")

    def authorize(enterprise_id: str | None, team_id: str | None, **_: Any) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token="xoxb-bench-not-used",
            bot_id="B0BENCH",
            bot_user_id=BOT_USER,
        )

    app = App(
        signing_secret=signing_secret,
        process_before_response=True,
        authorize=authorize,
        token_verification_enabled=False,
    )

    def enqueue(body: dict[str, Any], ack: Ack) -> None:
        ack()
        client.send_message(
            QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(body), MessageAttributes=attributes(body)
        )

    app.event("app_mention")(enqueue)
    handle: Callable[[dict[str, Any], Any], dict[str, Any]] = SlackRequestHandler(app).handle
    return handle
