"""The state table's rate counter (DynamoDB on moto server), which limits `check` per person."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import Aws
from worker.errors import Transient
from worker.state import StateTable

WINDOW = 600.0
NOW = 1_700_000_100.0  # 300 s into window 2_833_333, which ends at 1_700_000_400


@pytest.fixture
def state(aws: Aws) -> StateTable:
    return StateTable(aws.resources.table, aws.dynamodb)


def test_each_use_counts_one_in_its_window(state: StateTable) -> None:
    assert [state.count("ratelimit:check:T1:U1", WINDOW, now=NOW + n) for n in range(3)] == [1, 2, 3]
    assert state.count("ratelimit:check:T1:U2", WINDOW, now=NOW) == 1  # another person, another count


def test_a_new_window_starts_from_one(state: StateTable) -> None:
    state.count("k", WINDOW, now=NOW)
    assert state.count("k", WINDOW, now=NOW + 299.9) == 2  # still window 2_833_333
    assert state.count("k", WINDOW, now=NOW + 300) == 1


def test_the_counter_expires_with_its_window(state: StateTable) -> None:
    state.count("k", WINDOW, now=NOW)
    item = state.get("k:2833333")
    assert item is not None
    assert item["count"] == 1
    assert item["expiration"] == 1_700_000_400  # the window's end: DynamoDB's TTL removes it after


def test_counts_from_concurrent_workers_are_not_lost(state: StateTable) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(lambda _: state.count("busy", WINDOW, now=NOW), range(20)))
    assert sorted(counts) == list(range(1, 21))


def test_the_default_clock_is_the_wall_clock(state: StateTable) -> None:
    before = time.time()
    state.count("k", WINDOW)
    window = int(before // WINDOW)
    item = state.get(f"k:{window}") or state.get(f"k:{window + 1}")  # the call may cross a window's end
    assert item is not None and item["count"] == 1


def test_an_unreachable_table_is_transient(aws: Aws) -> None:
    with pytest.raises(Transient, match="ResourceNotFoundException"):
        StateTable("no-such-table", aws.dynamodb).count("k", WINDOW, now=NOW)
