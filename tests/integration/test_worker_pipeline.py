"""End to end: signed request → ingest → SQS on moto server → worker → Slack stand-in over HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from shared import envelope as schema
from tests.support import slack_requests as sr
from tests.support.pipeline import Pipeline
from tests.support.request_counter import READS, WRITES, RequestCounter
from worker import container
from worker.state import StateTable

FORM = "application/x-www-form-urlencoded"


def test_a_mention_is_answered_once_in_its_channel_and_thread(pipeline: Pipeline) -> None:
    assert (
        pipeline.post(sr.mention("<@UBOT> ping", channel="C0042", extra={"thread_ts": "1700.0001"}))[
            "statusCode"
        ]
        == 200
    )
    (invocation,) = pipeline.drain()
    assert invocation.failed == []
    (reply,) = pipeline.replies()
    assert reply["method"] == "chat.postMessage"
    assert reply["args"]["channel"] == "C0042" and reply["args"]["thread_ts"] == "1700.0001"
    assert reply["args"]["text"].startswith("pong (Slack → answer ")


def test_a_direct_message_is_answered_in_the_dm(pipeline: Pipeline) -> None:
    pipeline.post(sr.direct_message("help", channel="D0777"))
    pipeline.drain()
    (reply,) = pipeline.replies()
    assert reply["args"]["channel"] == "D0777" and "thread_ts" not in reply["args"]
    assert "`check`" in reply["args"]["text"] and "`ping`" in reply["args"]["text"]


def test_a_slash_command_is_answered_through_its_response_url_ephemeral(pipeline: Pipeline) -> None:
    assert pipeline.command("ping")["statusCode"] == 200
    assert pipeline.command("--public ping")["statusCode"] == 200
    pipeline.drain()
    replies = pipeline.replies()
    assert [r["kind"] for r in replies] == ["response_url", "response_url"]
    assert sorted(r["args"]["response_type"] for r in replies) == ["ephemeral", "in_channel"]
    assert all(r["args"]["text"].startswith("pong") for r in replies)


def test_slack_retries_and_sqs_redelivery_give_one_reply(pipeline: Pipeline) -> None:
    body = sr.mention("<@UBOT> ping", event_id="Ev0RETRY")
    for retry in (None, 1, 2, 3):  # the original and Slack's three retries
        assert pipeline.post(body, retry_num=retry)["statusCode"] == 200
    (first, *_) = pipeline.receive(wait=0, max_messages=1)
    pipeline.send_raw(first["Body"])  # SQS delivering one message twice
    assert pipeline.depth() == 5
    pipeline.drain()
    assert len(pipeline.replies()) == 1


def test_the_same_message_under_a_new_event_id_gives_one_reply(pipeline: Pipeline) -> None:
    ts = "1700000123.000200"
    pipeline.post(sr.mention("<@UBOT> ping", ts=ts, event_id="Ev0FIRST"))
    pipeline.post(sr.mention("<@UBOT> ping", ts=ts, event_id="Ev0SECOND"))
    pipeline.drain()
    assert len(pipeline.replies()) == 1


def test_a_short_rate_limit_is_waited_out_within_the_invocation(pipeline: Pipeline) -> None:
    pipeline.slack.add_fault(method="chat.postMessage", status=429, retry_after=1, times=1)
    pipeline.post(sr.mention("<@UBOT> ping"))
    (invocation,) = pipeline.drain()
    assert invocation.failed == []
    assert [c["status"] for c in pipeline.slack.calls("chat.postMessage")] == [429, 200]
    assert len(pipeline.replies()) == 1


def test_a_rate_limit_longer_than_the_time_left_is_retried_by_sqs(pipeline: Pipeline) -> None:
    pipeline.slack.add_fault(method="chat.postMessage", status=429, retry_after=2, times=1)
    body = sr.mention("<@UBOT> ping", event_id="Ev0LIMITED")
    pipeline.post(body)
    first, *rest = pipeline.drain(timeout_seconds=4.5)  # 2 s of Retry-After do not fit in 3.5 s
    assert len(first.failed) == 1 and rest and rest[-1].failed == []
    assert len(pipeline.replies()) == 1
    item = StateTable(_table(), boto3.client("dynamodb")).get(
        str(schema.dedupe_key("event", json.loads(body)))
    )
    assert item is not None and item["status"] == "done"
    assert "rate limited" in item["last_error"] and item["error_count"] == 1


def test_slack_down_then_back_gives_one_reply_and_nothing_dead(pipeline: Pipeline) -> None:
    pipeline.slack.add_fault(method="chat.postMessage", status=503, times=6)
    pipeline.post(sr.mention("<@UBOT> ping"))
    invocations = pipeline.drain()
    assert len(invocations) >= 2 and invocations[0].failed
    assert len(pipeline.replies()) == 1
    assert pipeline.dead_letters() == []


def test_a_poison_record_next_to_a_good_one(pipeline: Pipeline) -> None:
    pipeline.post(sr.mention("<@UBOT> ping"))
    poison_id = pipeline.send_raw(
        "{this is not an envelope", {"kind": {"DataType": "String", "StringValue": "event"}}
    )
    future_id = pipeline.send_raw(json.dumps({"version": 99, "kind": "event", "payload": {}}))
    (invocation,) = pipeline.drain()
    assert invocation.failed == []
    assert len(pipeline.replies()) == 1
    dead = {m["MessageAttributes"]["source_message_id"]["StringValue"]: m for m in pipeline.dead_letters()}
    assert set(dead) == {poison_id, future_id}
    assert dead[poison_id]["Body"] == "{this is not an envelope"
    assert dead[poison_id]["MessageAttributes"]["reason"]["StringValue"] == "body is not JSON"
    assert dead[poison_id]["MessageAttributes"]["category"]["StringValue"] == "poison"
    assert dead[poison_id]["MessageAttributes"]["kind"]["StringValue"] == "event"
    assert "unknown envelope version 99" in dead[future_id]["MessageAttributes"]["reason"]["StringValue"]
    kept = StateTable(_table(), boto3.client("dynamodb")).get(
        f"sqs:{poison_id}"
    )  # its last error is kept too
    assert kept is not None and kept["last_error"] == "body is not JSON"


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "invalid_auth"])
def test_a_permanent_slack_error_goes_to_the_dlq_with_its_reason(pipeline: Pipeline, error: str) -> None:
    pipeline.slack.add_fault(method="chat.postMessage", status=200, error=error, times=1)
    body = sr.mention("<@UBOT> ping", event_id="Ev0DOOMED", channel="C0GONE")
    pipeline.post(body)
    (invocation,) = pipeline.drain()
    assert invocation.failed == []  # handled: not retried five times
    (dead,) = pipeline.dead_letters()
    attributes = {k: v["StringValue"] for k, v in dead["MessageAttributes"].items()}
    assert attributes["reason"] == f"slack error: {error}"
    assert attributes["category"] == "permanent"
    assert attributes["event_id"] == "Ev0DOOMED" and attributes["channel"] == "C0GONE"
    assert json.loads(dead["Body"])["payload"]["event_id"] == "Ev0DOOMED"
    item = StateTable(_table(), boto3.client("dynamodb")).get(
        str(schema.dedupe_key("event", json.loads(body)))
    )
    assert item is not None and item["status"] == "dead" and item["last_error"] == f"slack error: {error}"


def test_nothing_is_acted_on_without_its_claim(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    table = _table()
    pipeline.post(sr.mention("<@UBOT> ping"))
    monkeypatch.setenv("STATE_TABLE", "no-such-table")  # DynamoDB answers, but not for this table
    container.reset()  # settings are read once per container: a new one reads the new table name
    invocation = pipeline.run_worker()
    assert invocation is not None and len(invocation.failed) == 1
    assert pipeline.replies() == []
    monkeypatch.setenv("STATE_TABLE", table)  # the table is back
    container.reset()
    pipeline.drain()
    assert len(pipeline.replies()) == 1


def test_records_not_started_when_time_runs_short_are_reported_failed(pipeline: Pipeline) -> None:
    for _ in range(3):
        pipeline.post(sr.mention("<@UBOT> ping"))
    invocation = pipeline.run_worker(timeout_seconds=2.0)
    assert invocation is not None and len(invocation.failed) == 3
    assert pipeline.replies() == []
    pipeline.drain()
    assert len(pipeline.replies()) == 3


def test_unhandled_events_are_dropped_not_retried(pipeline: Pipeline) -> None:
    pipeline.post(sr.event_callback({"type": "reaction_added", "user": "U1", "reaction": "+1", "item": {}}))
    (invocation,) = pipeline.drain()
    assert invocation.failed == [] and pipeline.replies() == [] and pipeline.dead_letters() == []


class _Gate:
    """A slow HTTPS-like endpoint that counts how many requests are in flight at once."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.in_flight = 0
        self.most = 0
        self.condition = threading.Condition()

    def enter(self) -> None:
        with self.condition:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.condition.notify_all()
            # hold every request until all are in flight (or 3 s pass): a serial checker never gets there
            self.condition.wait_for(lambda: self.most >= self.expected, timeout=3.0)
            self.in_flight -= 1


@pytest.fixture
def gate() -> Iterator[tuple[_Gate, str]]:
    gate = _Gate(expected=8)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            gate.enter()
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield gate, f"http://127.0.0.1:{server.server_address[1]}/health"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_batch_of_eight_checks_runs_concurrently(pipeline: Pipeline, gate: tuple[_Gate, str]) -> None:
    counter, url = gate
    for _ in range(8):
        pipeline.post(sr.mention(f"<@UBOT> check <{url}>"))
    messages: list[dict[str, Any]] = []
    while len(messages) < 8:
        messages += pipeline.receive(wait=1)
    invocation = pipeline.invoke(messages)
    assert invocation.failed == []
    assert counter.most == 8  # all eight were in flight at once
    replies = pipeline.replies()
    assert len(replies) == 8
    assert all(
        ":large_green_circle:" in r["args"]["text"] and "HTTP 200" in r["args"]["text"] for r in replies
    )


def test_check_replies_with_blocks_and_a_recheck_button_that_updates_the_message(
    pipeline: Pipeline, gate: tuple[_Gate, str]
) -> None:
    counter, url = gate
    counter.expected = 1
    pipeline.post(sr.mention(f"<@UBOT> check <{url}|health> <http://169.254.169.254/latest/meta-data/>"))
    pipeline.drain()
    (reply,) = pipeline.replies()
    blocks = reply["args"]["blocks"]
    assert ":no_entry:" in reply["args"]["text"] and "link-local" in reply["args"]["text"]
    button = blocks[-1]["elements"][0]
    assert button["action_id"] == "check:recheck"
    posted_ts, channel = (
        reply["response"]["ts"] if "response" in reply else "1700000000.000100",
        reply["args"]["channel"],
    )
    click = sr.block_action(
        "check:recheck",
        button["value"],
        container={"type": "message", "message_ts": posted_ts, "channel_id": channel},
        message={"type": "message", "ts": posted_ts, "text": reply["args"]["text"]},
    )
    pipeline.post(sr.interaction(click), FORM)
    pipeline.drain()
    update = pipeline.slack.calls("chat.update")
    assert len(update) == 1 and update[0]["ok"]
    assert update[0]["args"]["ts"] == posted_ts and update[0]["args"]["channel"] == channel
    assert "HTTP 200" in update[0]["args"]["text"]


def test_a_bot_token_from_secrets_manager_is_read_once(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = boto3.client("secretsmanager").create_secret(
        Name=f"bot-token-{pipeline.queue_url[-20:]}", SecretString="xoxb-from-secrets"
    )["ARN"]
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    monkeypatch.setenv("SLACK_BOT_TOKEN_ARN", arn)
    pipeline.post(sr.mention("<@UBOT> ping"))
    pipeline.drain()
    (reply,) = pipeline.replies()
    assert reply["ok"]


def test_a_bot_token_secrets_manager_cannot_give_fails_the_batch_until_it_can(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The container's settings are built again on the next invocation when building them failed."""
    name = f"bot-token-later-{pipeline.queue_url[-20:]}"
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    monkeypatch.setenv("SLACK_BOT_TOKEN_ARN", name)  # GetSecretValue takes a name too; none exists yet
    pipeline.post(sr.mention("<@UBOT> ping"))
    invocation = pipeline.run_worker()
    assert invocation is not None and len(invocation.failed) == len(invocation.records) == 1
    assert pipeline.replies() == []
    boto3.client("secretsmanager").create_secret(Name=name, SecretString="xoxb-from-secrets")
    pipeline.drain()  # the same container: nothing was kept from the failed build
    (reply,) = pipeline.replies()
    assert reply["ok"]


def _table() -> str:
    import os

    return os.environ["STATE_TABLE"]


def test_envelope_attributes_survive_dead_lettering() -> None:
    original = {
        name: {"DataType": "String", "StringValue": name}
        for name in ("kind", "event_id", "team", "channel", "user", "type", "version", "retry_num")
    }
    attributes = schema.dead_letter_attributes(original, "why", "permanent", "m-1")
    assert len(attributes) <= 10
    assert (
        attributes["reason"]["StringValue"] == "why" and attributes["event_id"]["StringValue"] == "event_id"
    )


def test_an_event_without_an_event_id_is_still_answered_once(pipeline: Pipeline) -> None:
    payload = json.loads(sr.mention("<@UBOT> ping", channel="C0NOID", ts="1700000999.000100"))
    del payload["event_id"]
    body = json.dumps(payload).encode()
    assert pipeline.post(body)["statusCode"] == 200
    assert pipeline.post(body, retry_num=1)["statusCode"] == 200
    pipeline.drain()
    assert [r["args"]["channel"] for r in pipeline.replies()] == ["C0NOID"]


@pytest.fixture
def dynamodb_requests(moto_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[RequestCounter]:
    """Every DynamoDB request the worker makes passes a counter on its way to moto."""
    counter = RequestCounter(moto_server.url).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", counter.url)
    try:
        yield counter
    finally:
        counter.stop()


def test_an_answered_event_costs_two_writes_and_no_read(
    pipeline: Pipeline, dynamodb_requests: RequestCounter
) -> None:
    pipeline.post(sr.mention("<@UBOT> ping", event_id="Ev0COUNT1"))
    pipeline.command("ping")
    (invocation,) = pipeline.drain()
    assert invocation.failed == [] and len(pipeline.replies()) == 2
    assert dynamodb_requests.total(WRITES) <= 2 * 2
    assert dynamodb_requests.total(READS) == 0


def test_a_duplicate_costs_one_write_and_no_read(
    pipeline: Pipeline, dynamodb_requests: RequestCounter
) -> None:
    body = sr.mention("<@UBOT> ping", event_id="Ev0COUNT2")
    pipeline.post(body)
    pipeline.drain()
    dynamodb_requests.reset()
    pipeline.post(body, retry_num=1)  # Slack's retry of the same message
    (invocation,) = pipeline.drain()
    assert invocation.failed == [] and len(pipeline.replies()) == 1
    assert dynamodb_requests.total(WRITES) == 1
    assert dynamodb_requests.total(READS) == 0
