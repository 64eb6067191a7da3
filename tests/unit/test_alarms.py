"""The alarm function's pieces on their own: reading SNS's record, rendering, the repeat window, the trigger's event."""

from __future__ import annotations

import json

import pytest

from sandbox.sns_trigger import lambda_sns_event
from worker import alarm_messages, alarms
from worker.alarm_messages import Message

TOPIC = "arn:aws:sns:us-east-2:123456789012:slackbot-alarms"
ALARM = {
    "AlarmName": "slackbot-dead-letters",
    "NewStateValue": "ALARM",
    "OldStateValue": "OK",
    "NewStateReason": "Threshold Crossed",
    "StateChangeTime": "2026-11-27T18:00:00.000+0000",
    "Trigger": {
        "MetricName": "ApproximateNumberOfMessagesVisible",
        "Dimensions": [{"name": "QueueName", "value": "q"}],
    },
}
# What Lambda hands a function subscribed to a topic: the keys of AWS's documented SNS event.
LAMBDA_RECORD_KEYS = {"EventVersion", "EventSubscriptionArn", "EventSource", "Sns"}
LAMBDA_SNS_KEYS = {
    "SignatureVersion",
    "Timestamp",
    "Signature",
    "SigningCertUrl",
    "MessageId",
    "Message",
    "MessageAttributes",
    "Type",
    "UnsubscribeUrl",
    "TopicArn",
    "Subject",
}


def sns(message: str, subject: str | None = "ALARM: x") -> dict[str, object]:
    return {
        "SignatureVersion": "1",
        "Timestamp": "2026-11-27T18:00:01.000Z",
        "Signature": "c2ln",
        "SigningCertUrl": "https://sns.us-east-2.amazonaws.com/cert.pem",
        "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        "Message": message,
        "MessageAttributes": {},
        "Type": "Notification",
        "UnsubscribeUrl": "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe",
        "TopicArn": TOPIC,
        "Subject": subject,
    }


def test_a_lambda_sns_record_carrying_an_alarm_is_read() -> None:
    alarm = alarms.from_notification(sns(json.dumps(ALARM)))
    assert alarm is not None
    assert (alarm.name, alarm.state, alarm.previous_state) == ("slackbot-dead-letters", "ALARM", "OK")
    assert alarm.notification_id == "95df01b4-ee98-5cb9-9903-4c221d41eb5e" and alarm.topic_arn == TOPIC
    assert alarm.queue == "q" and alarm.since == "2026-11-27T18:00:00.000+0000"
    assert alarms.refusal(alarm, TOPIC) is None
    assert "another topic" in str(alarms.refusal(alarm, TOPIC + "-not"))


def test_a_notification_that_is_not_an_alarm_is_shown_as_it_is() -> None:
    alarm = alarms.from_notification(sns("Hello from SNS!", subject="TestInvoke"))
    assert alarm is not None and alarm.name == "SNS notification" and alarm.reason == "TestInvoke"
    assert alarms.from_notification({"Records": []}) is None and alarms.from_notification("x") is None


def test_the_trigger_builds_the_event_lambda_gives_an_sns_subscriber() -> None:
    posted = {  # what SNS POSTs to an http subscription
        "Type": "Notification",
        "MessageId": "m-1",
        "TopicArn": TOPIC,
        "Message": "{}",
        "Timestamp": "2026-11-27T18:00:01.000Z",
        "SignatureVersion": "2",
        "Signature": "c2ln",
        "SigningCertURL": "https://sns.example/cert.pem",
        "UnsubscribeURL": "https://sns.example/?Action=Unsubscribe",
    }
    (record,) = lambda_sns_event(posted)["Records"]
    assert set(record) == LAMBDA_RECORD_KEYS and record["EventSource"] == "aws:sns"
    assert set(record["Sns"]) == LAMBDA_SNS_KEYS
    assert record["Sns"]["SigningCertUrl"] == posted["SigningCertURL"] and record["Sns"]["Subject"] is None


@pytest.mark.parametrize(
    ("message", "channel", "seconds_later", "merged"),
    [
        (Message(channel="C1", ts="1.1", posted_at=1000.0, count=1), "C1", 10, True),
        (Message(channel="C1", ts="1.1", posted_at=1000.0, count=1), "C1", 299, True),
        (Message(channel="C1", ts="1.1", posted_at=1000.0, count=1), "C1", 300, False),
        (Message(channel="C1", ts="1.1", posted_at=1000.0, count=1), "C2", 10, False),  # OPS_CHANNEL changed
        (Message(), "C1", 10, False),  # never posted
    ],
)
def test_a_repeat_is_merged_only_within_the_window_in_the_same_channel(
    message: Message, channel: str, seconds_later: float, merged: bool
) -> None:
    assert alarm_messages.REPEAT_WINDOW_SECONDS == 300
    assert message.takes_repeat(channel, message.posted_at + seconds_later) is merged


def test_the_alert_says_how_often_it_repeated_and_which_depth_is_unknown() -> None:
    alarm = alarms.from_notification(sns(json.dumps(ALARM)))
    assert alarm is not None
    once = alarms.render(alarm, {}, repeats=alarms.Repeats(2, "18:00", "18:01")).text
    assert ":repeat: repeated 1 time since 18:00, last at 18:01" in once
    thrice = alarms.render(alarm, {}, repeats=alarms.Repeats(4, "18:00", "<!here>")).text
    assert "repeated 3 times since 18:00, last at &lt;!here&gt;" in thrice
    first = alarms.render(
        alarm, {"dead-letter queue": {"visible": 2, "in_flight": 0}}, unreadable={"work queue": "<x>"}
    )
    assert "repeated" not in first.text and "dead-letter queue: 2 waiting, 0 in flight" in first.text
    assert "work queue: depth unknown (&lt;x&gt;)" in first.text
