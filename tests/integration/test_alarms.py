"""Alarms on their own path: the alarm topic (SNS, moto) → the alarm function → the ops channel (Slack stand-in).

Each test runs with the worker's work queue **deleted**: an alarm about a stuck queue must not wait
behind that queue. SNS (moto) pushes each notification to ``sandbox.sns_trigger.SnsTrigger``, which
calls ``worker.alarm_handler.lambda_handler`` with the event Lambda gives a function subscribed to a
topic; ``Publish`` returns once the handler has run.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from sandbox.slack_standin import SlackStandIn
from sandbox.sns_trigger import Invocation, SnsTrigger
from tests.conftest import Aws
from worker import alarm_handler, alarm_messages

OPS = "C0OPS"
ALARM = {
    "AlarmName": "slackbot-queue-age",
    "AlarmDescription": "The oldest work-queue message waits more than 5 minutes.",
    "AWSAccountId": "123456789012",
    "NewStateValue": "ALARM",
    "NewStateReason": "Threshold Crossed: 3 datapoints were greater than the threshold (300.0).",
    "StateChangeTime": "2026-11-27T18:00:00.000+0000",
    "Region": "US East (N. Virginia)",
    "OldStateValue": "OK",
    "Trigger": {
        "MetricName": "ApproximateAgeOfOldestMessage",
        "Namespace": "AWS/SQS",
        "Dimensions": [{"name": "QueueName", "value": "slackbot-work"}],
        "Threshold": 300.0,
    },
}


@dataclass
class AlarmPath:
    sns: Any
    topic: str
    trigger: SnsTrigger
    slack: SlackStandIn
    aws: Aws

    def publish(
        self, alarm: dict[str, Any] | None = None, topic: str | None = None, **changes: str
    ) -> Invocation:
        """CloudWatch publishes one notification; returns the alarm function's invocation for it."""
        before = len(self.trigger.invocations)
        self.sns.publish(
            TopicArn=topic or self.topic,
            Subject="ALARM: slackbot-queue-age",
            Message=json.dumps({**(alarm or ALARM), **changes}),
        )
        (invocation,) = self.trigger.invocations[before:]
        return invocation

    def posts(self) -> list[dict[str, Any]]:
        return self.slack.calls("chat.postMessage")

    def updates(self) -> list[dict[str, Any]]:
        return self.slack.calls("chat.update")


@pytest.fixture
def alarm_path(aws: Aws, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch) -> Iterator[AlarmPath]:
    """The template's wiring in moto, the alarm function behind SNS, and the work queue gone."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    monkeypatch.setenv("OPS_CHANNEL", OPS)
    sns = boto3.client("sns")
    topic = sns.create_topic(Name=f"{aws.resources.table}-alarms")["TopicArn"]
    monkeypatch.setenv("ALARM_TOPIC_ARN", topic)  # the template sets it to the stack's own topic
    aws.sqs.delete_queue(QueueUrl=aws.resources.queue_url)  # nothing may depend on the work queue
    with SnsTrigger(alarm_handler.lambda_handler) as trigger:
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=trigger.endpoint)
        yield AlarmPath(sns, topic, trigger, slack, aws)


def test_an_alarm_reaches_the_ops_channel_with_the_work_queue_deleted(alarm_path: AlarmPath) -> None:
    with pytest.raises(ClientError, match="NonExistentQueue"):
        alarm_path.aws.sqs.get_queue_attributes(QueueUrl=alarm_path.aws.resources.queue_url)
    invocation = alarm_path.publish()
    assert invocation.error is None and invocation.result == {"outcomes": ["posted"]}
    record = invocation.event["Records"][0]
    assert record["EventSource"] == "aws:sns" and record["Sns"]["TopicArn"] == alarm_path.topic
    (post,) = alarm_path.posts()
    text = post["args"]["text"]
    assert post["args"]["channel"] == OPS
    assert "*ALARM*: slackbot-queue-age (was OK)" in text
    assert "since 2026-11-27T18:00:00" in text and "Threshold Crossed" in text
    assert "dead-letter queue: 0 waiting, 0 in flight" in text
    assert "work queue: depth unknown (AWS.SimpleQueueService.NonExistentQueue)" in text
    assert "slackbot dlq list" in text
    assert post["args"]["blocks"][0]["text"]["text"] == text


def test_a_repeat_within_the_window_updates_the_same_message(alarm_path: AlarmPath) -> None:
    alarm_path.publish()
    ok = alarm_path.publish(
        NewStateValue="OK", OldStateValue="ALARM", StateChangeTime="2026-11-27T18:01:00.000+0000"
    )
    again = alarm_path.publish(StateChangeTime="2026-11-27T18:02:00.000+0000")
    assert ok.result == {"outcomes": ["updated"]} and again.result == {"outcomes": ["updated"]}
    (post,) = alarm_path.posts()
    first, second = alarm_path.updates()
    ts = post["response"]["ts"]
    assert first["args"]["ts"] == ts and second["args"]["ts"] == ts and second["response"]["ts"] == ts
    assert "*OK*: slackbot-queue-age (was ALARM)" in first["args"]["text"]
    assert (
        "repeated 1 time since 2026-11-27T18:00:00.000+0000, last at 2026-11-27T18:01:00"
        in first["args"]["text"]
    )
    text = second["args"]["text"]
    assert "*ALARM*: slackbot-queue-age" in text
    assert "repeated 2 times since 2026-11-27T18:00:00.000+0000, last at 2026-11-27T18:02:00" in text
    item = alarm_path.aws.dynamodb.get_item(
        TableName=alarm_path.aws.resources.table, Key={"id": {"S": "alarm:slackbot-queue-age"}}
    )["Item"]
    assert item["ts"]["S"] == ts and item["count"]["N"].startswith("3") and "lease_owner" not in item
    assert float(item["expiration"]["N"]) > float(item["posted_at"]["N"])  # cleaned up by TTL


def test_a_repeat_after_the_window_posts_a_new_message(
    alarm_path: AlarmPath, monkeypatch: pytest.MonkeyPatch
) -> None:
    alarm_path.publish()
    monkeypatch.setattr(alarm_messages, "REPEAT_WINDOW_SECONDS", 0.0)  # the window has passed
    later = alarm_path.publish(StateChangeTime="2026-11-27T18:30:00.000+0000")
    assert later.result == {"outcomes": ["posted"]}
    first, second = alarm_path.posts()
    assert first["response"]["ts"] != second["response"]["ts"] and alarm_path.updates() == []
    assert "repeated" not in second["args"]["text"]


def test_other_alarms_get_messages_of_their_own(alarm_path: AlarmPath) -> None:
    alarm_path.publish()
    alarm_path.publish(AlarmName="slackbot-dead-letters")
    assert len(alarm_path.posts()) == 2 and alarm_path.updates() == []


def test_the_same_notification_delivered_twice_is_posted_once(alarm_path: AlarmPath) -> None:
    first = alarm_path.publish()
    again = alarm_path.trigger.redeliver(first)  # SNS delivers at least once: the same MessageId
    assert again.error is None and again.result == {"outcomes": ["duplicate"]}
    assert len(alarm_path.posts()) == 1 and alarm_path.updates() == []


def test_the_same_notification_delivered_twice_at_once_is_posted_once(alarm_path: AlarmPath) -> None:
    """Both deliveries race for the one conditional write: whichever order, one posts."""
    event = alarm_path.publish().event
    alarm_path.slack.reset()
    record = event["Records"][0]
    fresh = {"Records": [{**record, "Sns": {**record["Sns"], "MessageId": "race-1"}}]}
    start = threading.Barrier(2)
    results: list[Invocation] = []

    def deliver() -> None:
        start.wait()
        results.append(alarm_path.trigger.invoke(fresh))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.result["outcomes"][0] for r in results) == ["duplicate", "updated"]
    assert len(alarm_path.updates()) == 1 and alarm_path.posts() == []


def test_a_notification_waits_while_another_of_the_same_alarm_is_being_posted(alarm_path: AlarmPath) -> None:
    """Another invocation holds the alarm's lease (it is posting, or died doing so): this one waits for it."""
    held = alarm_messages.AlarmMessages(alarm_path.aws.resources.table, alarm_path.aws.dynamodb).claim(
        "slackbot-queue-age", "another-notification", lease_seconds=1.0
    )
    assert held.won
    invocation = alarm_path.publish()  # its lease runs out after 1 s, never settled: this one takes over
    assert invocation.error is None and invocation.result == {"outcomes": ["posted"]}
    assert len(alarm_path.posts()) == 1


def test_a_notification_from_another_topic_is_not_posted(
    alarm_path: AlarmPath, capsys: pytest.CaptureFixture[str]
) -> None:
    other = alarm_path.sns.create_topic(Name=f"{alarm_path.aws.resources.table}-not-ours")["TopicArn"]
    alarm_path.sns.subscribe(TopicArn=other, Protocol="http", Endpoint=alarm_path.trigger.endpoint)
    capsys.readouterr()
    forged = alarm_path.publish(topic=other, AlarmDescription="<!channel> log in again")
    assert forged.error is None and forged.result == {"outcomes": ["ignored"]}
    assert alarm_path.posts() == [] and alarm_path.updates() == []
    (line,) = [line for line in _json_lines(capsys.readouterr().out) if line.get("message") == "alarm"]
    assert line["outcome"] == "ignored" and other in line["reason"]


def test_without_alarm_topic_arn_no_notification_is_trusted(
    alarm_path: AlarmPath, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ALARM_TOPIC_ARN")
    assert alarm_path.publish().result == {"outcomes": ["ignored"]}
    assert alarm_path.slack.calls() == []


def test_without_an_ops_channel_alarms_are_dropped_not_retried(
    alarm_path: AlarmPath, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPS_CHANNEL")
    invocation = alarm_path.publish()
    assert invocation.error is None and invocation.result == {"outcomes": ["ignored"]}
    assert alarm_path.slack.calls() == []


def test_an_alarms_own_text_is_escaped(alarm_path: AlarmPath) -> None:
    alarm_path.publish(
        AlarmName="dead <https://evil.example/login|Slack: session expired>",
        AlarmDescription="<!channel> look & see <@U0BOSS>",
        NewStateReason="Threshold <!here> crossed",
    )
    (post,) = alarm_path.posts()
    text = post["args"]["text"]
    assert "&lt;!channel&gt; look &amp; see &lt;@U0BOSS&gt;" in text
    assert "dead &lt;https://evil.example/login|Slack: session expired&gt;" in text
    assert "Threshold &lt;!here&gt; crossed" in text
    assert "<!" not in text and "<@" not in text and "<http" not in text
    assert post["args"]["blocks"][0]["text"]["text"] == text


def test_a_long_alarm_still_fits_in_a_section(alarm_path: AlarmPath) -> None:
    alarm_path.publish(AlarmDescription="&" * 1024, NewStateReason="<" * 1023)
    (post,) = alarm_path.posts()
    assert post["ok"] and len(post["args"]["blocks"][0]["text"]["text"]) <= 3000
    assert post["args"]["text"].count("&amp;") == 1024  # the fallback text keeps everything


def test_when_slack_fails_the_invocation_fails_and_lambdas_retry_posts_once(alarm_path: AlarmPath) -> None:
    alarm_path.slack.add_fault(method="chat.postMessage", status=500, times=10)
    failed = alarm_path.publish()
    assert isinstance(failed.error, alarm_handler.AlarmNotPosted)  # Lambda retries it, then dead-letters it
    assert alarm_path.posts() and not any(call["ok"] for call in alarm_path.posts())
    alarm_path.slack.clear_faults()
    retried = alarm_path.trigger.redeliver(failed)  # the lease was given back: the retry may post
    assert retried.error is None and retried.result == {"outcomes": ["posted"]}
    assert [call["ok"] for call in alarm_path.posts()].count(True) == 1


def test_a_deleted_alarm_message_is_posted_anew(alarm_path: AlarmPath) -> None:
    alarm_path.publish()
    alarm_path.slack.add_fault(method="chat.update", status=200, error="message_not_found")
    again = alarm_path.publish(StateChangeTime="2026-11-27T18:01:00.000+0000")
    assert again.result == {"outcomes": ["posted"]}
    first, second = alarm_path.posts()
    assert first["response"]["ts"] != second["response"]["ts"]


def test_without_its_bot_token_the_invocation_fails_and_lambda_retries_it(
    alarm_path: AlarmPath, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    monkeypatch.setenv("SLACK_BOT_TOKEN_ARN", "no-such-secret")  # Secrets Manager cannot give it
    failed = alarm_path.publish()
    assert isinstance(failed.error, alarm_handler.AlarmNotPosted)
    assert "ResourceNotFoundException" in str(failed.error)
    assert alarm_path.posts() == []


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
