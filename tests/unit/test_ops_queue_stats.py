"""``queue stats`` reads the oldest age from CloudWatch when it has a datapoint (moto has none: Stubber)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

import ops.aws
from ops import queue

URL = "https://sqs.us-east-1.amazonaws.com/123456789012/slackbot-work"


@pytest.fixture
def cloudwatch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url="https://monitoring.example")
    monkeypatch.setattr(ops.aws, "client", lambda service, **kw: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def _expected(queue_name: str) -> dict[str, Any]:
    return {
        "Namespace": "AWS/SQS",
        "MetricName": "ApproximateAgeOfOldestMessage",
        "Dimensions": [{"Name": "QueueName", "Value": queue_name}],
        "StartTime": ANY,
        "EndTime": ANY,
        "Period": 60,
        "Statistics": ["Maximum"],
    }


def test_the_newest_datapoint_is_the_age(cloudwatch: Stubber) -> None:
    now = datetime.datetime.now(datetime.UTC)
    points = [
        {"Timestamp": now - datetime.timedelta(minutes=1), "Maximum": 95.0},
        {"Timestamp": now - datetime.timedelta(minutes=3), "Maximum": 30.0},
    ]
    cloudwatch.add_response("get_metric_statistics", {"Datapoints": points}, _expected("slackbot-work"))
    assert queue.oldest_age_from_cloudwatch(URL) == 95


@pytest.mark.parametrize("failure", ["none", "AccessDenied"])
def test_no_datapoint_or_no_permission_is_unknown(cloudwatch: Stubber, failure: str) -> None:
    if failure == "none":
        cloudwatch.add_response("get_metric_statistics", {"Datapoints": []}, _expected("slackbot-work"))
    else:
        cloudwatch.add_client_error("get_metric_statistics", service_error_code=failure, http_status_code=403)
    assert queue.oldest_age_from_cloudwatch(URL) is None
