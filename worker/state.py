"""Claims in the DynamoDB state table: how at-least-once delivery becomes exactly one answer.

Before acting on a record the worker claims the one id of its Slack action (``shared.envelope.dedupe_key``)
with one conditional write, and settles it with one more: two writes and no read per answered event
(the same as Powertools' idempotency utility: a put and an update). One item per id:

| attribute | meaning |
|---|---|
| ``id`` (S) | ``message:<team>:<channel>:<ts>`` for an event that carries a message, else ``event:<event_id>``, ``command:<trigger_id>``, … |
| ``status`` (S) | ``in_progress`` (claimed, lease running), ``done``, ``released`` (failed, may be retried), ``dead`` (dead-lettered) |
| ``lease_until`` (N) | epoch seconds; an ``in_progress`` claim past it is abandoned (the worker died) and may be taken |
| ``owner`` (S) | the SQS message id that holds the claim |
| ``expiration`` (N) | DynamoDB TTL: a day after the answer, 14 days after a failure (the DLQ's retention) |
| ``last_error``, ``error_count``, ``errors`` | why the last attempts failed (newest last, at most 5), for ``slackbot dlq`` |

Rate counters (``count``) share the table under ids of their own, ``<key>:<window number>``, with
a ``count`` (N) and an ``expiration`` at the end of their window.

A claim is taken when the item is absent, ``released``, ``dead`` or an abandoned ``in_progress``. An id
that is ``done`` or held by a live claim means another delivery of the same action is answered or
being answered: this one is a duplicate and is dropped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from worker.errors import Transient

DONE_TTL_SECONDS = 24 * 3600
FAILED_TTL_SECONDS = 14 * 24 * 3600
KEPT_ERRORS = 5


@dataclass(frozen=True)
class Claim:
    key: str
    owner: str
    duplicate_of: str | None = None  # the id found done or in progress elsewhere
    holder_status: str | None = None
    holder_owner: str | None = None
    holder_lease_until: float = 0.0

    @property
    def won(self) -> bool:
        return self.duplicate_of is None

    @property
    def held_by_an_earlier_attempt(self) -> bool:
        """This very message holds the claim from an attempt that died (Lambda crashed or timed out).

        Not a duplicate: the answer may never have gone out. It must come back once the lease ends.
        """
        return self.holder_status == "in_progress" and self.holder_owner == self.owner


class StateTable:
    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self.client = client  # boto3's DynamoDB client

    def claim(self, key: str, owner: str, lease_seconds: float) -> Claim:
        """One conditional write: the claim is ours, or the item that holds it comes back with the refusal.

        ``ReturnValuesOnConditionCheckFailure`` hands back the holder on conflict, so a duplicate costs
        no read.
        """
        holder = self._try_claim(key, owner, lease_seconds)
        if holder is None:
            return Claim(key, owner)
        return Claim(
            key,
            owner,
            duplicate_of=key,
            holder_status=str(holder.get("status", "")),
            holder_owner=str(holder.get("owner", "")),
            holder_lease_until=float(holder.get("lease_until", 0.0)),
        )

    def complete(self, claim: Claim) -> None:
        self._settle(claim, "done")

    def release(self, claim: Claim, error: str) -> None:
        """A transient failure: the next delivery may claim it again."""
        self._settle(claim, "released", error)

    def dead(self, claim: Claim, error: str) -> None:
        """Dead-lettered: claimable again if an SRE redrives it after fixing the cause."""
        self._settle(claim, "dead", error)

    def record_error(self, key: str, error: str) -> None:
        """Remember why an attempt failed without touching the claim (e.g. it could not be claimed)."""
        self._call(
            "update_item",
            TableName=self.table,
            Key={"id": {"S": key}},
            UpdateExpression=_ERROR_UPDATE + ", expiration = :failed_ttl",
            ExpressionAttributeValues=_error_values(error)
            | {":failed_ttl": _n(time.time() + FAILED_TTL_SECONDS)},
        )

    def count(self, key: str, window_seconds: float, now: float | None = None) -> int:
        """Count one more use of ``key`` in the current fixed time window; return the window's count.

        For rate limits (``check``'s per-person limit). One ``UpdateItem`` with ``ADD`` (atomic: two
        workers counting at once both count) on the item ``<key>:<window number>``, which expires (TTL)
        when its window is over, so the counters clean themselves up. Windows are fixed (epoch seconds
        divided by ``window_seconds``), so a burst across a window's end may count in two windows.
        ``now`` (epoch seconds) defaults to the clock.
        """
        window = int((time.time() if now is None else now) // window_seconds)
        answer = self._call(
            "update_item",
            TableName=self.table,
            Key={"id": {"S": f"{key}:{window}"}},
            UpdateExpression="ADD #count :one SET expiration = :window_end",
            ExpressionAttributeNames={"#count": "count"},  # COUNT is a DynamoDB reserved word
            ExpressionAttributeValues={":one": _n(1), ":window_end": _n((window + 1) * window_seconds)},
            ReturnValues="UPDATED_NEW",
        )
        return int(float(answer["Attributes"]["count"]["N"]))

    def get(self, key: str) -> dict[str, Any] | None:
        item = self._call("get_item", TableName=self.table, Key={"id": {"S": key}}, ConsistentRead=True)
        return _plain(item.get("Item")) if item.get("Item") else None

    # ----- internals -------------------------------------------------------------------------------

    def _try_claim(self, key: str, owner: str, lease_seconds: float) -> dict[str, Any] | None:
        """None when the claim is ours, else the item that holds it (as DynamoDB returned it)."""
        now = time.time()
        try:
            self._call(
                "update_item",
                TableName=self.table,
                Key={"id": {"S": key}},
                UpdateExpression="SET #s = :claimed, lease_until = :lease, #o = :owner, expiration = :ttl, "
                "updated_at = :now",
                ConditionExpression="attribute_not_exists(id) OR #s IN (:released, :dead) "
                "OR (#s = :claimed AND lease_until < :now)",
                ExpressionAttributeNames={"#s": "status", "#o": "owner"},
                ExpressionAttributeValues={
                    ":claimed": {"S": "in_progress"},
                    ":released": {"S": "released"},
                    ":dead": {"S": "dead"},
                    ":lease": _n(now + lease_seconds),
                    ":owner": {"S": owner},
                    ":ttl": _n(now + FAILED_TTL_SECONDS),
                    ":now": _n(now),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as refused:
            return _plain(refused.item)
        return None

    def _settle(self, claim: Claim, status: str, error: str | None = None) -> None:
        """One write: the claim's outcome (and why it failed), only while this delivery still holds it."""
        now = time.time()
        ttl = now + (DONE_TTL_SECONDS if status == "done" else FAILED_TTL_SECONDS)
        update = "SET #s = :status, lease_until = :zero, expiration = :ttl, updated_at = :now"
        values: dict[str, Any] = {
            ":status": {"S": status},
            ":zero": _n(0),
            ":ttl": _n(ttl),
            ":now": _n(now),
            ":owner": {"S": claim.owner},
        }
        if error is not None:
            update = update + ", " + _ERROR_UPDATE.removeprefix("SET ")
            values |= _error_values(error)
        try:
            self._call(
                "update_item",
                TableName=self.table,
                Key={"id": {"S": claim.key}},
                UpdateExpression=update,
                ConditionExpression="#o = :owner",  # never settle a claim another delivery took over
                ExpressionAttributeNames={"#s": "status", "#o": "owner"},
                ExpressionAttributeValues=values,
            )
        except ConditionFailed:
            return

    def _call(self, operation: str, **kwargs: Any) -> Any:
        return call(self.client, operation, **kwargs)


def call(client: Any, operation: str, **kwargs: Any) -> Any:
    """One DynamoDB call: a refused condition is ``ConditionFailed``, anything else ``Transient``."""
    try:
        return getattr(client, operation)(**kwargs)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise ConditionFailed(error.response.get("Item") or {}) from None
        raise Transient(f"state table: {error.response.get('Error', {}).get('Code', 'error')}") from error
    except BotoCoreError as error:
        raise Transient(f"state table unreachable: {error.__class__.__name__}") from error


class ConditionFailed(Exception):
    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__("condition failed")
        self.item = item  # the item as it was (DynamoDB's typed attributes), when the write asked for it


_ERROR_UPDATE = (
    "SET last_error = :error, last_error_at = :error_at, error_count = if_not_exists(error_count, :zero_n) + :one, "
    "errors = list_append(if_not_exists(errors, :empty), :error_list)"
)


def _error_values(error: str) -> dict[str, Any]:
    now = time.time()
    entry = f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now))} {error}"[:1000]
    return {
        ":error": {"S": error[:1000]},
        ":error_at": _n(now),
        ":zero_n": _n(0),
        ":one": _n(1),
        ":empty": {"L": []},
        ":error_list": {"L": [{"S": entry}]},
    }


def _n(value: float) -> dict[str, str]:
    return {"N": f"{value:.3f}"}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB's typed attributes as plain Python values."""
    out: dict[str, Any] = {}
    for name, typed in item.items():
        (kind, value), *_ = typed.items()
        if kind == "N":
            out[name] = float(value)
        elif kind == "L":
            out[name] = [next(iter(v.values())) for v in value][-KEPT_ERRORS:]
        else:
            out[name] = value
    return out
