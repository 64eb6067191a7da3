"""Put an envelope on the SQS work queue, or fail fast enough that Slack hears about it in time.

Slack waits 3 s for an answer. botocore's own retries back off for seconds, so they are off: this
module retries itself, only while another whole attempt still fits in the budget, and otherwise
raises ``EnqueueFailed`` so the ingest can answer 503 and let Slack deliver again later.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from shared.config import env, env_float

# One attempt is at most connect + read timeout (botocore applies the read timeout per socket read,
# and an SQS answer is one small read). SQS answers in tens of milliseconds; the sandbox's moto on a
# loaded laptop can take longer, so both can be set (SQS_CONNECT_TIMEOUT_SECONDS, SQS_READ_TIMEOUT_SECONDS).
CONNECT_TIMEOUT = 0.3
READ_TIMEOUT = 0.8
DEFAULT_BUDGET_SECONDS = 2.5  # from the moment the request arrived; leaves Slack's 3 s some slack
MAX_MESSAGE_BYTES = 1024 * 1024  # SQS's maximum; the work queue is created with it set explicitly


# The characters SQS accepts in a message body and in string attributes; it refuses the whole message
# for any other. JSON escapes control characters, but a noncharacter such as U+FFFF passes through
# json.dumps as is, and attributes repeat Slack's fields raw.
_REFUSED_BY_SQS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def sqs_text(text: str) -> str:
    """``text`` with every character SQS refuses replaced by U+FFFD (inside a JSON string, still JSON)."""
    return _REFUSED_BY_SQS.sub("\ufffd", text)


class EnqueueFailed(Exception):
    """The queue did not take the message in time; the caller answers 5xx so that Slack retries."""


class MessageTooLarge(EnqueueFailed):
    """The message can never fit in SQS; retrying cannot help."""


def _region() -> str:
    return env("AWS_REGION") or env("AWS_DEFAULT_REGION") or "us-east-1"


class WorkQueue:
    """The SQS client, built once per container and rebuilt only if the endpoint changes (tests, sandbox)."""

    def __init__(self) -> None:
        self._client: Any = None
        self._built_for: tuple[str, str, float, float] | None = None
        self.attempt_seconds = CONNECT_TIMEOUT + READ_TIMEOUT

    def client(self) -> Any:
        endpoint = os.environ.get("AWS_ENDPOINT_URL_SQS") or os.environ.get("AWS_ENDPOINT_URL", "")
        connect = env_float("SQS_CONNECT_TIMEOUT_SECONDS", CONNECT_TIMEOUT)
        read = env_float("SQS_READ_TIMEOUT_SECONDS", READ_TIMEOUT)
        key = (endpoint, _region(), connect, read)
        if self._client is None or self._built_for != key:
            config = Config(
                connect_timeout=connect,
                read_timeout=read,
                retries={"total_max_attempts": 1},  # retried here, within the budget
                tcp_keepalive=True,
            )
            self._client = boto3.client("sqs", region_name=key[1], config=config)
            self._built_for = key
            self.attempt_seconds = connect + read
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
                answer = self.client().send_message(
                    QueueUrl=queue_url, MessageBody=body, MessageAttributes=attributes
                )
                return str(answer["MessageId"])
            except (BotoCoreError, ClientError) as error:
                if not _worth_retrying(error):
                    raise EnqueueFailed(_describe(error)) from error
                backoff = min(0.05 * 2 ** (attempt - 1), 0.4)
                if time.monotonic() + backoff + self.attempt_seconds > deadline:
                    raise EnqueueFailed(f"{_describe(error)} after {attempt} attempt(s)") from error
                time.sleep(backoff)  # a pause between network attempts, not a synchronisation


def _worth_retrying(error: Exception) -> bool:
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = error.response.get("Error", {}).get("Code", "")
        return status >= 500 or "Throttl" in code or code in {"RequestThrottled", "ServiceUnavailable"}
    return True  # connection refused, timeouts, DNS: the network may come back


def _describe(error: Exception) -> str:
    if isinstance(error, ClientError):
        return f"SQS {error.response.get('Error', {}).get('Code', 'error')}"
    return error.__class__.__name__
