"""The sandbox's SQS poller against moto server: Lambda's event shape, batching, ReportBatchItemFailures,
redrive to the dead-letter queue, long polling, and a clean stop."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from sandbox import resources
from sandbox.poller import (
    BatchReport,
    LambdaContext,
    MalformedBatchResponse,
    SqsPoller,
    failed_message_ids,
    sqs_event,
)
from tests.conftest import Aws

RECORD_KEYS = {
    "messageId",
    "receiptHandle",
    "body",
    "attributes",
    "messageAttributes",
    "md5OfBody",
    "eventSource",
    "eventSourceARN",
    "awsRegion",
}


class Recorder:
    """A handler that records what the poller hands it and answers with ``answer(records)``."""

    def __init__(self, answer: Callable[[list[dict[str, Any]]], Any] | None = None) -> None:
        self.answer = answer or (lambda records: {"batchItemFailures": []})
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.remaining_ms: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self._lock:
            self.events.append(event)
            self.contexts.append(context)
            self.remaining_ms.append(context.get_remaining_time_in_millis())
        return self.answer(event["Records"])

    @property
    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return [record for event in self.events for record in event["Records"]]

    def bodies(self) -> list[str]:
        return [record["body"] for record in self.records]


class SqsSpy:
    """Wraps the test's boto3 client: signals receives, and can fail the first few of them."""

    def __init__(self, client: Any, fail_receives: int = 0) -> None:
        self._client = client
        self.fail_receives = fail_receives
        self.receives = 0
        self.receiving = threading.Event()
        self.got_messages = threading.Event()
        self.meta = client.meta

    def receive_message(self, **kwargs: Any) -> Any:
        if self.fail_receives > 0:
            self.fail_receives -= 1
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
        self.receives += 1
        self.receiving.set()
        answer = self._client.receive_message(**kwargs)
        if answer.get("Messages"):
            self.got_messages.set()
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@contextmanager
def running(queue_url: str, handler: Any, **kwargs: Any) -> Iterator[SqsPoller]:
    """A started poller (short long polls so that stopping is quick); stopping must join every thread."""
    kwargs.setdefault("wait_time_seconds", 1)
    kwargs.setdefault("concurrency", 1)
    poller = SqsPoller(queue_url, handler, **kwargs)
    poller.start()
    try:
        yield poller
    finally:
        assert poller.stop(timeout=10), "a poller thread did not end"
        assert not poller.running


def send(aws: Aws, queue_url: str, *bodies: str, **attributes: str) -> list[str]:
    ids = []
    for body in bodies:
        answer = aws.sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=body,
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
            },
        )
        ids.append(answer["MessageId"])
    return ids


def queue_arn(aws: Aws, queue_url: str) -> str:
    return str(
        aws.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    )


@pytest.fixture
def short(aws: Aws) -> resources.Resources:
    """Queues whose messages come back 1 s after a failed receive."""
    return resources.create(f"s{uuid.uuid4().hex[:12]}", aws.sqs, aws.dynamodb, visibility_timeout=1)


# -- the event and the context ----------------------------------------------------------------------


def test_sqs_event_has_lambdas_record_shape_for_a_boto3_message() -> None:
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "rh-1",
        "MD5OfBody": "abc",
        "Body": "hello",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000"},
        "MD5OfMessageAttributes": "def",
        "MessageAttributes": {
            "kind": {"StringValue": "event", "DataType": "String"},
            "blob": {"BinaryValue": b"\x00\x01", "DataType": "Binary"},
        },
    }
    event = sqs_event([message], "arn:aws:sqs:eu-west-1:123456789012:q", "eu-west-1")
    assert event == {
        "Records": [
            {
                "messageId": "m-1",
                "receiptHandle": "rh-1",
                "body": "hello",
                "attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000"},
                "messageAttributes": {
                    "kind": {
                        "stringValue": "event",
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": "String",
                    },
                    "blob": {
                        "binaryValue": "AAE=",
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": "Binary",
                    },
                },
                "md5OfBody": "abc",
                "md5OfMessageAttributes": "def",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:q",
                "awsRegion": "eu-west-1",
            }
        ]
    }
    plain = sqs_event([{**message, "MessageAttributes": {}, "MD5OfMessageAttributes": ""}], "arn", "r")
    assert "md5OfMessageAttributes" not in plain["Records"][0]
    assert plain["Records"][0]["messageAttributes"] == {}


def test_lambda_context_counts_down_from_its_timeout() -> None:
    context = LambdaContext(timeout_seconds=60.0, function_name="worker", region="eu-west-1")
    assert 59_000 < context.get_remaining_time_in_millis() <= 60_000
    assert context.function_name == "worker"
    assert context.function_version == "$LATEST"
    assert context.invoked_function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:worker"
    assert context.log_group_name == "/aws/lambda/worker"
    assert "[$LATEST]" in context.log_stream_name
    assert uuid.UUID(context.aws_request_id).version == 4
    assert LambdaContext(timeout_seconds=60.0).aws_request_id != context.aws_request_id
    assert LambdaContext(timeout_seconds=0.0).get_remaining_time_in_millis() == 0


@pytest.mark.parametrize("answer", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}])
def test_these_answers_mean_the_whole_batch_succeeded(answer: Any) -> None:
    assert failed_message_ids(answer, ["a", "b"]) == set()


@pytest.mark.parametrize(
    "answer",
    [
        "ok",
        ["a"],
        {"batchItemFailures": "a"},
        {"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"id": "a"}]},
        {"batchItemFailures": ["a"]},
        {"batchItemFailures": [{"itemIdentifier": "a"}], "x": object()},
    ],
)
def test_these_answers_are_malformed_and_fail_the_whole_batch(answer: Any) -> None:
    with pytest.raises(MalformedBatchResponse):
        failed_message_ids(answer, ["a", "b"])


# -- against moto server ----------------------------------------------------------------------------


def test_messages_reach_the_handler_as_lambda_records_successes_are_deleted_and_stop_joins(aws: Aws) -> None:
    queue = aws.resources.queue_url
    ids = send(aws, queue, "one", "two", kind="event")
    handler = Recorder()
    reports: list[BatchReport] = []
    before = set(threading.enumerate())
    with running(queue, handler, on_batch=reports.append, concurrency=3) as poller:
        started = [t for t in threading.enumerate() if t not in before]
        assert sorted(t.name for t in started) == ["sqs-poller-0", "sqs-poller-1", "sqs-poller-2"]
        assert poller.wait_for(lambda: poller.deleted_total >= 2)
    assert [t for t in started if t.is_alive()] == []  # stop() joined every poller thread
    assert [t for t in threading.enumerate() if t not in before] == []
    records = handler.records
    assert sorted(record["messageId"] for record in records) == sorted(ids)
    for record in records:
        assert set(record) == RECORD_KEYS | {"md5OfMessageAttributes"}
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == queue_arn(aws, queue)
        assert record["awsRegion"] == "us-east-1"
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
        assert record["messageAttributes"] == {
            "kind": {
                "stringValue": "event",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
        }
    assert sorted(handler.bodies()) == ["one", "two"]
    assert all(context.function_name == "worker" for context in handler.contexts)
    assert all(0 < remaining <= 60_000 for remaining in handler.remaining_ms)
    assert sum(report.deleted for report in reports) == 2
    assert all(report.error is None and report.failed_ids == [] for report in reports)
    assert aws.depth() == 0


def test_a_reported_failure_is_left_alone_and_comes_back_with_receive_count_2(
    aws: Aws, short: resources.Resources
) -> None:
    queue = short.queue_url
    first_ids = send(aws, queue, "a", "b", "c")

    def fail_b_once(records: list[dict[str, Any]]) -> Any:
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]}
                for r in records
                if r["body"] == "b" and r["attributes"]["ApproximateReceiveCount"] == "1"
            ]
        }

    handler = Recorder(fail_b_once)
    with running(queue, handler) as poller:
        assert poller.wait_for_batches(1)
        first = poller.reports[0]
        assert sorted(first.message_ids) == sorted(first_ids)  # one receive took all three
        assert first.failed_ids == [first_ids[1]]
        assert first.deleted == 2
        assert aws.depth(queue) == 1  # only b is left, invisible for now
        assert poller.wait_for(lambda: handler.bodies().count("b") == 2)
        assert poller.wait_for(lambda: poller.deleted_total == 3)
    again = [r for r in handler.records if r["body"] == "b"]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in again] == ["1", "2"]
    assert again[0]["messageId"] == again[1]["messageId"] == first_ids[1]
    assert sorted(handler.bodies()) == ["a", "b", "b", "c"]  # a and c were deleted: never seen again
    assert aws.depth(queue) == 0


def test_a_message_that_always_fails_is_redriven_to_the_dlq_after_max_receive_count(
    aws: Aws, short: resources.Resources
) -> None:
    queue = short.queue_url
    started = time.monotonic()
    send(aws, queue, "poison", "fine")

    def fail_poison(records: list[dict[str, Any]]) -> Any:
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r in records if r["body"] == "poison"
            ]
        }

    handler = Recorder(fail_poison)
    with running(queue, handler):
        # SQS (moto) moves it on the receive after the fifth; a long poll on the DLQ returns as it lands.
        answer = aws.sqs.receive_message(
            QueueUrl=short.dlq_url, WaitTimeSeconds=12, AttributeNames=["All"], MaxNumberOfMessages=10
        )
    dead = [message["Body"] for message in answer.get("Messages", [])]
    assert dead == ["poison"]
    counts = [r["attributes"]["ApproximateReceiveCount"] for r in handler.records if r["body"] == "poison"]
    assert counts == [str(n) for n in range(1, resources.MAX_RECEIVE_COUNT + 1)]
    assert handler.bodies().count("fine") == 1
    assert aws.depth(queue) == 0  # not in the work queue any more
    assert time.monotonic() - started < 15


def test_a_raising_a_malformed_or_a_timed_out_invocation_fails_its_whole_batch(aws: Aws) -> None:
    queue = aws.resources.queue_url
    ids = dict(
        zip(["raise", "malformed", "slow"], send(aws, queue, "raise", "malformed", "slow"), strict=True)
    )
    overrun = threading.Event()

    def misbehave(records: list[dict[str, Any]]) -> Any:
        body = records[0]["body"]
        if body == "raise":
            raise RuntimeError("worker crashed")
        if body == "slow":
            overrun.wait(0.3)  # the function's own work, longer than its 0.2 s timeout
            return None
        return {"batchItemFailures": [{"itemIdentifier": "no-such-message"}]}

    with running(queue, Recorder(misbehave), batch_size=1, function_timeout_seconds=0.2) as poller:
        assert poller.wait_for_batches(3)
    reports = {report.message_ids[0]: report for report in poller.reports}
    assert set(reports) == set(ids.values())
    for report in reports.values():
        assert report.received == 1
        assert report.deleted == 0
        assert report.failed_ids == report.message_ids
    assert (reports[ids["raise"]].error or "").endswith("RuntimeError: worker crashed")
    assert (reports[ids["malformed"]].error or "").startswith("malformed batch response")
    assert reports[ids["slow"]].timed_out
    assert not reports[ids["raise"]].timed_out
    assert "timed out" in (reports[ids["slow"]].error or "")
    assert poller.deleted_total == 0
    assert aws.depth(queue) == 3  # all still there, invisible until the visibility timeout


@pytest.mark.parametrize(
    ("batch_size", "window", "expected"),
    [(4, 5.0, 4), (10, 0.0, 1)],
    ids=["window-gathers-until-full", "no-window-one-receive"],
)
def test_the_batching_window_gathers_messages_into_one_batch(
    aws: Aws, batch_size: int, window: float, expected: int
) -> None:
    queue = aws.resources.queue_url
    spy = SqsSpy(aws.sqs)
    send(aws, queue, "m0")
    handler = Recorder()
    with running(
        queue, handler, sqs_client=spy, batch_size=batch_size, batching_window_seconds=window
    ) as poller:
        assert spy.got_messages.wait(5)
        send(aws, queue, "m1", "m2", "m3")  # arrive after the first receive of the batch returned
        assert poller.wait_for(lambda: poller.deleted_total == 4)
    first = poller.reports[0]
    assert first.received == expected
    assert len(handler.events[0]["Records"]) == expected
    if window:
        assert first.collect_ms < window * 1000  # closed as soon as it was full, not at the window's end
    assert sorted(handler.bodies()) == ["m0", "m1", "m2", "m3"]


def test_long_polling_picks_up_a_message_at_once_while_idle(aws: Aws) -> None:
    queue = aws.resources.queue_url
    spy = SqsSpy(aws.sqs)
    receives_at_invoke: list[int] = []
    handler = Recorder(lambda records: receives_at_invoke.append(spy.receives))
    reports: list[BatchReport] = []

    def done(report: BatchReport) -> None:
        reports.append(report)
        poller.request_stop()  # no further long poll to wait out when stopping

    with running(queue, handler, sqs_client=spy, wait_time_seconds=2, on_batch=done) as poller:
        assert spy.receiving.wait(5)  # the poller is idle in a 2 s long poll
        sent_at = time.time()
        send(aws, queue, "now")
        assert poller.wait_for_batches(1, timeout=5)
        latency = reports[0].started_at - sent_at
    assert receives_at_invoke == [1]  # the long poll in flight returned it: no second receive needed
    assert 0 <= latency < 1.0, f"picked up after {latency:.2f} s"


def test_errors_talking_to_sqs_do_not_kill_the_pollers(aws: Aws) -> None:
    queue = aws.resources.queue_url
    spy = SqsSpy(aws.sqs, fail_receives=2)
    send(aws, queue, "survivor")
    handler = Recorder()
    with running(queue, handler, sqs_client=spy) as poller:
        assert poller.wait_for(lambda: poller.deleted_total == 1)
        assert poller.running
    assert poller.errors == 2
    assert handler.bodies() == ["survivor"]
