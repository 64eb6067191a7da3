"""Which Slack message each alarm lives in, so that repeats update it instead of posting anew.

A flapping alarm (OK, ALARM, OK… every minute) would otherwise bury the ops channel. One item per
alarm in the state table, ``alarm:<AlarmName>``:

| attribute | meaning |
|---|---|
| ``channel``, ``ts`` | the message posted for the alarm |
| ``posted_at`` (N) | when it was posted (epoch seconds): a notification within ``REPEAT_WINDOW_SECONDS`` of it updates it in place; a later one posts a new message |
| ``count`` (N) | notifications the message stands for, the first included |
| ``first_at``, ``last_at`` (S) | the alarm's state-change time in the first and in the latest of them |
| ``recent_ids`` (L) | SNS ``MessageId``s of the last ``KEPT_IDS`` notifications handled: one delivered twice is posted once |
| ``lease_owner`` (S), ``lease_until`` (N) | the notification being posted right now; others of the same alarm wait for it |
| ``expiration`` (N) | DynamoDB TTL, a day after the latest notification |

Two writes per notification and no read: one conditional ``UpdateItem`` takes the lease (refused while
another notification holds a live one, or when this ``MessageId`` was already handled; the item comes
back either way, ``ReturnValues`` on success and ``ReturnValuesOnConditionCheckFailure`` on refusal),
and one settles it, only while the lease is still this notification's. A notification whose post
failed gives its lease back and is retried by Lambda; one whose function died holding the lease is
retried after the lease ran out (Lambda's retries come a minute or more later).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from worker import state

REPEAT_WINDOW_SECONDS = 300.0  # repeats within 5 minutes of the post are merged into it
KEPT_IDS = 20  # SNS MessageIds remembered per alarm, against duplicate deliveries
TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Message:
    """The alarm's current message, as the claim found it (all empty before the alarm's first post)."""

    channel: str = ""
    ts: str = ""
    posted_at: float = 0.0
    count: int = 0
    first_at: str = ""
    recent_ids: tuple[str, ...] = ()

    def takes_repeat(self, channel: str, now: float) -> bool:
        """Whether a notification arriving at ``now`` updates this message rather than posting a new one."""
        return bool(self.ts) and self.channel == channel and 0 <= now - self.posted_at < REPEAT_WINDOW_SECONDS


@dataclass(frozen=True)
class AlarmClaim:
    key: str
    message_id: str
    outcome: Literal["won", "duplicate", "busy"]
    message: Message  # what the item held when the claim was tried

    @property
    def won(self) -> bool:
        return self.outcome == "won"


@dataclass(frozen=True)
class Posted:
    """The message as it stands after this notification: what ``settle`` writes."""

    channel: str
    ts: str
    posted_at: float
    count: int
    first_at: str
    last_at: str


class AlarmMessages:
    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self.client = client  # boto3's DynamoDB client

    def claim(self, alarm_name: str, message_id: str, lease_seconds: float) -> AlarmClaim:
        """One conditional write: the lease on the alarm's message, or why not (a duplicate, or busy)."""
        key = f"alarm:{alarm_name}"
        now = time.time()
        try:
            answer = self._call(
                "update_item",
                TableName=self.table,
                Key={"id": {"S": key}},
                UpdateExpression="SET lease_owner = :me, lease_until = :lease, expiration = :ttl",
                ConditionExpression="(attribute_not_exists(lease_until) OR lease_until < :now) "
                "AND NOT contains(recent_ids, :me)",
                ExpressionAttributeValues={
                    ":me": {"S": message_id},
                    ":lease": _n(now + lease_seconds),
                    ":now": _n(now),
                    ":ttl": _n(now + TTL_SECONDS),
                },
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except state.ConditionFailed as refused:
            message = _message(refused.item)
            # The same notification, handled or being handled right now, is a duplicate; any other waits.
            handled = (
                message_id in message.recent_ids or refused.item.get("lease_owner", {}).get("S") == message_id
            )
            return AlarmClaim(key, message_id, "duplicate" if handled else "busy", message)
        return AlarmClaim(key, message_id, "won", _message(answer.get("Attributes") or {}))

    def settle(self, claim: AlarmClaim, posted: Posted) -> None:
        """One write: the message as it now stands, this notification remembered, the lease given back."""
        ids = [*claim.message.recent_ids, claim.message_id][-KEPT_IDS:]
        self._release_if_mine(
            claim,
            "SET channel = :channel, ts = :ts, posted_at = :posted_at, #count = :count, first_at = :first_at, "
            "last_at = :last_at, recent_ids = :ids, expiration = :ttl REMOVE lease_owner, lease_until",
            {
                ":channel": {"S": posted.channel},
                ":ts": {"S": posted.ts},
                ":posted_at": _n(posted.posted_at),
                ":count": _n(posted.count),
                ":first_at": {"S": posted.first_at},
                ":last_at": {"S": posted.last_at},
                ":ids": {"L": [{"S": i} for i in ids]},
                ":ttl": _n(time.time() + TTL_SECONDS),
            },
            names={"#count": "count"},  # COUNT is a DynamoDB reserved word
        )

    def release(self, claim: AlarmClaim) -> None:
        """The post failed: the next delivery (Lambda's retry) or another notification may go ahead."""
        self._release_if_mine(claim, "REMOVE lease_owner, lease_until", {})

    def _release_if_mine(
        self, claim: AlarmClaim, update: str, values: dict[str, Any], names: dict[str, str] | None = None
    ) -> None:
        try:
            self._call(
                "update_item",
                TableName=self.table,
                Key={"id": {"S": claim.key}},
                UpdateExpression=update,
                ConditionExpression="lease_owner = :me",  # never settle a lease that ran out and was taken
                ExpressionAttributeValues={**values, ":me": {"S": claim.message_id}},
                **({"ExpressionAttributeNames": names} if names else {}),
            )
        except state.ConditionFailed:
            return

    def _call(self, operation: str, **kwargs: Any) -> Any:
        return state.call(self.client, operation, **kwargs)


def _message(item: dict[str, Any]) -> Message:
    def text(name: str) -> str:
        return str(item.get(name, {}).get("S", ""))

    def number(name: str) -> float:
        try:
            return float(item.get(name, {}).get("N", 0))
        except (TypeError, ValueError):
            return 0.0

    ids = tuple(str(v.get("S", "")) for v in item.get("recent_ids", {}).get("L", []) if isinstance(v, dict))
    return Message(
        channel=text("channel"),
        ts=text("ts"),
        posted_at=number("posted_at"),
        count=int(number("count")),
        first_at=text("first_at"),
        recent_ids=ids,
    )


def _n(value: float) -> dict[str, str]:
    return {"N": f"{value:.3f}"}
