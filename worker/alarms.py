"""CloudWatch alarms, as SNS delivers them, turned into a post in the ops channel.

The alarm function (``worker/alarm_handler.py``) is subscribed to the alarm topic: Lambda hands it
SNS's notification (``{"Type": "Notification", "TopicArn": …, "MessageId": …, "Message": "<the alarm
as a JSON string>"}``, the ``Sns`` part of each record) with the alarm's JSON inside it. Both layers
are unwrapped here and rendered as a readable alert with the queue depths and the command to run next.
``read`` takes the same notification as a JSON string: what SNS put on an SQS queue when alarms still
went through the work queue, so that ``slackbot dlq`` can still name such an old dead letter.

Only the stack's own topic (``ALARM_TOPIC_ARN``) is believed: a notification naming any other topic,
or any topic when none is configured, is not posted (``refusal`` says why). The topic's policy lets
only CloudWatch of this account publish, and everything the notification says (alarm name,
description, reason…) is escaped, so that it cannot ping the channel or hide a link.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from worker.mrkdwn import escape
from worker.slack import Reply

SECTION_LIMIT = 3000  # Block Kit's limit on a section's text

NEXT_STEP = {
    "ALARM": "Run `slackbot queue stats` and `slackbot dlq list`, then see docs/runbook.md.",
    "OK": "Nothing to do; check `slackbot dlq list` for what died meanwhile.",
}


@dataclass(frozen=True)
class Alarm:
    notification_id: str  # SNS's MessageId: the same notification delivered twice is answered once
    name: str
    state: str  # ALARM | OK | INSUFFICIENT_DATA
    previous_state: str
    reason: str
    since: str  # StateChangeTime
    description: str
    metric: str
    queue: str | None  # the QueueName dimension, for queue alarms
    topic_arn: str = ""  # the SNS topic it came through, as the notification says


def read(body: str) -> Alarm | None:
    """The alarm inside an SNS notification given as JSON text, or None if ``body`` is not one."""
    try:
        outer = json.loads(body)
    except ValueError:
        return None
    return from_notification(outer)


def from_notification(outer: Any) -> Alarm | None:
    """The alarm inside SNS's notification (the ``Sns`` of a Lambda record), or None if it is not one."""
    if not isinstance(outer, dict) or outer.get("Type") != "Notification" or "TopicArn" not in outer:
        return None
    try:
        inner = json.loads(outer.get("Message") or "")
    except (TypeError, ValueError):
        inner = None
    if not isinstance(inner, dict) or "AlarmName" not in inner:
        # Not an alarm (a test publish, another producer): shown as it is.
        text = str(outer.get("Subject") or outer.get("Message") or "")[:500]
        return Alarm(
            str(outer.get("MessageId", "")),
            "SNS notification",
            "INFO",
            "",
            text,
            str(outer.get("Timestamp", "")),
            "",
            "",
            None,
            _topic(outer),
        )
    trigger = inner.get("Trigger")
    trigger = trigger if isinstance(trigger, dict) else {}
    return Alarm(
        notification_id=str(outer.get("MessageId", "")),
        name=str(inner.get("AlarmName")),
        state=str(inner.get("NewStateValue", "")),
        previous_state=str(inner.get("OldStateValue", "")),
        reason=str(inner.get("NewStateReason", "")),
        since=str(inner.get("StateChangeTime", "")),
        description=str(inner.get("AlarmDescription") or ""),
        metric=str(trigger.get("MetricName", "")),
        queue=_dimension(trigger, "QueueName"),
        topic_arn=_topic(outer),
    )


def refusal(alarm: Alarm, trusted_topic_arn: str) -> str | None:
    """Why this notification must not be posted, or None when it came from the trusted topic."""
    if not trusted_topic_arn:
        return "an SNS notification, but ALARM_TOPIC_ARN is not set: alarms are not trusted"
    if alarm.topic_arn != trusted_topic_arn:
        return f"an SNS notification from another topic ({alarm.topic_arn[:200]!r}): not posted"
    return None


@dataclass(frozen=True)
class Repeats:
    """Notifications of one alarm merged into one message: how many, and the first's and latest's times."""

    count: int  # notifications shown by the message, the first included
    first_at: str
    last_at: str


def render(
    alarm: Alarm,
    depths: dict[str, dict[str, int]],
    *,
    unreadable: dict[str, str] | None = None,
    repeats: Repeats | None = None,
) -> Reply:
    """The alert as posted: every text from the notification escaped, only our own markup live.

    ``unreadable`` names the queues whose depth could not be read, with why (a deleted queue is worth
    saying); ``repeats`` is set when the message stands for several notifications of the alarm.
    """
    emoji = {"ALARM": ":rotating_light:", "OK": ":white_check_mark:"}.get(alarm.state, ":information_source:")
    lines = [
        f"{emoji} *{escape(alarm.state)}*: {escape(alarm.name)}"
        + (f" (was {escape(alarm.previous_state)})" if alarm.previous_state else "")
    ]
    if alarm.description:
        lines.append(escape(alarm.description))
    if alarm.since:
        lines.append(f"since {escape(alarm.since)}")
    if alarm.reason:
        lines.append(f"> {escape(alarm.reason)}")
    for name, depth in depths.items():
        lines.append(f"{name}: {depth['visible']} waiting, {depth['in_flight']} in flight")
    for name, why in (unreadable or {}).items():
        lines.append(f"{name}: depth unknown ({escape(why)})")
    if repeats is not None and repeats.count > 1:
        times = "time" if repeats.count == 2 else "times"
        lines.append(
            f":repeat: repeated {repeats.count - 1} {times} since {escape(repeats.first_at)},"
            f" last at {escape(repeats.last_at)}"
        )
    lines.append(NEXT_STEP.get(alarm.state, NEXT_STEP["ALARM"]))
    text = "\n".join(lines)
    return Reply(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": _fit(text)}}])


def _fit(text: str) -> str:
    """At most Block Kit's 3000 characters of section text (an alarm's description and reason may be long).

    Cutting escaped text may leave half an entity (``&l``): shown as typed, never live markup.
    """
    return text if len(text) <= SECTION_LIMIT else text[: SECTION_LIMIT - 1] + "…"


def _topic(outer: dict[str, Any]) -> str:
    topic = outer.get("TopicArn")
    return topic if isinstance(topic, str) else ""


def _dimension(trigger: dict[str, Any], name: str) -> str | None:
    for dimension in trigger.get("Dimensions") or []:
        if isinstance(dimension, dict) and dimension.get("name") == name:
            return str(dimension.get("value"))
    return None
