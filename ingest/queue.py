"""Put an envelope on the SQS work queue, or fail fast enough that Slack hears about it in time.

Slack waits 3 s for an answer. This module retries itself, only while another whole attempt still
fits in the budget, and otherwise raises ``EnqueueFailed`` so the ingest can answer 503 and let Slack
deliver again later. The SQS client is the ingest's own (``ingest/aws/client.py``: no boto3 on this
path, whose import alone would double a cold start), or boto3 where credentials are not in the
environment.
"""

from __future__ import annotations

import re
import time
from typing import Any

from ingest.aws.client import (
    SQS,
    Api,
    AwsError,
    TransportError,
    connect,
    endpoint_url,
    env_credentials,
    retryable,
)
from shared.config import env_float, region

# One attempt is at most connect + read timeout (the read timeout applies per socket read, and an SQS
# answer is one small read). SQS answers in tens of milliseconds; the sandbox's moto on a
# loaded laptop can take longer, so both can be set (SQS_CONNECT_TIMEOUT_SECONDS, SQS_READ_TIMEOUT_SECONDS).
CONNECT_TIMEOUT = 0.3
READ_TIMEOUT = 0.8
DEFAULT_BUDGET_SECONDS = 2.5  # from the moment the request arrived; leaves Slack's 3 s some slack
MAX_MESSAGE_BYTES = 1024 * 1024  # SQS's maximum; the work queue is created with it set explicitly


# SQS accepts #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF in a message body and in
# string attributes, and refuses the whole message for any other character. JSON escapes control
# characters, but a noncharacter such as U+FFFF passes through json.dumps as is, and attributes repeat
# Slack's fields raw. Written as the (small) complement of that list: the negated class with its huge
# ranges takes sre 10-20 ms to compile, a cost every cold start would pay.
_REFUSED_BY_SQS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def sqs_text(text: str) -> str:
    """``text`` with every character SQS refuses replaced by U+FFFD (inside a JSON string, still JSON)."""
    return _REFUSED_BY_SQS.sub("\ufffd", text)


class EnqueueFailed(Exception):
    """The queue did not take the message in time; the caller answers 5xx so that Slack retries."""


class MessageTooLarge(EnqueueFailed):
    """The message can never fit in SQS; retrying cannot help."""


class WorkQueue:
    """The SQS client, built once per container and rebuilt only if its settings change (tests, sandbox)."""

    def __init__(self) -> None:
        self._client: Api | None = None
        self._built_for: tuple[str, str, float, float, bool] | None = None
        self.attempt_seconds = CONNECT_TIMEOUT + READ_TIMEOUT

    def client(self) -> Api:
        connect_timeout = env_float("SQS_CONNECT_TIMEOUT_SECONDS", CONNECT_TIMEOUT)
        read_timeout = env_float("SQS_READ_TIMEOUT_SECONDS", READ_TIMEOUT)
        key = (endpoint_url(SQS), region(), connect_timeout, read_timeout, env_credentials() is not None)
        if self._client is None or self._built_for != key:
            if self._client is not None:
                self._client.close()
            self._client = connect(SQS, connect_timeout, read_timeout)
            self._built_for = key
            self.attempt_seconds = connect_timeout + read_timeout
        return self._client

    def send(self, queue_url: str, body: str, attributes: dict[str, Any], started: float) -> str:
        """Send one message, retrying within the budget. Returns the SQS message id."""
        body = sqs_text(body)
        attributes = {
            name: {**value, "StringValue": sqs_text(value["StringValue"])}
            for name, value in attributes.items()
        }
        size = len(body.encode("utf-8")) + sum(
            len(name) + len(value["DataType"]) + len(value["StringValue"])
            for name, value in attributes.items()
        )
        if size > MAX_MESSAGE_BYTES:
            raise MessageTooLarge(f"{size} bytes is more than SQS takes")
        deadline = started + env_float("ENQUEUE_BUDGET_SECONDS", DEFAULT_BUDGET_SECONDS)
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = self.client().call(
                    "SendMessage",
                    {"QueueUrl": queue_url, "MessageBody": body, "MessageAttributes": attributes},
                )
                return str(answer.get("MessageId", ""))
            except (AwsError, TransportError) as error:
                if not retryable(error):
                    raise EnqueueFailed(_describe(error)) from error
                backoff = min(0.05 * 2 ** (attempt - 1), 0.4)
                if time.monotonic() + backoff + self.attempt_seconds > deadline:
                    raise EnqueueFailed(f"{_describe(error)} after {attempt} attempt(s)") from error
                time.sleep(backoff)  # a pause between network attempts, not a synchronisation


def _describe(error: Exception) -> str:
    if isinstance(error, AwsError):
        return f"SQS {error.code}"
    return str(error).split(":", 1)[0]  # the exception's class: timeout, refused, reset
