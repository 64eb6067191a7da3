"""CloudWatch alarms, delivered through SNS onto the work queue, turned into a post in the ops channel.

The template subscribes the work queue to the alarm topic. What arrives is SNS's envelope
(``{"Type": "Notification", "TopicArn": …, "Message": "<the alarm as a JSON string>"}``) with the
alarm's JSON inside it: both layers are unwrapped here and rendered as a readable alert with the
queue depths and the command to run next.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from worker.slack import Reply

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


def read(body: str) -> Alarm | None:
    """The alarm inside an SNS notification, or None if ``body`` is not one."""
    try:
        outer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(outer, dict) or outer.get("Type") != "Notification" or "TopicArn" not in outer:
        return None
    try:
        inner = json.loads(outer.get("Message") or "")
    except ValueError:
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
    )


def render(alarm: Alarm, depths: dict[str, dict[str, int]]) -> Reply:
    emoji = {"ALARM": ":rotating_light:", "OK": ":white_check_mark:"}.get(alarm.state, ":information_source:")
    lines = [
        f"{emoji} *{alarm.state}*: {alarm.name}"
        + (f" (was {alarm.previous_state})" if alarm.previous_state else "")
    ]
    if alarm.description:
        lines.append(alarm.description)
    if alarm.since:
        lines.append(f"since {alarm.since}")
    if alarm.reason:
        lines.append(f"> {alarm.reason}")
    for name, depth in depths.items():
        lines.append(f"{name}: {depth['visible']} waiting, {depth['in_flight']} in flight")
    lines.append(NEXT_STEP.get(alarm.state, NEXT_STEP["ALARM"]))
    text = "\n".join(lines)
    return Reply(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])


def _dimension(trigger: dict[str, Any], name: str) -> str | None:
    for dimension in trigger.get("Dimensions") or []:
        if isinstance(dimension, dict) and dimension.get("name") == name:
            return str(dimension.get("value"))
    return None
