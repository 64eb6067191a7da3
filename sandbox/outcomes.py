"""What became of each Slack action in the sandbox: answered, ignored, or dead-lettered and why.

``slackbot say`` asks ``GET /sandbox/outcome?id=<correlation id>`` after sending: the correlation id
is the one the ingest and the worker both log (``shared.envelope.dedupe_key``: the message for a
mention or DM, ``command:<trigger_id>`` for a slash command), so an outcome is matched to its request
exactly, whatever else is going on.

The ledger learns from the functions' own log records (the ingest's ``queued``, the worker's
``record`` lines) and from the poller's batch reports (receive counts). One fact is in no log: SQS
moving a message to the dead-letter queue after its last receive. The poller knows which messages
failed on their last allowed receive (candidates: SQS moves each of them on its next receive); the
``DeadLetterWatch`` samples the DLQ's depth (``GetQueueAttributes``, which neither receives nor hides
anything) and attributes a rise the worker did not cause itself to those candidates, oldest first.
A sample is trusted only if no invocation ran while it was taken: the worker sends its own dead
letters before it logs them, and a sample in between would count one of those as an SQS move.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.poller import BatchReport

_log = logging.getLogger(__name__)
TERMINAL = frozenset({"answered", "dead_lettered", "ignored"})
RETRIES_EXHAUSTED = "retries exhausted"
_KEPT = 2000  # messages remembered; older ones are forgotten first


@dataclass(frozen=True)
class Attempt:
    outcome: str  # the worker's outcome, or dead_lettered for an SQS move
    reason: str
    at: float
    receive_count: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "reason": self.reason, "at": self.at, "receive": self.receive_count}


@dataclass
class Track:
    """One message of the work queue."""

    message_id: str
    correlation_id: str = ""
    queued_at: float | None = None
    receive_count: int = 0
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def last_reason(self) -> str:
        return self.attempts[-1].reason if self.attempts else ""


Moved = Callable[[Track, Attempt], None]


class Ledger:
    def __init__(self, max_receive_count: int, on_moved: Moved | None = None) -> None:
        self.max_receive_count = max_receive_count
        self.on_moved = on_moved
        self._cond = threading.Condition()
        self._tracks: dict[str, Track] = {}
        self._by_correlation: dict[str, list[str]] = {}
        self._candidates: list[str] = []  # failed on their last allowed receive, oldest first
        self._invocations = 0  # started so far: a sample is clean if none started while it was taken
        self._running = 0
        self._dlq_total: int | None = None  # the DLQ's depth at the last clean sample
        self._own_dead_letters = 0  # sent by the worker since then

    # ----- what the functions and the poller report ---------------------------------------------

    def queued(self, message_id: str, correlation_id: str, at: float) -> None:
        with self._cond:
            track = self._track(message_id, correlation_id)
            track.queued_at = at
            self._cond.notify_all()

    def settled(self, message_id: str, correlation_id: str, outcome: str, reason: str, at: float) -> None:
        """A ``record`` line of the worker."""
        with self._cond:
            track = self._track(message_id, correlation_id)
            track.attempts.append(Attempt(outcome, reason, at, track.receive_count))
            if outcome == "dead_lettered":
                self._own_dead_letters += 1
            self._cond.notify_all()

    def picked_up(self, message_id: str, receive_count: int) -> None:
        """The poller hands the worker this message (before the worker logs anything about it)."""
        with self._cond:
            self._track(message_id).receive_count = receive_count

    def batch(self, report: BatchReport) -> None:
        """The poller settled a batch: note who failed on its last allowed receive."""
        with self._cond:
            for message_id in report.failed_ids:
                track = self._track(message_id)
                if report.error and not any(a.receive_count == track.receive_count for a in track.attempts):
                    track.attempts.append(Attempt("failed", report.error, time.time(), track.receive_count))
                if track.receive_count >= self.max_receive_count and message_id not in self._candidates:
                    self._candidates.append(message_id)
            self._cond.notify_all()

    def invocation(self) -> _Invocation:
        """``with ledger.invocation():`` around each call of the worker."""
        return _Invocation(self)

    # ----- the dead-letter queue's depth --------------------------------------------------------

    def invocations(self) -> tuple[int, int]:
        """(started so far, running now), to tell whether a depth sample was clean."""
        with self._cond:
            return self._invocations, self._running

    def dlq_depth(self, total: int, clean: bool) -> None:
        """A sample of the DLQ's depth (visible + in flight + delayed)."""
        moved: list[tuple[Track, Attempt]] = []
        with self._cond:
            if not clean:
                return  # decided at the next clean sample: nothing is lost by waiting
            expected = (self._dlq_total if self._dlq_total is not None else total) + self._own_dead_letters
            self._dlq_total, self._own_dead_letters = total, 0
            for _ in range(max(0, total - expected)):
                if not self._candidates:
                    break  # not ours to explain (a message sent there by hand)
                track = self._tracks[self._candidates.pop(0)]
                reason = f"{RETRIES_EXHAUSTED} after {track.receive_count} receives"
                if track.last_reason:
                    reason += f": {track.last_reason}"
                attempt = Attempt("dead_lettered", reason, time.time(), track.receive_count)
                track.attempts.append(attempt)
                moved.append((track, attempt))
            self._cond.notify_all()
        for track, attempt in moved:
            if self.on_moved is not None:
                self.on_moved(track, attempt)

    # ----- what ``slackbot say`` asks -------------------------------------------------------------

    def outcome(self, correlation_id: str) -> dict[str, Any]:
        """Every attempt at this Slack action (all its deliveries), and its outcome once there is one."""
        with self._cond:
            tracks = [
                self._tracks[m] for m in self._by_correlation.get(correlation_id, []) if m in self._tracks
            ]
            attempts = sorted(
                ((a, t.message_id) for t in tracks for a in t.attempts), key=lambda pair: pair[0].at
            )
            final = next(((a, m) for a, m in attempts if a.outcome in TERMINAL), None)
            return {
                "id": correlation_id,
                "message_ids": [t.message_id for t in tracks],
                "outcome": final[0].outcome if final else None,
                "reason": final[0].reason if final else "",
                "message_id": final[1] if final else "",  # the work queue's message it happened to
                "attempts": [a.to_json() for a, _ in attempts],
                "max_receive_count": self.max_receive_count,
            }

    def wait(self, correlation_id: str, seen: int, timeout: float) -> dict[str, Any]:
        """The outcome, as soon as there is one or more than ``seen`` attempts, or after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                answer = self.outcome(correlation_id)
                left = deadline - time.monotonic()
                if answer["outcome"] or len(answer["attempts"]) > seen or left <= 0:
                    return answer
                self._cond.wait(left)

    # ----- internals ----------------------------------------------------------------------------

    def _track(self, message_id: str, correlation_id: str = "") -> Track:
        track = self._tracks.get(message_id)
        if track is None:
            track = self._tracks[message_id] = Track(message_id)
            while len(self._tracks) > _KEPT:
                self._forget(next(iter(self._tracks)))
        if correlation_id and not track.correlation_id:
            track.correlation_id = correlation_id
            self._by_correlation.setdefault(correlation_id, []).append(message_id)
        return track

    def _forget(self, message_id: str) -> None:
        track = self._tracks.pop(message_id)
        if message_id in self._candidates:
            self._candidates.remove(message_id)
        ids = self._by_correlation.get(track.correlation_id, [])
        if message_id in ids:
            ids.remove(message_id)
            if not ids:
                del self._by_correlation[track.correlation_id]


class LedgerLogHandler(logging.Handler):
    """Feeds the ledger from the functions' structured log records (the ones the console prints)."""

    def __init__(self, ledger: Ledger) -> None:
        super().__init__()
        self.ledger = ledger

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = getattr(record, "fields", None) or {}
            message_id = str(fields.get("message_id") or "")
            correlation_id = str(fields.get("correlation_id") or "")
            if not message_id:
                return
            if record.name == "slackbot.ingest" and fields.get("outcome") == "queued":
                self.ledger.queued(message_id, correlation_id, record.created)
            elif record.name == "slackbot.worker" and record.getMessage() == "record":
                outcome, reason = str(fields.get("outcome", "")), str(fields.get("reason") or "")
                self.ledger.settled(message_id, correlation_id, outcome, reason, record.created)
        except Exception:
            self.handleError(record)


class _Invocation:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def __enter__(self) -> None:
        with self.ledger._cond:
            self.ledger._invocations += 1
            self.ledger._running += 1

    def __exit__(self, *_: object) -> None:
        with self.ledger._cond:
            self.ledger._running -= 1


class DeadLetterWatch:
    """Samples the DLQ's depth every ``interval`` seconds for the ledger, in a thread of its own."""

    def __init__(self, ledger: Ledger, sqs: Any, dlq_url: str, interval: float = 0.5) -> None:
        self.ledger = ledger
        self.sqs = sqs
        self.dlq_url = dlq_url
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dlq-watch", daemon=True)

    def start(self) -> DeadLetterWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def sample(self) -> None:
        before = self.ledger.invocations()
        total = self._depth()
        after = self.ledger.invocations()
        self.ledger.dlq_depth(total, clean=before == after and before[1] == 0)

    def _depth(self) -> int:
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=names)["Attributes"]
        return sum(int(attributes.get(name, 0)) for name in names)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sample()
            except Exception as error:  # moto stopping, a hiccup: the next sample decides
                _log.debug("dead-letter queue depth not read: %s", error)
