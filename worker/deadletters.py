"""The dead-letter queue: sending a record there with why it died, and reading what died, when, and why.

``send`` is the worker's (a poison record, a permanent Slack error); the reading is used by the ``dlq``
skill (in the worker) and by the ``slackbot dlq`` commands (for SREs). A message reaches the DLQ in
one of two ways, and the reason is found accordingly:

- the worker dead-lettered it itself (poison record, permanent Slack error): the reason is in its
  ``reason`` / ``category`` message attributes;
- SQS moved it after 5 failed receives: its attributes are the original ones, and the reason is the
  last error the worker kept in the state table under the record's first id.

The error history of either kind is in the state table: under the record's Slack id, or, for a record
that has none (an unreadable one), under ``sqs:<work queue message id>``.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared import envelope as schema
from shared.log import get_logger
from worker import alarms
from worker.errors import RecordFailure, Transient
from worker.state import Claim, StateTable

logger = get_logger("worker")

HOLD_SECONDS = 30  # messages are hidden this long while a scan reads past them, then shown again


class NotDeadLettered(Exception):
    """The record could not be sent to the DLQ: it stays a failure, retried by SQS."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def send(
    record: dict[str, Any],
    message_id: str,
    failure: RecordFailure,
    *,
    sqs: Any,
    dlq_url: str,
    state: StateTable | None,
    claim: Claim | None,
) -> None:
    """Send an SQS record, body intact, to the DLQ with its reason; then keep the reason in the state table.

    Under the record's claim when it has one; an unreadable record has no Slack id to file it under,
    so under its SQS message id. Raises ``NotDeadLettered`` when the DLQ did not take it.
    """
    if not dlq_url:
        raise NotDeadLettered(f"{failure.reason} (and DLQ_URL is not configured)")
    try:
        sqs.send_message(
            QueueUrl=dlq_url,
            MessageBody=_body_to_keep(record),
            MessageAttributes=schema.dead_letter_attributes(
                _attributes(record), failure.reason, failure.category, message_id
            ),
        )
    except Exception as send_error:
        raise NotDeadLettered(
            f"{failure.reason} (dead-lettering failed: {send_error.__class__.__name__})"
        ) from None
    try:
        if state is not None and claim is not None:
            state.dead(claim, failure.reason)
        elif state is not None:
            state.record_error(f"sqs:{message_id}", failure.reason)
    except Exception:  # the record is in the DLQ: a missing reason must not make SQS deliver it again
        logger.exception("state table update failed")


def _body_to_keep(record: dict[str, Any]) -> str:
    """The record's body as it came; a record without a string body is kept whole, as JSON."""
    body = record.get("body")
    if isinstance(body, str) and body:
        return body
    return json.dumps({"unreadable_record": record}, default=str)[:200_000]


def _attributes(record: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Lambda's lowerCamelCase message attributes, back in SendMessage's shape."""
    out: dict[str, dict[str, str]] = {}
    raw = record.get("messageAttributes")
    for name, value in raw.items() if isinstance(raw, dict) else []:
        if isinstance(value, dict) and isinstance(value.get("stringValue"), str):
            out[name] = {"DataType": "String", "StringValue": value["stringValue"]}
    return out


@dataclass
class DeadLetter:
    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, str]  # message attributes, as plain strings
    # SQS's SentTimestamp: when the worker dead-lettered it or, for a message SQS moved after 5
    # receives, when it was first queued (SQS keeps the original timestamp).
    sent_at: float
    receive_count: int  # SQS's ApproximateReceiveCount: every read of the DLQ adds one
    envelope: dict[str, Any] | None = None  # None when the body is not a readable envelope
    reason: str = ""
    category: str = ""  # poison | permanent | retries exhausted
    errors: list[str] = field(default_factory=list)  # the state table's history, oldest first
    # The message attributes exactly as SQS returned them (DataType included), for a redrive.
    message_attributes: dict[str, Any] = field(default_factory=dict)
    # The work queue's message id (the one the sandbox's console prints): the worker's attribute when
    # it dead-lettered the record itself; SQS keeps a message's id when it moves it after 5 receives.
    source_message_id: str = ""

    @property
    def readable(self) -> bool:
        return self.envelope is not None

    def summary(self) -> dict[str, str]:
        if self.envelope is not None:
            return schema.summary(str(self.envelope.get("kind", "")), self.envelope.get("payload") or {})
        return {
            k: v
            for k, v in self.attributes.items()
            if k in ("kind", "event_id", "team", "channel", "user", "type")
        }

    @property
    def event_id(self) -> str:
        """Slack's event id, when the record is an event (empty otherwise)."""
        return self.summary().get("event_id", "")

    def text(self) -> str:
        """The Slack text the record carried, if any (for an excerpt)."""
        payload = (self.envelope or {}).get("payload") or {}
        event = payload.get("event")
        event = event if isinstance(event, dict) else {}
        for value in (event.get("text"), payload.get("text"), payload.get("command")):
            if isinstance(value, str) and value:
                return value
        return "" if self.readable else self.body


def scan(sqs: Any, dlq_url: str, *, limit: int = 100, hold_seconds: int = HOLD_SECONDS) -> list[DeadLetter]:
    """Read up to ``limit`` dead letters without removing them.

    Each receive hides what it returns for ``hold_seconds`` so the next receive sees other messages;
    when the scan is done, every message read is made visible again at once.
    """
    found: list[DeadLetter] = []
    try:
        for batch in held(sqs, dlq_url, hold_seconds=hold_seconds, limit=limit):
            found.extend(batch)
    finally:
        release(sqs, dlq_url, [d.receipt_handle for d in found])
    return sorted(found, key=lambda d: d.sent_at)


def take(
    sqs: Any, dlq_url: str, message_ids: Collection[str], *, hold_seconds: int = HOLD_SECONDS
) -> list[DeadLetter]:
    """Find the dead letters with these ids and keep them hidden for ``hold_seconds``.

    The caller acts on them by receipt handle (delete, or ``release`` what it does not use); every
    other message read on the way is made visible again. Ids not in the queue are simply absent.
    """
    wanted: list[DeadLetter] = []
    others: list[DeadLetter] = []
    try:
        for batch in held(sqs, dlq_url, hold_seconds=hold_seconds):
            for letter in batch:
                (wanted if letter.message_id in message_ids else others).append(letter)
            if len(wanted) == len(set(message_ids)):
                break
    except BaseException:
        release(sqs, dlq_url, [d.receipt_handle for d in wanted])
        raise
    finally:
        release(sqs, dlq_url, [d.receipt_handle for d in others])
    return sorted(wanted, key=lambda d: d.sent_at)


def held(
    sqs: Any, dlq_url: str, *, hold_seconds: int = HOLD_SECONDS, limit: int | None = None
) -> Iterator[list[DeadLetter]]:
    """Receive through the queue, yielding each batch of messages not seen before.

    What is yielded stays hidden for ``hold_seconds``: the caller deletes or releases it. Short polling
    asks only some of SQS's servers, so when a receive comes back empty before SQS's own count of
    visible messages was read, one long poll (all servers, 1 s) settles whether the rest exist.
    """
    expected = depth(sqs, dlq_url)["visible"]
    seen: set[str] = set()
    wait = 0
    while limit is None or len(seen) < limit:
        answer = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=10 if limit is None else min(10, limit - len(seen)),
            VisibilityTimeout=hold_seconds,
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        fresh = [_read(m) for m in answer.get("Messages", []) if m["MessageId"] not in seen]
        if fresh:
            seen.update(letter.message_id for letter in fresh)
            wait = 0
            yield fresh
        elif wait or len(seen) >= expected:
            return
        else:
            wait = 1


def release(sqs: Any, queue_url: str, receipt_handles: list[str]) -> None:
    """Make messages visible again (after a scan)."""
    for start in range(0, len(receipt_handles), 10):
        chunk = receipt_handles[start : start + 10]
        entries = [
            {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0} for i, handle in enumerate(chunk)
        ]
        # On failure they become visible by themselves after hold_seconds.
        with contextlib.suppress(BotoCoreError, ClientError):
            sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)


def explain(dead: list[DeadLetter], dynamodb: Any, table: str) -> None:
    """Fill in each letter's error history from the state table, and the reason of messages SQS moved
    after 5 receives (they carry none) from its last error."""
    if not table:
        return
    state = StateTable(table, dynamodb)
    for letter in dead:
        if letter.reason and letter.errors:
            continue
        item = _state_item(state, letter)
        if not item:
            continue
        letter.errors = list(item.get("errors", []))
        if not letter.reason and "last_error" in item:
            letter.reason = str(item["last_error"])


def _state_item(state: StateTable, letter: DeadLetter) -> dict[str, Any] | None:
    """The state table's item for the letter: under the Slack action's id, else (an unreadable record,
    or one without a Slack id) under ``sqs:<work queue message id>``, as the worker files them."""
    for key in state_keys(letter):
        try:
            item = state.get(key)
        except Transient:
            return None
        if item:
            return item
    return None


def state_keys(letter: DeadLetter) -> list[str]:
    """Where the worker may have kept the letter's errors, most likely first."""
    primary = _primary_key(letter) if letter.category != "poison" else None
    return [key for key in (primary, f"sqs:{letter.source_message_id}") if key]


def depth(sqs: Any, queue_url: str) -> dict[str, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return {
        "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
    }


def common_reasons(dead: list[DeadLetter], top: int = 5) -> list[tuple[str, int]]:
    return Counter(d.reason or "unknown" for d in dead).most_common(top)


def _read(message: dict[str, Any]) -> DeadLetter:
    attributes = {
        name: str(value.get("StringValue", ""))
        for name, value in message.get("MessageAttributes", {}).items()
        if "StringValue" in value
    }
    system = message.get("Attributes", {})
    letter = DeadLetter(
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        body=message.get("Body", ""),
        attributes=attributes,
        sent_at=int(system.get("SentTimestamp", time.time() * 1000)) / 1000,
        receive_count=int(system.get("ApproximateReceiveCount", 0)),
        message_attributes=dict(message.get("MessageAttributes", {})),
    )
    try:
        parsed = json.loads(letter.body)
        letter.envelope = (
            parsed if isinstance(parsed, dict) and isinstance(parsed.get("payload"), dict) else None
        )
    except ValueError:
        letter.envelope = None
    # SQS marks what it moved after 5 receives. Such a message may still carry the worker's reason attributes from
    # an earlier death (a move task redrives messages as they are): those reasons are stale.
    moved_by_sqs = "DeadLetterQueueSourceArn" in system
    letter.reason = "" if moved_by_sqs else attributes.get(schema.DEAD_REASON, "")
    source = "" if moved_by_sqs else attributes.get(schema.DEAD_SOURCE_ID, "")
    letter.source_message_id = source if source not in ("", "unknown") else letter.message_id
    letter.category = ("" if moved_by_sqs else attributes.get(schema.DEAD_CATEGORY, "")) or (
        "retries exhausted" if letter.readable else "poison"
    )
    alarm = alarms.read(letter.body) if not letter.readable else None
    if alarm is not None:
        # An SNS notification from when the work queue was subscribed to the alarm topic: alarms now
        # go to the alarm function (worker/alarm_handler.py), and the worker dead-letters them unread.
        letter.category = "alarm"
        letter.reason = f"alarm {alarm.name} {alarm.state} was never posted (it came through the work queue)"
    if not letter.readable and not letter.reason:
        letter.reason = "unreadable body"
    return letter


def _primary_key(letter: DeadLetter) -> str | None:
    if letter.envelope is None:
        return None
    return schema.dedupe_key(str(letter.envelope.get("kind", "")), letter.envelope.get("payload") or {})
