"""The sandbox's ledger: what became of each Slack action, SQS's moves to the DLQ included."""

from __future__ import annotations

from sandbox.outcomes import Attempt, Ledger, Track
from sandbox.poller import BatchReport

KEY = "message:T0STANDIN:C0SANDBOX:1700000000.000100"


def failed_batch(message_id: str, error: str | None = None) -> BatchReport:
    return BatchReport(
        received=1, deleted=0, failed_ids=[message_id], error=error, duration_ms=1.0, message_ids=[message_id]
    )


def fail_until_last_receive(ledger: Ledger, message_id: str, reason: str) -> None:
    ledger.queued(message_id, KEY, 1.0)
    for receive in range(1, ledger.max_receive_count + 1):
        ledger.picked_up(message_id, receive)
        ledger.settled(message_id, KEY, "failed", reason, 2.0 + receive)
        ledger.batch(failed_batch(message_id))


def test_an_answered_action_is_reported_by_its_correlation_id() -> None:
    ledger = Ledger(5)
    ledger.queued("m-1", KEY, 1.0)
    ledger.picked_up("m-1", 1)
    ledger.settled("m-1", KEY, "answered", "kind=event", 2.0)
    outcome = ledger.outcome(KEY)
    assert outcome["outcome"] == "answered" and outcome["message_ids"] == ["m-1"]
    assert ledger.outcome("message:other")["outcome"] is None


def test_a_duplicate_delivery_does_not_end_the_wait_the_original_does() -> None:
    ledger = Ledger(5)
    ledger.queued("m-retry", KEY, 1.0)
    ledger.settled("m-retry", KEY, "duplicate", "already in progress", 2.0)
    assert ledger.outcome(KEY)["outcome"] is None
    ledger.queued("m-first", KEY, 0.5)
    ledger.settled("m-first", KEY, "dead_lettered", "slack error: not_in_channel", 3.0)
    assert ledger.outcome(KEY)["outcome"] == "dead_lettered"
    assert ledger.outcome(KEY)["reason"] == "slack error: not_in_channel"
    assert ledger.outcome(KEY)["message_id"] == "m-first"


def test_a_rise_of_the_dead_letter_queue_after_the_last_receive_failed_is_sqs_moving_it() -> None:
    moved: list[tuple[Track, Attempt]] = []
    ledger = Ledger(5, on_moved=lambda track, attempt: moved.append((track, attempt)))
    ledger.dlq_depth(0, clean=True)
    fail_until_last_receive(ledger, "m-flaky", "slack chat.postMessage: HTTP 503")
    assert ledger.outcome(KEY)["outcome"] is None  # failed five times, not moved yet
    ledger.dlq_depth(1, clean=True)
    outcome = ledger.outcome(KEY)
    assert outcome["outcome"] == "dead_lettered"
    assert outcome["reason"] == "retries exhausted after 5 receives: slack chat.postMessage: HTTP 503"
    assert [track.message_id for track, _ in moved] == ["m-flaky"]


def test_the_workers_own_dead_letter_is_not_taken_for_an_sqs_move() -> None:
    ledger = Ledger(5)
    ledger.dlq_depth(0, clean=True)
    fail_until_last_receive(ledger, "m-flaky", "timeout")
    ledger.queued("m-gone", "message:T:C:2", 1.0)
    ledger.settled("m-gone", "message:T:C:2", "dead_lettered", "slack error: channel_not_found", 2.0)
    ledger.dlq_depth(1, clean=True)  # the worker's copy of m-gone
    assert ledger.outcome(KEY)["outcome"] is None
    ledger.dlq_depth(2, clean=True)  # now SQS moved m-flaky
    assert ledger.outcome(KEY)["outcome"] == "dead_lettered"


def test_a_sample_taken_while_the_worker_ran_decides_nothing() -> None:
    ledger = Ledger(5)
    ledger.dlq_depth(0, clean=True)
    fail_until_last_receive(ledger, "m-flaky", "timeout")
    ledger.dlq_depth(1, clean=False)  # may be a dead letter the worker sent and has not logged yet
    assert ledger.outcome(KEY)["outcome"] is None
    ledger.dlq_depth(1, clean=True)
    assert ledger.outcome(KEY)["outcome"] == "dead_lettered"


def test_a_fall_of_the_dead_letter_queue_is_a_new_baseline() -> None:
    ledger = Ledger(5)
    ledger.dlq_depth(3, clean=True)
    ledger.dlq_depth(1, clean=True)  # someone dropped two
    fail_until_last_receive(ledger, "m-flaky", "timeout")
    ledger.dlq_depth(1, clean=True)
    assert ledger.outcome(KEY)["outcome"] is None
    ledger.dlq_depth(2, clean=True)
    assert ledger.outcome(KEY)["outcome"] == "dead_lettered"


def test_a_whole_failed_batch_counts_as_a_failed_attempt_with_the_functions_error() -> None:
    ledger = Ledger(5)
    ledger.queued("m-1", KEY, 1.0)
    ledger.picked_up("m-1", 1)
    ledger.batch(failed_batch("m-1", error="function timed out after 60 s"))
    (attempt,) = ledger.outcome(KEY)["attempts"]
    assert attempt["outcome"] == "failed" and attempt["reason"] == "function timed out after 60 s"
    assert attempt["receive"] == 1


def test_wait_returns_at_a_new_attempt_without_waiting_out_its_timeout() -> None:
    ledger = Ledger(5)
    ledger.queued("m-1", KEY, 1.0)
    ledger.settled("m-1", KEY, "failed", "HTTP 503", 2.0)
    answer = ledger.wait(KEY, seen=0, timeout=30)  # one attempt is already more than the 0 seen
    assert [a["reason"] for a in answer["attempts"]] == ["HTTP 503"] and answer["outcome"] is None
