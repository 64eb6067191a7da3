"""The whole pipeline in one test process: ingest handler → SQS (moto server) → worker handler → Slack stand-in.

``run_worker`` behaves like one invocation of Lambda's SQS event source mapping: receive a batch,
invoke ``worker.handler.lambda_handler`` with the real event shape and a context with a deadline,
delete what succeeded (``ReportBatchItemFailures``). ``drain`` repeats that until the queue is empty,
so records that failed come back after their (short) visibility timeout, as in AWS.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from ingest.handler import lambda_handler as ingest_handler
from sandbox import resources
from sandbox.poller import LambdaContext, failed_message_ids, sqs_event
from sandbox.slack_standin import SlackStandIn
from tests.support import slack_requests as sr
from worker import deadletters
from worker.handler import lambda_handler as worker_handler

FORM = "application/x-www-form-urlencoded"


@dataclass
class Invocation:
    records: list[dict[str, Any]]
    result: dict[str, Any]
    seconds: float

    @property
    def failed(self) -> list[str]:
        return [item["itemIdentifier"] for item in self.result.get("batchItemFailures", [])]


@dataclass
class Pipeline:
    sqs: Any
    queue_url: str
    dlq_url: str
    slack: SlackStandIn
    invocations: list[Invocation] = field(default_factory=list)

    def post(
        self, body: bytes, content_type: str = "application/json", door: str = "function_url", **kw: Any
    ) -> dict[str, Any]:
        """Slack delivers one request to the ingest; returns the ingest's answer."""
        return ingest_handler(sr.signed_event(door, body, content_type, **kw), LambdaContext(3.0, "ingest"))

    def post_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Hand the ingest an already built Lambda event."""
        return ingest_handler(event, LambdaContext(3.0, "ingest"))

    def command(self, text: str, **kw: Any) -> dict[str, Any]:
        """A slash command with a ``response_url`` and a ``trigger_id`` the stand-in issued just now."""
        kw.setdefault("trigger_id", self.slack.new_trigger_id())
        body = sr.slash_command(text, response_url=self.slack.new_response_url(), **kw)
        return self.post(body, FORM)

    def interact(self, payload: dict[str, Any]) -> dict[str, Any]:
        """An interaction (click, shortcut, modal submission, options request) as Slack posts it."""
        return self.post(sr.interaction(payload), FORM)

    def shortcut(self, callback_id: str, **kw: Any) -> dict[str, Any]:
        """A global shortcut carrying a fresh stand-in ``trigger_id``."""
        kw.setdefault("trigger_id", self.slack.new_trigger_id())
        return self.interact(sr.global_shortcut(callback_id, **kw))

    def submit(self, view: dict[str, Any], values: dict[str, str | None], **kw: Any) -> dict[str, Any]:
        """Submit a modal the bot opened (``view`` as it reached views.open) with ``values`` by block_id."""
        kw.setdefault("trigger_id", self.slack.new_trigger_id())
        return self.interact(sr.view_submission(view, values, **kw))

    def receive(
        self, queue_url: str | None = None, wait: int = 1, max_messages: int = 10
    ) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(
            QueueUrl=queue_url or self.queue_url,
            MaxNumberOfMessages=max_messages,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=wait,
        )
        return list(answer.get("Messages", []))

    def run_worker(
        self, *, timeout_seconds: float = 30.0, wait: int = 1, max_messages: int = 10
    ) -> Invocation | None:
        messages = self.receive(wait=wait, max_messages=max_messages)
        if not messages:
            return None
        return self.invoke(messages, timeout_seconds=timeout_seconds)

    def invoke(self, messages: list[dict[str, Any]], *, timeout_seconds: float = 30.0) -> Invocation:
        """One Lambda invocation; if the function dies (raises), the whole batch fails, as in AWS."""
        event = sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:work", "us-east-1")
        started = time.monotonic()
        ids = [m["MessageId"] for m in messages]
        try:
            result = worker_handler(event, LambdaContext(timeout_seconds, "worker"))
        except BaseException as crash:  # the function died: nothing is deleted, everything comes back
            result = {"batchItemFailures": [{"itemIdentifier": i} for i in ids], "crashed": repr(crash)}
        invocation = Invocation(event["Records"], result, time.monotonic() - started)
        self.invocations.append(invocation)
        failed = failed_message_ids({"batchItemFailures": result["batchItemFailures"]}, ids)
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(done[start : start + 10])
            ]
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        return invocation

    def depth(self, queue_url: str | None = None) -> int:
        """Messages on a queue, visible or in flight."""
        return sum(deadletters.depth(self.sqs, queue_url or self.queue_url).values())

    def drain(self, *, max_invocations: int = 30, timeout_seconds: float = 30.0) -> list[Invocation]:
        """Run the worker until the work queue is empty (failed records return after the visibility timeout)."""
        ran: list[Invocation] = []
        while self.depth() > 0:
            if len(ran) >= max_invocations:
                raise AssertionError(f"the queue did not drain in {max_invocations} invocations")
            invocation = self.run_worker(timeout_seconds=timeout_seconds)
            if invocation is not None:
                ran.append(invocation)
        return ran

    def dead_letters(self) -> list[dict[str, Any]]:
        return self.receive(self.dlq_url, wait=0)

    def send_raw(self, body: str, attributes: dict[str, Any] | None = None) -> str:
        """Put a message on the work queue directly (a poison record, or a duplicate delivery)."""
        return str(
            self.sqs.send_message(
                QueueUrl=self.queue_url, MessageBody=body, MessageAttributes=attributes or {}
            )["MessageId"]
        )

    def replies(self) -> list[dict[str, Any]]:
        return self.slack.replies()

    def reply_texts(self) -> list[str]:
        return [str(r["args"].get("text", "")) for r in self.replies()]


def queued_bodies(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(m["Body"]) for m in messages]


def new_pipeline(
    moto_url: str,
    slack: SlackStandIn,
    setenv: Callable[[str, str], None],
    *,
    prefix: str,
    visibility_timeout: int | None = None,
) -> tuple[Pipeline, resources.Resources]:
    """Fresh queues and table on moto (named ``<prefix><random>-…``; the template's visibility timeout
    unless one is given), and the functions pointed at them and at the Slack stand-in."""
    sqs = boto3.client("sqs", endpoint_url=moto_url)
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_url)
    timeout = {} if visibility_timeout is None else {"visibility_timeout": visibility_timeout}
    created = resources.create(f"{prefix}{uuid.uuid4().hex[:12]}", sqs, dynamodb, **timeout)
    for name, value in created.env().items():
        setenv(name, value)
    setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    setenv("SLACK_API_URL", slack.api_url)
    return Pipeline(sqs=sqs, queue_url=created.queue_url, dlq_url=created.dlq_url, slack=slack), created
