"""An SQS poller that behaves like Lambda's SQS event source mapping, for the local sandbox.

Lambda's event source mapping long-polls the queue, gathers a batch (up to ``BatchSize`` messages, or
until ``MaximumBatchingWindowInSeconds`` has passed), invokes the function with the SQS event, and then
settles the batch. With ``ReportBatchItemFailures`` on (as in ``infra/template.yaml``):

- the function returns ``None``, ``{}``, ``{"batchItemFailures": []}`` or ``null`` failures: every
  message is deleted;
- it lists some messages in ``batchItemFailures``: every other message is deleted, the listed ones are
  left alone, come back after the visibility timeout and, after ``maxReceiveCount`` receives, SQS
  itself moves them to the dead-letter queue;
- it raises, times out, or returns a malformed answer (not a JSON object, an item without a known
  ``itemIdentifier``, an empty or null identifier): the whole batch failed and nothing is deleted.

The visibility of failed messages is not changed (Lambda does not change it either)::

    with SqsPoller(queue_url, worker.handler.lambda_handler, on_batch=print) as poller:
        poller.wait_for_batches(1)

Each of ``concurrency`` threads runs receive, invoke, settle on its own, like that many concurrent
invocations. A handler cannot be killed from outside its thread: one that overruns the function
timeout runs to its end and the batch is then reported as timed out, with nothing deleted.
Stdlib and boto3 only.
"""

from __future__ import annotations

import base64
import collections
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from sandbox.serving import StartStop
from shared import config as shared_config

__all__ = [
    "BatchReport",
    "LambdaContext",
    "MalformedBatchResponse",
    "SqsPoller",
    "failed_message_ids",
    "sqs_event",
]

Handler = Callable[[dict[str, Any], Any], Any]

DEFAULT_ACCOUNT_ID = "123456789012"  # moto's account
SQS_MAX_RECEIVE = 10  # ReceiveMessage and DeleteMessageBatch take at most 10
MAX_BATCH_SIZE = 10_000  # standard queues
MAX_WINDOW_SECONDS = 300.0
MAX_WAIT_SECONDS = 20
_BACKOFF_FIRST = 0.1
_BACKOFF_MAX = 5.0
_REPORTS_KEPT = 1000

_log = logging.getLogger(__name__)


# -- the context Lambda passes a handler ------------------------------------------------------------


class LambdaContext:
    """What the Python runtime passes as ``context``: names, ARN, request id, remaining time.

    ``memory_limit_in_mb`` is a string, as in the real runtime (it reads it from the environment).
    """

    def __init__(
        self,
        timeout_seconds: float = 3.0,
        function_name: str = "function",
        *,
        memory_limit_in_mb: int = 128,
        region: str | None = None,
        account_id: str = DEFAULT_ACCOUNT_ID,
        function_version: str = "$LATEST",
        aws_request_id: str | None = None,
    ) -> None:
        region = region or shared_config.region()
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        self.memory_limit_in_mb = str(memory_limit_in_mb)
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = (
            f"{time.strftime('%Y/%m/%d', time.gmtime())}/[{function_version}]{uuid.uuid4().hex}"
        )
        self.identity: Any = None
        self.client_context: Any = None
        self.timeout_seconds = timeout_seconds
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext(function_name={self.function_name!r}, aws_request_id={self.aws_request_id!r})"


# -- the event ---------------------------------------------------------------------------------------


def _lambda_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """boto3's ``{"StringValue", "DataType"}`` → Lambda's lowerCamelCase attribute value."""
    out: dict[str, Any] = {}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        raw = value["BinaryValue"]
        out["binaryValue"] = base64.b64encode(raw).decode("ascii") if isinstance(raw, bytes) else raw
    out["stringListValues"] = list(value.get("StringListValues", []))
    out["binaryListValues"] = [
        base64.b64encode(item).decode("ascii") if isinstance(item, bytes) else item
        for item in value.get("BinaryListValues", [])
    ]
    out["dataType"] = value.get("DataType", "String")
    return out


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The Lambda SQS event for ``ReceiveMessage`` results (asked with ``AttributeNames=["All"]`` and
    ``MessageAttributeNames=["All"]``)."""
    records: list[dict[str, Any]] = []
    for message in messages:
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message.get("Body", ""),
            "attributes": {name: str(value) for name, value in message.get("Attributes", {}).items()},
            "messageAttributes": {
                name: _lambda_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody", ""),
        }
        if message.get("MD5OfMessageAttributes"):
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        record["eventSource"] = "aws:sqs"
        record["eventSourceARN"] = queue_arn
        record["awsRegion"] = region
        records.append(record)
    return {"Records": records}


# -- settling a batch --------------------------------------------------------------------------------


class MalformedBatchResponse(Exception):
    """The function's answer cannot be read as a batch response: the whole batch failed."""


def failed_message_ids(result: Any, message_ids: list[str]) -> set[str]:
    """The messages a ``ReportBatchItemFailures`` response reports as failed.

    Raises ``MalformedBatchResponse`` where Lambda would fail the whole batch.
    """
    try:
        result = json.loads(json.dumps(result))  # the function's answer travels as JSON
    except (TypeError, ValueError) as error:
        raise MalformedBatchResponse(f"the response is not JSON serialisable: {error}") from error
    if result is None:
        return set()
    if not isinstance(result, dict):
        raise MalformedBatchResponse(f"the response is a {type(result).__name__}, not an object")
    items = result.get("batchItemFailures")
    if items is None:
        return set()
    if not isinstance(items, list):
        raise MalformedBatchResponse("batchItemFailures is not a list")
    known = set(message_ids)
    failed: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or "itemIdentifier" not in item:
            raise MalformedBatchResponse(f"a batch item failure without itemIdentifier: {item!r}")
        identifier = item["itemIdentifier"]
        if not isinstance(identifier, str) or not identifier:
            raise MalformedBatchResponse(f"an empty or null itemIdentifier: {identifier!r}")
        if identifier not in known:
            raise MalformedBatchResponse(f"itemIdentifier {identifier!r} is not a message of this batch")
        failed.add(identifier)
    return failed


@dataclass
class BatchReport:
    """One invocation of the handler and how its batch was settled."""

    received: int
    deleted: int
    failed_ids: list[str]
    error: str | None
    duration_ms: float
    message_ids: list[str]
    started_at: float = 0.0
    """Wall-clock time (epoch seconds) the handler was invoked."""
    collect_ms: float = 0.0
    """Time spent gathering the batch after the first receive returned messages (the batching window)."""
    timed_out: bool = False
    worker: int = 0
    """Which of the ``concurrency`` pollers ran it."""
    receive_counts: dict[str, int] = field(default_factory=dict)


class SqsPoller(StartStop):
    """Lambda's SQS event source mapping, for one queue and one handler, in ``concurrency`` threads."""

    def __init__(
        self,
        queue_url: str,
        handler: Handler,
        *,
        batch_size: int = 10,
        batching_window_seconds: float = 0.0,
        concurrency: int = 2,
        function_timeout_seconds: float = 60.0,
        wait_time_seconds: int = 20,
        sqs_client: Any | None = None,
        on_batch: Callable[[BatchReport], None] | None = None,
        function_name: str = "worker",
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"batch_size must be within 1..{MAX_BATCH_SIZE}")
        if not 0 <= batching_window_seconds <= MAX_WINDOW_SECONDS:
            raise ValueError(f"batching_window_seconds must be within 0..{MAX_WINDOW_SECONDS}")
        if batch_size > SQS_MAX_RECEIVE and batching_window_seconds < 1:
            # Lambda's own rule: a batch larger than one receive needs a window to gather it in.
            raise ValueError("a batch_size above 10 needs batching_window_seconds of at least 1")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not 0 <= wait_time_seconds <= MAX_WAIT_SECONDS:
            raise ValueError(f"wait_time_seconds must be within 0..{MAX_WAIT_SECONDS}")
        self.queue_url = queue_url
        self.handler = handler
        self.batch_size = batch_size
        self.batching_window_seconds = batching_window_seconds
        self.concurrency = concurrency
        self.function_timeout_seconds = function_timeout_seconds
        self.wait_time_seconds = wait_time_seconds
        self.function_name = function_name
        self.on_batch = on_batch
        self._sqs = sqs_client if sqs_client is not None else self._default_client()
        self._queue_arn: str | None = None

        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._cond = threading.Condition()
        self.batches = 0
        self.deleted_total = 0
        self.failed_total = 0
        """Messages left on the queue by failed batches or reported batch item failures."""
        self.errors = 0
        """Errors talking to SQS."""
        self.reports: collections.deque[BatchReport] = collections.deque(maxlen=_REPORTS_KEPT)
        self._in_flight = 0

    def _default_client(self) -> Any:
        import boto3
        from botocore.config import Config

        config = Config(
            max_pool_connections=max(10, 2 * self.concurrency),
            read_timeout=self.wait_time_seconds + 10,  # a long poll holds the socket that long
            retries={"mode": "standard", "max_attempts": 3},
        )
        return boto3.client("sqs", config=config)

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._threads:
            return self
        if self._stop.is_set():
            raise RuntimeError("a stopped SqsPoller cannot be started again")
        for index in range(self.concurrency):
            thread = threading.Thread(
                target=self._run, args=(index,), name=f"sqs-poller-{index}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        return self

    def request_stop(self) -> None:
        """Ask every thread to end after its current long poll or invocation; does not wait.

        Lets a caller stop several components at once and then join them (each ``stop()`` may wait
        up to ``wait_time_seconds``); safe to call from ``on_batch`` or the handler.
        """
        self._stop.set()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop polling and join every thread. A long poll or an invocation in flight finishes first
        (a long poll takes up to ``wait_time_seconds``). Returns whether every thread ended in time."""
        self._stop.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        alive = [thread for thread in self._threads if thread.is_alive()]
        self._threads = alive
        with self._cond:
            self._cond.notify_all()
        return not alive

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    # -- synchronisation for tests and the sandbox ---------------------------------------------------

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait until ``predicate()`` holds; it is checked after every batch. Returns it."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_for_batches(self, n: int, timeout: float = 10.0) -> bool:
        """Wait until at least ``n`` batches have been settled since the start."""
        return self.wait_for(lambda: self.batches >= n, timeout)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no invocation is in flight (a poller may still be long-polling)."""
        return self.wait_for(lambda: self._in_flight == 0, timeout)

    # -- the loop ----------------------------------------------------------------------------------

    def _run(self, index: int) -> None:
        backoff = _BACKOFF_FIRST
        while not self._stop.is_set():
            try:
                messages, collect_ms = self._collect()
            except Exception as error:  # endpoint gone, throttled, queue deleted: keep polling
                with self._cond:
                    self.errors += 1
                _log.warning("sqs poller %d: receive failed, retrying in %.1fs: %s", index, backoff, error)
                self._stop.wait(backoff)
                backoff = min(_BACKOFF_MAX, backoff * 2)
                continue
            backoff = _BACKOFF_FIRST
            if messages:
                # Received messages are invoked even when stopping: they are in flight already.
                self._invoke(index, messages, collect_ms)

    def _arn(self) -> str:
        if self._queue_arn is None:
            attributes = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
            self._queue_arn = str(attributes["Attributes"]["QueueArn"])
        return self._queue_arn

    def _receive(self, max_messages: int, wait_seconds: int) -> list[dict[str, Any]]:
        answer = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(SQS_MAX_RECEIVE, max_messages)),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(answer.get("Messages", []))

    def _collect(self) -> tuple[list[dict[str, Any]], float]:
        """One batch: a long poll, then (with a window) more receives until full or the window ends."""
        self._arn()
        messages = self._receive(self.batch_size, self.wait_time_seconds)
        if not messages or self.batching_window_seconds <= 0:
            return messages, 0.0
        first = time.monotonic()
        window_end = first + self.batching_window_seconds
        seen = {message["MessageId"] for message in messages}
        while len(messages) < self.batch_size and not self._stop.is_set():
            remaining = window_end - time.monotonic()
            if remaining <= 0:
                break
            # Whole seconds of long poll while they fit in the window; short polls for the last part.
            wait = int(remaining)
            try:
                more = self._receive(self.batch_size - len(messages), wait)
            except Exception as error:
                # Do not lose what is in hand: invoke with it.
                _log.warning("sqs poller: receive within the batching window failed: %s", error)
                with self._cond:
                    self.errors += 1
                break
            for message in more:
                if message["MessageId"] not in seen:  # at-least-once: a duplicate may arrive
                    seen.add(message["MessageId"])
                    messages.append(message)
            if not more and wait == 0:
                self._stop.wait(min(0.05, max(0.0, window_end - time.monotonic())))
        return messages, (time.monotonic() - first) * 1000

    def _invoke(self, index: int, messages: list[dict[str, Any]], collect_ms: float) -> None:
        with self._cond:
            self._in_flight += 1
        ids = [message["MessageId"] for message in messages]
        counts = {
            message["MessageId"]: int(message.get("Attributes", {}).get("ApproximateReceiveCount", 0))
            for message in messages
        }
        region = str(getattr(getattr(self._sqs, "meta", None), "region_name", None) or "us-east-1")
        event = sqs_event(messages, self._arn(), region)
        context = LambdaContext(
            timeout_seconds=self.function_timeout_seconds, function_name=self.function_name, region=region
        )
        started_at = time.time()
        started = time.monotonic()
        error: str | None = None
        timed_out = False
        to_delete: list[dict[str, Any]] = []
        failed: list[str] = []
        try:
            result = self.handler(event, context)
        except Exception as raised:
            error = f"function error: {type(raised).__name__}: {raised}"
            result = None
        duration_ms = (time.monotonic() - started) * 1000
        if error is None and duration_ms > self.function_timeout_seconds * 1000:
            timed_out = True
            error = f"function timed out after {self.function_timeout_seconds:g} s"
        if error is None:
            try:
                failed_set = failed_message_ids(result, ids)
            except MalformedBatchResponse as problem:
                error = f"malformed batch response: {problem}"
            else:
                failed = [message_id for message_id in ids if message_id in failed_set]
                to_delete = [message for message in messages if message["MessageId"] not in failed_set]
        if error is not None:
            failed = list(ids)
        deleted = self._delete(to_delete)
        report = BatchReport(
            received=len(messages),
            deleted=deleted,
            failed_ids=failed,
            error=error,
            duration_ms=round(duration_ms, 1),
            message_ids=ids,
            started_at=started_at,
            collect_ms=round(collect_ms, 1),
            timed_out=timed_out,
            worker=index,
            receive_counts=counts,
        )
        if error is not None:
            _log.warning("sqs poller %d: batch of %d failed: %s", index, len(messages), error)
        if self.on_batch is not None:
            try:
                self.on_batch(report)
            except Exception:
                _log.exception("sqs poller: on_batch callback failed")
        with self._cond:
            self.batches += 1
            self.deleted_total += deleted
            self.failed_total += len(failed)
            self.reports.append(report)
            self._in_flight -= 1
            self._cond.notify_all()

    def _delete(self, messages: list[dict[str, Any]]) -> int:
        """Delete in chunks of 10; returns how many SQS confirmed. Failures are logged, not raised."""
        deleted = 0
        for start in range(0, len(messages), SQS_MAX_RECEIVE):
            chunk = messages[start : start + SQS_MAX_RECEIVE]
            entries = [
                {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"]}
                for number, message in enumerate(chunk)
            ]
            try:
                answer = self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception as error:
                # The messages come back after the visibility timeout: at-least-once, as in AWS.
                with self._cond:
                    self.errors += 1
                _log.warning("sqs poller: DeleteMessageBatch failed: %s", error)
                continue
            deleted += len(answer.get("Successful", []))
            for failure in answer.get("Failed", []):
                _log.warning("sqs poller: could not delete a message: %s", failure)
        return deleted
