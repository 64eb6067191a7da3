"""Failures on Slack's clock (moto server, Slack stand-in): a failed record returns after its backoff or
Slack's Retry-After, not after the queue's default visibility timeout; replies to one channel are paced.

The queue here keeps the template's visibility timeout (6 × the worker's timeout, minutes): a record
seen again within seconds proves that the worker set its visibility itself.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from sandbox import resources
from tests.support import slack_requests as sr
from tests.support.moto_server import MotoServer
from tests.support.pipeline import Pipeline, new_pipeline


@pytest.fixture
def slow_queue_pipeline(
    moto_server: MotoServer, slack: Any, signing_secret: str, monkeypatch: pytest.MonkeyPatch
) -> Pipeline:
    assert resources.VISIBILITY_TIMEOUT_SECONDS >= 60
    pipeline, _ = new_pipeline(moto_server.url, slack, monkeypatch.setenv, prefix="r")  # the template's
    return pipeline


def _seconds_until_visible_again(pipeline: Pipeline, limit: int = 15) -> tuple[float, list[dict[str, Any]]]:
    started = time.monotonic()
    messages = pipeline.receive(wait=limit)  # long polling: returns the moment the record is visible
    return time.monotonic() - started, messages


def test_a_transient_failure_comes_back_after_its_backoff(slow_queue_pipeline: Pipeline) -> None:
    pipeline = slow_queue_pipeline
    pipeline.slack.add_fault(method="chat.postMessage", status=503, times=4)  # every retry in the call fails
    pipeline.post(sr.mention("<@UBOT> ping"))
    first = pipeline.run_worker(timeout_seconds=20)
    assert first is not None and len(first.failed) == 1
    waited, messages = _seconds_until_visible_again(pipeline)
    assert messages, "the record did not come back within 15 s (the queue's default is minutes)"
    assert waited <= 4 + 1.5  # the first backoff is 1–4 s
    assert messages[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    second = pipeline.invoke(messages, timeout_seconds=20)
    assert second.failed == [] and len(pipeline.replies()) == 1


def test_a_429_whose_retry_after_does_not_fit_comes_back_after_retry_after(
    slow_queue_pipeline: Pipeline,
) -> None:
    pipeline = slow_queue_pipeline
    pipeline.slack.add_fault(method="chat.postMessage", status=429, retry_after=3, times=1)
    pipeline.post(sr.mention("<@UBOT> ping"))
    # 5 s of function time: 3 s of Retry-After, another call and settling do not fit, so it is not slept.
    first = pipeline.run_worker(timeout_seconds=5)
    assert first is not None and len(first.failed) == 1 and first.seconds < 3
    waited, messages = _seconds_until_visible_again(pipeline)
    assert messages and 2.0 <= waited <= 3 + 1.5
    assert pipeline.invoke(messages, timeout_seconds=20).failed == []
    assert [c["status"] for c in pipeline.slack.calls("chat.postMessage")] == [429, 200]


def test_replies_to_one_channel_keep_their_order_at_slacks_pace(slow_queue_pipeline: Pipeline) -> None:
    pipeline = slow_queue_pipeline
    for n in range(5):
        pipeline.post(
            sr.mention("<@UBOT> ping", channel="C0BUSY", extra={"thread_ts": f"1700000000.00000{n}"})
        )
    messages: list[dict[str, Any]] = []
    while len(messages) < 5:
        messages += pipeline.receive(wait=1)
    invocation = pipeline.invoke(messages, timeout_seconds=30)
    assert invocation.failed == []
    batch_order = [r["messageAttributes"]["channel"]["stringValue"] for r in invocation.records]
    assert batch_order == ["C0BUSY"] * 5
    threads_in_batch = [_thread_of(r["body"]) for r in invocation.records]
    replies = sorted(pipeline.replies(), key=lambda r: r["at"])
    assert [r["args"]["thread_ts"] for r in replies] == threads_in_batch  # the batch's order
    at = [r["at"] for r in replies]
    assert at[3] - at[0] >= 0.9 and at[4] - at[3] >= 0.9  # a burst of 3, then one a second


def _thread_of(body: str) -> str:
    import json

    return str(json.loads(body)["payload"]["event"]["thread_ts"])
