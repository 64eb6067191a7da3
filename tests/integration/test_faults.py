"""Faults: nothing is lost, nothing is doubled, whatever fails (moto server and the Slack stand-in over HTTP)."""

from __future__ import annotations

import time

import pytest

import worker.replies
from tests.support import slack_requests as sr
from tests.support.moto_server import free_port
from tests.support.pipeline import Pipeline
from worker import container


def _channels(pipeline: Pipeline) -> list[str]:
    return sorted(str(r["args"].get("channel")) for r in pipeline.replies())


def test_sqs_unreachable_at_the_ingest_then_slacks_retry_gives_one_reply(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = sr.mention("<@UBOT> ping", channel="C0OUTAGE", event_id="Ev0OUTAGE")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    assert pipeline.post(body)["statusCode"] == 503
    assert time.monotonic() - started < 3.0
    monkeypatch.delenv("AWS_ENDPOINT_URL_SQS")  # SQS is back; Slack retries a minute later
    assert pipeline.post(body, retry_num=1, retry_reason="http_error")["statusCode"] == 200
    pipeline.drain()
    assert _channels(pipeline) == ["C0OUTAGE"]


class LambdaDied(BaseException):
    """What the runtime does to a function that crashes or times out: nothing after it runs."""


def test_the_worker_dying_mid_batch_still_gives_one_reply_per_event(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        pipeline.post(sr.mention("<@UBOT> ping", channel=f"C0CRASH{n}"))
    messages: list[dict] = []
    while len(messages) < 5:
        messages += pipeline.receive()
    real_deliver = worker.replies.deliver
    calls = {"n": 0}

    def deliver_then_die(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # this record was claimed, and the function dies before it answers
            raise LambdaDied
        real_deliver(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(worker.replies, "deliver", deliver_then_die)
    crashed = pipeline.invoke(messages, timeout_seconds=5.0)  # its claims' leases end within 4 s
    assert "crashed" in crashed.result and len(crashed.failed) == 5
    assert len(pipeline.replies()) == 4
    monkeypatch.setattr(worker.replies, "deliver", real_deliver)
    pipeline.drain()
    assert _channels(pipeline) == [f"C0CRASH{n}" for n in range(5)]
    assert pipeline.dead_letters() == []


def test_dynamodb_unreachable_nothing_is_acted_on_then_all_succeed(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        pipeline.post(sr.mention("<@UBOT> ping", channel=f"C0NODB{n}"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{free_port()}")
    container.reset()  # the worker builds its clients once per container: a new one sees the new endpoint
    invocation = pipeline.run_worker()
    assert invocation is not None and len(invocation.failed) == len(invocation.records) > 0
    assert pipeline.replies() == []
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB")
    container.reset()
    pipeline.drain()
    assert _channels(pipeline) == ["C0NODB0", "C0NODB1", "C0NODB2"]


def test_rate_limits_and_flaky_5xx_still_answer_every_event_once(pipeline: Pipeline) -> None:
    pipeline.slack.add_fault(method="chat.postMessage", status=429, retry_after=1, times=4)
    pipeline.slack.fail_every(3, status=500, method="chat.postMessage")
    for n in range(6):
        pipeline.post(sr.mention("<@UBOT> ping", channel=f"C0FLAKY{n}"))
    pipeline.drain()
    assert _channels(pipeline) == [f"C0FLAKY{n}" for n in range(6)]
    statuses = [c["status"] for c in pipeline.slack.calls("chat.postMessage")]
    assert statuses.count(429) == 4 and statuses.count(500) >= 2
    assert pipeline.dead_letters() == []


def test_only_permanent_errors_and_poison_reach_the_dlq(pipeline: Pipeline) -> None:
    pipeline.slack.missing_channels.add("C0GONE")
    pipeline.slack.add_fault(method="chat.postMessage", status=503, times=2)  # transient: retried, not dead
    for channel in ("C0OK1", "C0GONE", "C0OK2"):
        pipeline.post(sr.mention("<@UBOT> ping", channel=channel))
    pipeline.send_raw('{"version": 1, "kind": "event"}')
    pipeline.drain()
    assert _channels(pipeline) == ["C0OK1", "C0OK2"]
    reasons = sorted(m["MessageAttributes"]["reason"]["StringValue"] for m in pipeline.dead_letters())
    assert len(reasons) == 2
    assert (
        reasons[0].startswith("invalid envelope: payload") and reasons[1] == "slack error: channel_not_found"
    )
