"""Replies to one channel leave in the batch's order and at Slack's pace.

Slack allows about one message a second per channel, with short bursts. The records of a batch run
concurrently (a slow check must not hold up a ping), but their posts to one channel wait their turn:
a record posts only after the records before it in the batch for the same channel have finished, so
replies to one thread keep their order, and no faster than ``BURST`` at once then one a second.
"""

from __future__ import annotations

import threading
import time

BURST = 3
PER_SECOND = 1.0


class ChannelTurns:
    def __init__(
        self, channels: list[str | None], *, burst: int = BURST, per_second: float = PER_SECOND
    ) -> None:
        self._channels = channels
        self._done = [threading.Event() for _ in channels]
        last_of: dict[str, int] = {}
        self._previous: list[int | None] = []
        for index, channel in enumerate(channels):
            self._previous.append(last_of.get(channel) if channel else None)
            if channel:
                last_of[channel] = index
        self._interval = 1.0 / per_second
        self._tolerance = (burst - 1) * self._interval
        self._next_at: dict[str, float] = {}  # per channel: when the next post is due at the steady pace
        self._lock = threading.Lock()

    def wait_turn(self, index: int, channel: str, deadline: float) -> None:
        """Block until record ``index`` may post to ``channel`` (never past ``deadline``)."""
        previous = self._previous[index] if self._channels[index] == channel else None
        if previous is not None:
            self._done[previous].wait(timeout=max(deadline - time.monotonic(), 0.0))
        with self._lock:  # the generic cell rate algorithm: a burst, then one post per interval
            now = time.monotonic()
            due = max(self._next_at.get(channel, now), now)
            wait = max(due - self._tolerance - now, 0.0)
            self._next_at[channel] = due + self._interval
        time.sleep(min(wait, max(deadline - time.monotonic(), 0.0)))  # Slack's pace, not synchronisation

    def finished(self, index: int) -> None:
        self._done[index].set()
