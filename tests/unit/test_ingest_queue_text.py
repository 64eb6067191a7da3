"""What the ingest hands SQS is text SQS accepts, whatever Slack's JSON carried.

SQS refuses a whole message whose body or string attributes hold a character outside
#x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF (moto does not check this, so this
test records what is sent instead of relying on moto to refuse it).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from ingest.classify import Enqueue, Malformed, classify
from ingest.queue import WorkQueue
from shared import envelope

SQS_ALLOWED = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")


class RecordingClient:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        assert operation == "SendMessage"
        self.sent.append(payload)
        return {"MessageId": "m-1"}

    def close(self) -> None:
        pass


class RecordingQueue(WorkQueue):
    def __init__(self) -> None:
        super().__init__()
        self.recorder = RecordingClient()

    def client(self) -> Any:
        return self.recorder


def send(payload: dict[str, Any]) -> dict[str, Any]:
    message = envelope.build(
        "event", payload, received_at=time.time(), request_id="r-1", retry_reason="x\uffff"
    )
    queue = RecordingQueue()
    queue.send(
        "https://sqs/q", envelope.dumps(message), envelope.message_attributes(message), time.monotonic()
    )
    (sent,) = queue.recorder.sent
    return sent


def test_noncharacters_and_control_characters_never_reach_sqs() -> None:
    event = {
        "type": "app_mention",
        "text": "hi \uffff\ufffe",
        "channel": "C\x01\x1f",
        "user": "U\uffff",
        "ts": "1.1",
    }
    sent = send({"type": "event_callback", "event_id": "Ev\x00", "event": event})
    assert SQS_ALLOWED.fullmatch(sent["MessageBody"])
    for name, value in sent["MessageAttributes"].items():
        assert SQS_ALLOWED.fullmatch(value["StringValue"]), name
    body = json.loads(sent["MessageBody"])
    assert body["payload"]["event"]["text"] == "hi \ufffd\ufffd"
    assert body["payload"]["event"]["channel"] == "C\x01\x1f"  # escaped in JSON, so kept as sent
    assert body["retry_reason"] == "x\ufffd"
    assert sent["MessageAttributes"]["channel"]["StringValue"] == "C\ufffd\ufffd"
    assert sent["MessageAttributes"]["user"]["StringValue"] == "U\ufffd"
    assert sent["MessageAttributes"]["event_id"]["StringValue"] == "Ev\ufffd"


def test_lone_surrogates_from_json_escapes_are_replaced_where_the_body_is_read() -> None:
    raw = (
        b'{"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_mention", "text": "a \\ud83d",'
    )
    raw += b' "user": "U\\uDC00", "list": ["\\ud83d\\ude00", {"k\\udfff": "\\\\ud83d"}]}}'
    decision = classify(raw, "application/json")
    assert isinstance(decision, Enqueue)
    event = decision.payload["event"]
    assert event["text"] == "a \ufffd" and event["user"] == "U\ufffd"
    assert event["list"] == [
        "😀",
        {"k\ufffd": "\\ud83d"},
    ]  # a pair is one character; an escaped backslash is text
    sent = send(decision.payload)
    assert SQS_ALLOWED.fullmatch(sent["MessageBody"])


def deeply_nested(depth: int) -> bytes:
    raw = b'{"type": "event_callback", "event": {"type": "message", "text": "\\ud83d", "deep": '
    return raw + b"[" * depth + b'"\\ud83d"' + b"]" * depth + b"}}"


def test_deep_json_has_its_lone_surrogates_replaced_without_recursion() -> None:
    decision = classify(deeply_nested(950), "application/json")
    assert isinstance(decision, Enqueue)
    assert decision.payload["event"]["text"] == "\ufffd"
    deep = decision.payload["event"]["deep"]
    while isinstance(deep, list):
        (deep,) = deep
    assert deep == "\ufffd"


def test_json_nested_deeper_than_the_parser_takes_is_malformed_not_a_crash() -> None:
    with pytest.raises(Malformed):
        classify(deeply_nested(100_000), "application/json")
