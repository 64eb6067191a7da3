"""When a failed record comes back: Slack's ``Retry-After`` if it sent one, else backoff on the receive count.

The work queue's visibility timeout is 6 × the worker's timeout (AWS's rule, so that a record is never
delivered twice while a slow invocation still holds it). Waiting that long after every failure would
take five receives about half an hour to reach the dead-letter queue, and a slash command's
``response_url`` (30 minutes) could die meanwhile. So the worker sets a failed record's visibility
itself, before it reports the failure:

| receive | wait before the next receive (full jitter) |
|---|---|
| 1 | 1–4 s |
| 2 | 1–8 s |
| 3 | 1–16 s |
| 4 | 1–32 s |
| 5 | 1–64 s (then SQS moves it to the dead-letter queue) |

At most about two minutes in all, well inside 15 minutes. ``Retry-After`` wins when Slack sent one
(capped at ``MAX_RETRY_AFTER_SECONDS``). Full jitter spreads the records of one failing batch out so
that they do not all come back at the same second.

``come_back_later``, ``come_back_after`` and ``come_back_now`` set that visibility on the record's
receipt handle. When SQS refuses, the queue's own visibility timeout applies: later, never lost.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Any

from shared.config import env_float
from shared.log import get_logger
from worker.errors import Transient

logger = get_logger("worker")

FIRST_WAIT_SECONDS = 4.0  # the ceiling of the first wait; it doubles with each receive
MAX_WAIT_SECONDS = 64.0
MAX_RETRY_AFTER_SECONDS = 300.0
MIN_WAIT_SECONDS = 1
MAX_VISIBILITY_SECONDS = 43_200  # SQS's limit: 12 hours


def seconds_before_retry(
    receive_count: int,
    retry_after: float | None = None,
    *,
    first_wait: float | None = None,
    draw: Callable[[], float] = random.random,
) -> int:
    """Whole seconds (SQS's unit) to hide a failed record for, at least 1."""
    if retry_after is not None:
        return max(MIN_WAIT_SECONDS, math.ceil(min(retry_after, MAX_RETRY_AFTER_SECONDS)))
    first = env_float("RETRY_FIRST_WAIT_SECONDS", FIRST_WAIT_SECONDS) if first_wait is None else first_wait
    doubling: float = 2.0 ** max(receive_count - 1, 0)
    ceiling = min(MAX_WAIT_SECONDS, first * doubling)
    return max(MIN_WAIT_SECONDS, math.ceil(draw() * ceiling))


def come_back_later(sqs: Any, queue_url: str, record: dict[str, Any], error: Transient | None) -> None:
    """A failed record returns after Slack's Retry-After or a backoff, not the queue's long default."""
    attributes = record.get("attributes")
    raw_count = attributes.get("ApproximateReceiveCount") if isinstance(attributes, dict) else None
    receive_count = int(raw_count) if isinstance(raw_count, str) and raw_count.isdigit() else 1
    retry_after = error.retry_after if error is not None else None
    _hide(sqs, queue_url, record, seconds_before_retry(receive_count, retry_after))


def come_back_after(sqs: Any, queue_url: str, record: dict[str, Any], lease_until: float) -> None:
    """Hide the record until a dead attempt's lease ends, so the retry does not burn SQS receives."""
    seconds = int(min(max(lease_until - time.time() + 1, 0), MAX_VISIBILITY_SECONDS))
    _hide(sqs, queue_url, record, seconds)


def come_back_now(sqs: Any, queue_url: str, record: dict[str, Any]) -> None:
    """A record not started: visible again at once, for the next invocation."""
    _hide(sqs, queue_url, record, 0)


def _hide(sqs: Any, queue_url: str, record: dict[str, Any], seconds: int) -> None:
    receipt = record.get("receiptHandle")
    if not queue_url or not isinstance(receipt, str):
        return
    try:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=seconds)
    except Exception:  # without it the queue's own visibility timeout applies: later, never lost
        logger.warning("could not set the record's visibility", extra={"fields": {"seconds": seconds}})
