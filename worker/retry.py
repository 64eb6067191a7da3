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
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from shared.config import env_float

FIRST_WAIT_SECONDS = 4.0  # the ceiling of the first wait; it doubles with each receive
MAX_WAIT_SECONDS = 64.0
MAX_RETRY_AFTER_SECONDS = 300.0
MIN_WAIT_SECONDS = 1


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
