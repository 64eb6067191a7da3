"""Lambda entry point of the alarm function: ``worker.alarm_handler.lambda_handler``, subscribed to the alarm topic.

Alarms reach the ops channel on a path of their own: CloudWatch → the alarm topic (SNS) → this
function → Slack. Not through the work queue and the worker: an alarm about a stuck queue must not
wait behind that queue. The function has its own reserved concurrency and role, and shares the
worker's Slack client (``worker.slack``: deadline-bounded retries).

For each notification (SNS hands Lambda one record per invocation):

1. believe it only if it came from ``ALARM_TOPIC_ARN`` (``alarms.refusal``); without ``OPS_CHANNEL``
   it is logged and dropped;
2. take the lease on the alarm's message in the state table (``worker.alarm_messages``): a notification
   already handled (SNS delivered it twice) is dropped, one of the same alarm being posted right now is
   waited for;
3. a repeat within ``REPEAT_WINDOW_SECONDS`` of the alarm's last post updates that message in place
   (``chat.update``, "repeated N times"); otherwise a new message is posted;
4. settle. A failure (Slack down, DynamoDB down) gives the lease back and raises: Lambda retries an
   asynchronous invocation twice, then sends the event to the function's dead-letter queue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.config import env
from shared.log import get_logger, log, redact
from worker import alarms, aws, deadletters, slack
from worker.alarm_messages import AlarmClaim, AlarmMessages, Message, Posted
from worker.container import PerContainer
from worker.errors import Permanent, Transient
from worker.invocation import remaining_seconds

logger = get_logger("alarms")
DEFAULT_TIMEOUT_SECONDS = 20.0
SETTLE_SECONDS = 1.0  # kept back from the deadline to give the lease back after a failed post
BUSY_WAIT_SECONDS = 0.25  # between two tries of a lease another notification of the alarm holds
POST_RESERVE_SECONDS = 5.0  # kept for our own post once the lease is ours (Slack answers in well under 1 s)
GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})  # post anew instead


@dataclass(frozen=True)
class AlarmSettings:
    """Built once per container (``worker.container``), on the function's first invocation."""

    ops_channel: str
    topic_arn: str  # the only topic whose notifications are posted (unset: none)
    messages: AlarmMessages | None  # without a state table: every notification posted on its own
    queues: dict[str, str]  # name in the alert → queue URL, for the depths
    bot_token: str
    sqs: Any  # the boto3 client that reads the depths

    @classmethod
    def from_env(cls) -> AlarmSettings:
        table = env("STATE_TABLE")
        queues = {"work queue": env("QUEUE_URL"), "dead-letter queue": env("DLQ_URL")}
        return cls(
            ops_channel=env("OPS_CHANNEL"),
            topic_arn=env("ALARM_TOPIC_ARN"),
            messages=AlarmMessages(table, aws.client("dynamodb")) if table else None,
            queues={name: url for name, url in queues.items() if url},
            bot_token=aws.secret("SLACK_BOT_TOKEN"),
            sqs=aws.client("sqs"),
        )


container_settings = PerContainer(AlarmSettings.from_env)


class AlarmNotPosted(Exception):
    """Raised to Lambda so that it retries the invocation, then dead-letters it."""


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    started = time.monotonic()
    deadline = started + remaining_seconds(context, DEFAULT_TIMEOUT_SECONDS) - SETTLE_SECONDS
    records = event.get("Records") if isinstance(event, dict) else None
    records = [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []
    try:
        settings = container_settings.get()
    except Exception as error:  # e.g. Secrets Manager unreachable: Lambda retries the invocation
        reason = redact(repr(error))
        log(logger, "alarm", logging.ERROR, outcome="failed", reason=f"settings unavailable: {reason}")
        raise AlarmNotPosted(reason) from None
    outcomes: list[str] = []
    failures: list[str] = []
    for record in records:
        try:
            outcomes.append(handle(record, settings, deadline))
        except Exception as error:  # every record is tried; the invocation fails if one did
            reason = redact(error.reason if isinstance(error, Transient | Permanent) else repr(error))
            log(logger, "alarm", logging.ERROR, outcome="failed", reason=reason)
            outcomes.append("failed")
            failures.append(reason)
    if failures:
        raise AlarmNotPosted("; ".join(failures))
    return {"outcomes": outcomes}


def handle(record: dict[str, Any], settings: AlarmSettings, deadline: float) -> str:
    """Post, update or drop one SNS record; returns the outcome, raises when it must be retried."""
    alarm = alarms.from_notification(record.get("Sns"))
    if alarm is None:
        log(logger, "alarm", outcome="ignored", reason="not an SNS notification")
        return "ignored"
    fields: dict[str, Any] = {
        "alarm": alarm.name[:256],
        "state": alarm.state,
        "notification": alarm.notification_id,
    }
    refused = alarms.refusal(alarm, settings.topic_arn)
    if refused is None and not settings.ops_channel:
        refused = "an alarm, but OPS_CHANNEL is not set"
    if refused is not None:
        log(logger, "alarm", outcome="ignored", reason=refused, **fields)
        return "ignored"
    messages = settings.messages
    if messages is None:  # nowhere to remember the message: post each one
        posted = _post(alarm, Message(), settings, deadline)
        log(logger, "alarm", outcome="posted", ts=posted.ts, **fields)
        return "posted"
    claim = _claim(messages, alarm, deadline)
    if not claim.won:
        log(logger, "alarm", outcome="duplicate", **fields)
        return "duplicate"
    try:
        posted = _post(alarm, claim.message, settings, deadline)
    except Exception:
        _quietly(lambda: messages.release(claim))
        raise
    # The message is out: failing to record it must not post it again.
    _quietly(lambda: messages.settle(claim, posted))
    outcome = "updated" if posted.count > 1 else "posted"
    log(logger, "alarm", outcome=outcome, ts=posted.ts, count=posted.count, **fields)
    return outcome


def _claim(messages: AlarmMessages, alarm: alarms.Alarm, deadline: float) -> AlarmClaim:
    """The lease on the alarm's message; another notification of the same alarm holding it is waited for."""
    message_id = alarm.notification_id or f"{alarm.name}@{alarm.since}"
    while True:
        claim = messages.claim(alarm.name, message_id, lease_seconds=max(deadline - time.monotonic(), 1.0))
        if claim.outcome != "busy":
            return claim
        # Its post takes a second or so: polling the table is cheaper than a Lambda retry a minute later.
        if time.monotonic() + BUSY_WAIT_SECONDS + POST_RESERVE_SECONDS > deadline:
            raise Transient(f"another notification of {alarm.name[:100]!r} is being posted")
        time.sleep(BUSY_WAIT_SECONDS)


def _post(alarm: alarms.Alarm, current: Message, settings: AlarmSettings, deadline: float) -> Posted:
    """Update the alarm's message when this is a repeat within the window, else post a new one."""
    if not settings.bot_token:
        raise Permanent("slack error: not_authed (SLACK_BOT_TOKEN is not set)")
    client = slack.web_client(settings.bot_token, deadline)
    channel = settings.ops_channel
    depths, unreadable = _queue_depths(settings.sqs, settings.queues)
    now = time.time()
    if current.takes_repeat(channel, now):
        repeats = alarms.Repeats(current.count + 1, current.first_at, alarm.since)
        reply = alarms.render(alarm, depths, unreadable=unreadable, repeats=repeats)
        try:
            slack.call(
                client, "chat.update", channel=channel, ts=current.ts, text=reply.text, blocks=reply.blocks
            )
            return Posted(
                channel, current.ts, current.posted_at, repeats.count, current.first_at, alarm.since
            )
        except Permanent as error:
            if error.reason.removeprefix("slack error: ") not in GONE:
                raise
            # Someone deleted the message, or it is too old to edit: a new one says it.
    reply = alarms.render(alarm, depths, unreadable=unreadable)
    answer = slack.call(client, "chat.postMessage", channel=channel, text=reply.text, blocks=reply.blocks)
    return Posted(channel, str(answer.get("ts", "")), now, 1, alarm.since, alarm.since)


def _queue_depths(sqs: Any, queues: dict[str, str]) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """Each queue's depth, or why it could not be read (an alert without depths beats no alert)."""
    depths: dict[str, dict[str, int]] = {}
    unreadable: dict[str, str] = {}
    for name, url in queues.items():
        try:
            depths[name] = deadletters.depth(sqs, url)
        except ClientError as error:
            unreadable[name] = str(error.response.get("Error", {}).get("Code", "error"))[:100]
        except BotoCoreError as error:
            unreadable[name] = error.__class__.__name__
    return depths, unreadable


def _quietly(action: Callable[[], object]) -> None:
    try:
        action()
    except Exception:
        logger.exception("state table update failed")
