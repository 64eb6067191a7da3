"""One SQS batch: every record processed concurrently, each on its own, all joined before returning.

Lambda freezes whatever is still running when the handler returns, so nothing here outlives the call:
the thread pool is a context manager and is shut down (joined) before the results are read. A record
never fails its neighbours: each is wrapped, and its outcome decides alone whether SQS sees it again.

This module only decides each record's outcome; the work is done elsewhere: the reply is sent by
``worker.replies``, a dead letter by ``worker.deadletters``, when a failed record comes back by
``worker.retry``, and the claim by ``worker.state``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from shared.log import get_logger, log, redact
from worker import deadletters, replies, retry, route, slack
from worker.envelope import QueuedEnvelope, read
from worker.errors import Permanent, Poison, RecordFailure, Transient
from worker.pace import ChannelTurns
from worker.state import Claim, StateTable

logger = get_logger("worker")

# A record is not started with less time than this left: half-done work is worse than a retry.
MIN_START_SECONDS = 3.0


@dataclass(frozen=True)
class WorkerSettings:
    """What every record needs, built once per container by ``worker.handler``."""

    bot_token: str
    dlq_url: str
    queue_url: str
    state: StateTable | None  # with its DynamoDB client
    sqs: Any  # the boto3 client for visibility changes and dead letters
    concurrency: int = 10
    min_start_seconds: float = MIN_START_SECONDS


@dataclass(frozen=True)
class RecordOutcome:
    message_id: str
    outcome: str  # answered | duplicate | ignored | dead_lettered | failed | not_started
    reason: str = ""
    correlation_id: str = ""  # the Slack action's first id (event id, trigger id…), as the ingest logs it
    latency_ms: float | None = None  # from Slack's event to the answer, for answered records

    @property
    def failed(self) -> bool:
        return self.outcome in ("failed", "not_started")


@dataclass(frozen=True)
class RecordWork:
    """What one record asks for once it is read: its ids, how to answer, and where the answer goes."""

    key: str  # the state-table id claimed before acting (see shared.envelope.dedupe_key)
    respond: Callable[[], slack.Reply | None]  # None: the skill answered by itself (a modal, a Home tab)
    destination: route.Destination
    what: str
    slack_time: float | None = None


# Posts to a channel wait for the records before them: ``Turn(channel)`` blocks until this record's turn.
Turn = Callable[[str], None]


def process_batch(
    records: list[dict[str, Any]], deadline: float, settings: WorkerSettings
) -> list[RecordOutcome]:
    if not records:
        return []
    workers = max(1, min(settings.concurrency, len(records)))
    turns = ChannelTurns([_channel(record) for record in records])
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="record") as pool:
        futures = [
            pool.submit(process_record, record, deadline, settings, _turn(turns, index, deadline))
            for index, record in enumerate(records)
        ]
        for index, future in enumerate(futures):  # a record's turn ends when it does, however it ends
            future.add_done_callback(_finisher(turns, index))
    # The ``with`` block has joined every thread: each future is done.
    return [future.result() for future in futures]


def _turn(turns: ChannelTurns, index: int, deadline: float) -> Turn:
    return lambda channel: turns.wait_turn(index, channel, deadline)


def _finisher(turns: ChannelTurns, index: int) -> Callable[[Future[RecordOutcome]], None]:
    return lambda _: turns.finished(index)


def process_record(
    record: dict[str, Any], deadline: float, settings: WorkerSettings, turn: Turn | None = None
) -> RecordOutcome:
    message_id = str(record.get("messageId", ""))
    started = time.monotonic()
    try:
        outcome = _process(record, message_id, deadline, settings, turn)
    except Exception as error:  # a bug must not fail the batch: this record alone is retried
        logger.exception("record crashed", extra={"fields": {"message_id": message_id}})
        outcome = RecordOutcome(message_id, "failed", f"unexpected {error.__class__.__name__}")
        retry.come_back_later(settings.sqs, settings.queue_url, record, None)
    log(
        logger,
        "record",
        message_id=message_id,
        correlation_id=outcome.correlation_id,
        outcome=outcome.outcome,
        reason=outcome.reason,
        ms=round((time.monotonic() - started) * 1000, 1),
    )
    return outcome


def _process(
    record: dict[str, Any], message_id: str, deadline: float, settings: WorkerSettings, turn: Turn | None
) -> RecordOutcome:
    if deadline - time.monotonic() < settings.min_start_seconds:
        # Not a failure of the record: it comes back at once for the next invocation.
        retry.come_back_now(settings.sqs, settings.queue_url, record)
        return RecordOutcome(message_id, "not_started", "too little time left in this invocation")
    raw = record.get("body")
    body = raw if isinstance(raw, str) else ""
    try:
        envelope = read(body)
    except Poison as poison:
        return _dead_letter(record, message_id, poison, settings, claim=None)
    job = route.plan(envelope, deadline, slack.web_client(settings.bot_token, deadline))
    key = envelope.dedupe_key() or f"sqs:{message_id}"
    if isinstance(job, route.Ignored):
        return RecordOutcome(message_id, "ignored", f"{job.reason} ({_what(envelope)})", key)
    work = RecordWork(key, job.run, job.destination, _what(envelope), job.ask.slack_time)
    return _claim_and_act(work, record, message_id, deadline, settings, turn)


def _claim_and_act(
    work: RecordWork,
    record: dict[str, Any],
    message_id: str,
    deadline: float,
    settings: WorkerSettings,
    turn: Turn | None = None,
) -> RecordOutcome:
    correlation_id = work.key
    state = settings.state
    if state is None:
        return RecordOutcome(
            message_id,
            "failed",
            "STATE_TABLE is not configured: nothing is acted on unclaimed",
            correlation_id,
        )
    try:
        claim = state.claim(work.key, owner=message_id, lease_seconds=max(deadline - time.monotonic(), 1.0))
    except Transient as error:
        retry.come_back_later(settings.sqs, settings.queue_url, record, error)
        return RecordOutcome(message_id, "failed", error.reason, correlation_id)
    if not claim.won and claim.held_by_an_earlier_attempt:
        retry.come_back_after(settings.sqs, settings.queue_url, record, claim.holder_lease_until)
        return RecordOutcome(
            message_id, "failed", "an earlier attempt of this message died holding its claim", correlation_id
        )
    if not claim.won:
        return RecordOutcome(
            message_id, "duplicate", f"already answered or in progress: {claim.duplicate_of}", correlation_id
        )
    try:
        reply = work.respond()
        if reply is None:  # answered by the skill itself through Ask.slack
            _quietly(lambda: state.complete(claim))
            return RecordOutcome(message_id, "answered", work.what, correlation_id)
        if turn is not None and isinstance(work.destination, route.PostMessage | route.UpdateMessage):
            turn(work.destination.channel)
        replies.deliver(work.destination, reply, settings.bot_token, deadline)
    except Permanent as error:
        return replace(
            _dead_letter(record, message_id, error, settings, claim=claim), correlation_id=correlation_id
        )
    except Exception as error:  # Transient, or a bug in a skill: retried by SQS, dead-lettered after 5
        # An exception's text may quote anything (a token in a URL…): masked before it is logged or stored.
        reason = redact(
            error.reason if isinstance(error, RecordFailure) else f"{error.__class__.__name__}: {error}"
        )
        _quietly(lambda: state.release(claim, reason))
        transient = error if isinstance(error, Transient) else None
        retry.come_back_later(settings.sqs, settings.queue_url, record, transient)
        return RecordOutcome(message_id, "failed", reason, correlation_id)
    # The answer is out: a failure to record that must not make SQS deliver it again.
    _quietly(lambda: state.complete(claim))
    latency = (time.time() - work.slack_time) * 1000 if work.slack_time else None
    return RecordOutcome(message_id, "answered", work.what, correlation_id, latency)


def _dead_letter(
    record: dict[str, Any],
    message_id: str,
    failure: RecordFailure,
    settings: WorkerSettings,
    claim: Claim | None,
) -> RecordOutcome:
    """Dead-lettered: the record counts as handled. Not taken by the DLQ: a failure, retried by SQS."""
    try:
        deadletters.send(
            record,
            message_id,
            failure,
            sqs=settings.sqs,
            dlq_url=settings.dlq_url,
            state=settings.state,
            claim=claim,
        )
    except deadletters.NotDeadLettered as not_sent:
        return RecordOutcome(message_id, "failed", not_sent.reason)
    return RecordOutcome(message_id, "dead_lettered", failure.reason)


def _channel(record: dict[str, Any]) -> str | None:
    """The channel the ingest put in the record's message attributes, if any."""
    attributes = record.get("messageAttributes")
    channel = attributes.get("channel") if isinstance(attributes, dict) else None
    value = channel.get("stringValue") if isinstance(channel, dict) else None
    return value if isinstance(value, str) else None


def _what(envelope: QueuedEnvelope) -> str:
    summary = envelope.summary()
    return " ".join(f"{key}={summary[key]}" for key in ("kind", "type", "event_id") if key in summary)


def _quietly(action: Callable[[], object]) -> None:
    try:
        action()
    except Exception:
        logger.exception("state table update failed")
