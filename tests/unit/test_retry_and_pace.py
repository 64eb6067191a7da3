"""When a failed record comes back (worker/retry.py) and how replies to one channel are paced (worker/pace.py)."""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from worker import retry
from worker.pace import ChannelTurns


@pytest.mark.parametrize(("receive", "ceiling"), [(1, 4), (2, 8), (3, 16), (4, 32), (5, 64), (9, 64)])
def test_backoff_doubles_per_receive_with_full_jitter(receive: int, ceiling: int) -> None:
    assert retry.seconds_before_retry(receive, draw=lambda: 0.999999) == ceiling
    assert (
        retry.seconds_before_retry(receive, draw=lambda: 0.0) == 1
    )  # never 0: SQS would hand it back at once
    waits = {retry.seconds_before_retry(receive) for _ in range(300)}
    assert min(waits) >= 1 and max(waits) <= ceiling and len(waits) > 1


def test_five_receives_reach_the_dead_letter_queue_well_inside_fifteen_minutes() -> None:
    longest = sum(retry.seconds_before_retry(n, draw=lambda: 0.999999) for n in range(1, 6))
    assert longest <= 5 * 60


def test_slacks_retry_after_wins_and_is_capped() -> None:
    assert retry.seconds_before_retry(1, retry_after=3) == 3
    assert retry.seconds_before_retry(4, retry_after=2.2) == 3
    assert retry.seconds_before_retry(1, retry_after=0) == 1
    assert retry.seconds_before_retry(1, retry_after=86_400) == retry.MAX_RETRY_AFTER_SECONDS


def test_posts_to_one_channel_wait_for_the_records_before_them() -> None:
    turns = ChannelTurns(["C1", "C2", "C1"], burst=10, per_second=1000)
    order: list[int] = []
    third_waiting = threading.Event()

    def post(index: int, channel: str) -> None:
        if index == 2:
            third_waiting.set()
        turns.wait_turn(index, channel, time.monotonic() + 10)
        order.append(index)
        turns.finished(index)

    with ThreadPoolExecutor(max_workers=2) as pool:
        third = pool.submit(post, 2, "C1")
        other_channel = pool.submit(post, 1, "C2")
        other_channel.result()
        third_waiting.wait(5)
        assert not third.done()  # record 0 (same channel) has not finished yet
        post(0, "C1")
        third.result(5)
    assert order == [1, 0, 2]


def test_a_burst_then_the_steady_pace() -> None:
    turns = ChannelTurns(["C1"] * 6, burst=3, per_second=20)  # 50 ms apart after a burst of 3
    started = time.monotonic()
    at: list[float] = []
    for index in range(6):
        turns.wait_turn(index, "C1", started + 10)
        at.append(time.monotonic() - started)
        turns.finished(index)
    assert at[2] < 0.04  # the burst goes at once
    assert at[5] >= 0.14  # then one per interval: three more intervals
    gaps = [later - earlier for earlier, later in itertools.pairwise(at[2:])]
    assert all(gap >= 0.04 for gap in gaps)


def test_waiting_for_a_turn_never_passes_the_deadline() -> None:
    turns = ChannelTurns(["C1", "C1"], burst=1, per_second=0.01)  # the second post would wait 100 s
    turns.wait_turn(0, "C1", time.monotonic() + 10)
    turns.finished(0)
    started = time.monotonic()
    turns.wait_turn(1, "C1", started + 0.2)
    assert time.monotonic() - started < 1.0
