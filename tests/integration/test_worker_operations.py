"""Operations in the worker: alarms posted to the ops channel, the `dlq` skill, metrics and correlation ids."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from tests.support import slack_requests as sr
from tests.support.pipeline import Pipeline

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


@pytest.fixture
def alarm_topic(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> str:
    """The alarm topic with the work queue subscribed, as the template wires them."""
    monkeypatch.setenv("OPS_CHANNEL", "C0OPS")
    sns = boto3.client("sns")
    topic = sns.create_topic(Name=f"alarms-{pipeline.queue_url.rsplit('/', 1)[1]}")["TopicArn"]
    queue_arn = pipeline.sqs.get_queue_attributes(QueueUrl=pipeline.queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return str(topic)


def test_an_alarm_published_to_sns_is_posted_in_the_ops_channel_once(
    pipeline: Pipeline, alarm_topic: str
) -> None:
    sns = boto3.client("sns")
    sns.publish(TopicArn=alarm_topic, Subject="ALARM: slackbot-dead-letters", Message=json.dumps(ALARM))
    (message,) = pipeline.receive(wait=2)
    assert json.loads(message["Body"])["Type"] == "Notification"  # SNS's envelope, the alarm inside
    pipeline.send_raw(message["Body"])  # delivered twice
    pipeline.invoke([message])
    pipeline.drain()
    (post,) = pipeline.replies()
    text = post["args"]["text"]
    assert post["args"]["channel"] == "C0OPS"
    assert "ALARM" in text and "slackbot-dead-letters" in text and "(was OK)" in text
    assert "since 2026-11-27T18:00:00" in text and "Threshold Crossed" in text
    assert "dead-letter queue: 0 waiting" in text and "work queue:" in text
    assert "slackbot dlq list" in text


def test_without_an_ops_channel_alarms_are_dropped_not_retried(
    pipeline: Pipeline, alarm_topic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPS_CHANNEL")
    boto3.client("sns").publish(TopicArn=alarm_topic, Message=json.dumps(ALARM))
    (invocation,) = pipeline.drain()
    assert invocation.failed == [] and pipeline.replies() == []


def test_the_dlq_skill_reports_depth_and_reasons(pipeline: Pipeline) -> None:
    pipeline.slack.add_fault(method="chat.postMessage", status=200, error="not_in_channel", times=2)
    pipeline.post(sr.mention("<@UBOT> ping", channel="C0KICKED"))
    pipeline.post(sr.mention("<@UBOT> ping", channel="C0KICKED"))
    pipeline.send_raw("garbage")
    pipeline.drain()
    assert pipeline.replies() == []
    pipeline.post(sr.direct_message("dlq"))
    pipeline.drain()
    (reply,) = pipeline.replies()
    text = reply["args"]["text"]
    assert "3 dead letters" in text
    assert "2 × slack error: not_in_channel" in text and "1 × body is not JSON" in text
    assert len(pipeline.dead_letters()) == 3  # reading them did not remove them


def test_the_dlq_skill_says_when_all_is_well(pipeline: Pipeline) -> None:
    pipeline.post(sr.direct_message("dlq"))
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
