"""Claims in the state table (DynamoDB on moto server): taken once, handed back, taken over when abandoned."""

from __future__ import annotations

import pytest

from tests.conftest import Aws
from worker.errors import Transient
from worker.state import StateTable

KEY = "message:T1:C1:1.0001"


@pytest.fixture
def state(aws: Aws) -> StateTable:
    return StateTable(aws.resources.table, aws.dynamodb)


def test_a_claim_is_taken_once(state: StateTable) -> None:
    first = state.claim(KEY, "m-1", 60)
    second = state.claim(KEY, "m-2", 60)
    assert first.won and not second.won and second.duplicate_of == KEY
    # The refusal itself says who holds the claim: no read needed.
    assert second.holder_status == "in_progress" and second.holder_owner == "m-1"
    item = state.get(KEY)
    assert item is not None and item["status"] == "in_progress" and item["owner"] == "m-1"


def test_a_released_claim_may_be_taken_again_and_keeps_its_errors(state: StateTable) -> None:
    claim = state.claim(KEY, "m-1", 60)
    state.release(claim, "slack chat.postMessage: HTTP 503")
    again = state.claim(KEY, "m-1", 60)
    assert again.won
    state.release(again, "slack chat.postMessage: HTTP 502")
    item = state.get(KEY)
    assert item is not None and item["status"] == "released"
    assert item["last_error"] == "slack chat.postMessage: HTTP 502" and item["error_count"] == 2
    assert [e.split(" ", 1)[1] for e in item["errors"]] == [
        "slack chat.postMessage: HTTP 503",
        "slack chat.postMessage: HTTP 502",
    ]


def test_an_abandoned_claim_is_taken_over_after_its_lease(state: StateTable) -> None:
    assert state.claim(KEY, "m-crashed", lease_seconds=-1).won  # its lease has already run out
    assert state.claim(KEY, "m-2", 60).won


def test_a_settled_claim_ignores_a_late_owner(state: StateTable) -> None:
    state.claim(KEY, "m-crashed", lease_seconds=-1)
    taken_over = state.claim(KEY, "m-2", 60)
    state.release(state.claim(KEY, "m-nobody", 60), "never applied")  # lost: m-2 holds it
    state.complete(taken_over)
    item = state.get(KEY)
    assert item is not None and item["status"] == "done" and "last_error" not in item


def test_dead_claims_may_be_redriven(state: StateTable) -> None:
    state.dead(state.claim(KEY, "m-1", 60), "slack error: channel_not_found")
    assert state.claim(KEY, "m-redriven", 60).won


def test_the_ttl_is_a_day_after_an_answer(state: StateTable) -> None:
    import time

    state.complete(state.claim(KEY, "m-1", 60))
    item = state.get(KEY)
    assert item is not None and 23 * 3600 < item["expiration"] - time.time() <= 24 * 3600


def test_an_unreachable_table_is_transient(aws: Aws) -> None:
    with pytest.raises(Transient):
        StateTable("no-such-table", aws.dynamodb).claim(KEY, "m-1", 60)


def test_concurrent_claims_of_one_id_have_exactly_one_winner(state: StateTable) -> None:
    """What DynamoDB guarantees for conditional writes, and what the sandbox's moto must honour too."""
    from concurrent.futures import ThreadPoolExecutor

    for round_ in range(5):
        key = f"event:EvRACE{round_}"
        with ThreadPoolExecutor(max_workers=12) as pool:
            claims = list(pool.map(lambda n, key=key: state.claim(key, f"m-{n}", 60), range(12)))
        assert sum(claim.won for claim in claims) == 1
