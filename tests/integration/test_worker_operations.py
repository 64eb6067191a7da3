"""Operations in the worker: no alarm path of its own any more, the `dlq` skill, metrics and correlation ids."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from tests.support import slack_requests as sr
from tests.support.pipeline import Pipeline
from worker import deadletters

ALARM = {
    "AlarmName": "slackbot-dead-letters",
    "AlarmDescription": "Events are dying: see docs/runbook.md",
    "AWSAccountId": "123456789012",
    "NewStateValue": "ALARM",
    "NewStateReason": "Threshold Crossed: 1 datapoint [3.0] was greater than the threshold (0.0).",
    "StateChangeTime": "2026-11-27T18:00:00.000+0000",
    "Region": "US East (N. Virginia)",
    "OldStateValue": "OK",
    "Trigger": {
        "MetricName": "ApproximateNumberOfMessagesVisible",
        "Namespace": "AWS/SQS",
        "Dimensions": [{"name": "QueueName", "value": "slackbot-dlq"}],
        "Threshold": 0.0,
    },
}


@pytest.fixture(autouse=True)
def no_ops_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets what it needs; none inherits the developer's shell."""
    for name in ("OPS_CHANNEL", "OPS_USERS", "ALARM_TOPIC_ARN"):
        monkeypatch.delenv(name, raising=False)


def test_the_worker_posts_no_alarm_and_names_an_old_one_in_the_dlq(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alarms go through the alarm function (tests/integration/test_alarms.py), never the work queue.

    A notification left on the work queue from when the queue was subscribed to the alarm topic is
    not posted by the worker: it is unreadable as an envelope, dead-lettered, and named as an alarm.
    """
    monkeypatch.setenv("OPS_CHANNEL", "C0OPS")
    sns = boto3.client("sns")
    topic = sns.create_topic(Name=f"alarms-{pipeline.queue_url.rsplit('/', 1)[1]}")["TopicArn"]
    monkeypatch.setenv("ALARM_TOPIC_ARN", topic)
    queue_arn = pipeline.sqs.get_queue_attributes(QueueUrl=pipeline.queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)  # the old wiring
    sns.publish(TopicArn=topic, Message=json.dumps(ALARM))
    (invocation,) = pipeline.drain()
    assert invocation.failed == [] and pipeline.replies() == []
    (letter,) = deadletters.scan(pipeline.sqs, pipeline.dlq_url)
    assert letter.category == "alarm"
    assert (
        letter.reason == "alarm slackbot-dead-letters ALARM was never posted (it came through the work queue)"
    )


def _kill_three(pipeline: Pipeline) -> None:
    pipeline.slack.add_fault(method="chat.postMessage", status=200, error="not_in_channel", times=2)
    pipeline.post(sr.mention("<@UBOT> ping", channel="C0KICKED"))
    pipeline.post(sr.mention("<@UBOT> ping", channel="C0KICKED"))
    pipeline.send_raw("garbage")
    pipeline.drain()
    assert pipeline.replies() == []


def test_the_dlq_skill_reports_depth_and_reasons_in_the_ops_channel(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPS_CHANNEL", "C0OPS")
    _kill_three(pipeline)
    pipeline.post(sr.mention("<@UBOT> dlq", channel="C0OPS"))
    pipeline.drain()
    (reply,) = pipeline.replies()
    assert reply["args"]["channel"] == "C0OPS"
    text = reply["args"]["text"]
    assert "3 dead letters" in text
    assert "2 × slack error: not_in_channel" in text and "1 × body is not JSON" in text
    assert len(pipeline.dead_letters()) == 3  # reading them did not remove them


def test_the_dlq_skill_advises_per_category_as_the_runbook_does(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPS_CHANNEL", "C0OPS")
    _kill_three(pipeline)
    pipeline.post(sr.mention("<@UBOT> dlq", channel="C0OPS"))
    pipeline.drain()
    (text,) = pipeline.reply_texts()
    advice = {
        line.split(" (", 1)[0]: line
        for line in text.splitlines()
        if line.startswith("• ") and "×" not in line
    }
    assert set(advice) == {"• permanent", "• poison"}
    # Poison can never be read: redriving it only kills it again (runbook 3e).
    assert "`slackbot dlq drop ID`" in advice["• poison"] and "redrive" not in advice["• poison"]
    assert advice["• poison"].startswith("• poison (1): ")
    assert "fix the cause" in advice["• permanent"] and "`slackbot dlq redrive ID`" in advice["• permanent"]
    assert advice["• permanent"].startswith("• permanent (2): ")


@pytest.mark.parametrize(
    "ask",
    [
        sr.mention("<@UBOT> dlq", channel="C0GENERAL"),
        sr.direct_message("dlq"),
    ],
    ids=["another channel", "a direct message"],
)
def test_the_dlq_skill_shows_no_reason_outside_the_ops_channel(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, ask: bytes
) -> None:
    monkeypatch.setenv("OPS_CHANNEL", "C0OPS")
    _kill_three(pipeline)
    pipeline.post(ask)
    pipeline.drain()
    (reply,) = pipeline.reply_texts()
    assert reply == "`dlq` answers only in the ops channel <#C0OPS>."


def test_the_dlq_skill_by_slash_command_answers_in_the_ops_channel_only(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPS_CHANNEL", "C0001")  # the channel sr.slash_command comes from
    pipeline.command("dlq")
    pipeline.drain()
    monkeypatch.setenv("OPS_CHANNEL", "C0OPS")
    pipeline.command("dlq")
    pipeline.drain()
    in_ops, elsewhere = pipeline.reply_texts()
    assert "empty" in in_ops
    assert elsewhere == "`dlq` answers only in the ops channel <#C0OPS>."


def test_the_dlq_skill_answers_the_ops_users_anywhere(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPS_CHANNEL", "C0OPS")
    monkeypatch.setenv("OPS_USERS", "U0SRE, U0HUMAN")
    _kill_three(pipeline)
    pipeline.post(sr.direct_message("dlq"))  # from U0HUMAN
    pipeline.drain()
    (reply,) = pipeline.reply_texts()
    assert "3 dead letters" in reply


def test_without_an_ops_channel_the_dlq_skill_says_so(pipeline: Pipeline) -> None:
    pipeline.post(sr.direct_message("dlq"))
    pipeline.drain()
    (reply,) = pipeline.reply_texts()
    assert reply == "`dlq` answers only in the ops channel, and none is configured (OPS_CHANNEL)."


def test_the_dlq_skill_says_when_all_is_well(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPS_CHANNEL", "C0OPS")
    pipeline.post(sr.mention("<@UBOT> dlq", channel="C0OPS"))
    pipeline.drain()
    assert "empty" in pipeline.reply_texts()[0]


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_metrics_and_correlation_ids_from_ingest_to_worker(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    capsys.readouterr()
    ts = f"{time.time():.6f}"
    body = sr.mention("<@UBOT> ping", event_id="Ev0METRICS", channel="C0METRICS", ts=ts)
    pipeline.post(body)
    pipeline.post(body, retry_num=1)  # a duplicate
    pipeline.post(sr.mention("<@UBOT> ping"), secret="wrong-secret-1234567")
    pipeline.drain()
    lines = _json_lines(capsys.readouterr().out)
    ingest = [line for line in lines if line.get("logger") == "slackbot.ingest"]
    assert [line.get("Acked") for line in ingest[:2]] == [1, 1]
    assert ingest[2]["Rejected"] == 1 and ingest[2]["reason"] == "rejected_signature_mismatch"
    assert ingest[2]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "function", "reason"]]
    # The message's own id, the same in every delivery of it and in the worker's lines.
    correlation_id = f"message:T0001:C0METRICS:{ts}"
    assert ingest[0]["correlation_id"] == correlation_id
    records = [line for line in lines if line.get("message") == "record"]
    assert {r["correlation_id"] for r in records} == {correlation_id}
    assert sorted(r["outcome"] for r in records) == ["answered", "duplicate"]
    emf = [line for line in lines if "_aws" in line and line.get("function") == "worker"]
    totals = {
        name: sum(sum(_as_list(line.get(name))) for line in emf)
        for name in ("Processed", "Answered", "Deduplicated", "Failed", "DeadLettered")
    }
    assert totals == {"Processed": 2, "Answered": 1, "Deduplicated": 1, "Failed": 0, "DeadLettered": 0}
    latencies = [value for line in emf for value in _as_list(line.get("AnswerLatency"))]
    assert len(latencies) == 1 and 0 <= latencies[0] < 60_000
    assert emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "SlackbotPipeline"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
