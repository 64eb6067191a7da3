"""The App Home tab through the real handlers: ingest → SQS (moto server) → worker → Slack stand-in.

Opening the Home tab publishes a view for that person: every skill with its help line and the ways to
reach it, and the pipeline's health in numbers only (queue depths from SQS, the oldest message's age
from CloudWatch when the worker may read it). Never a dead letter's content.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from shared import envelope as schema
from tests.support import slack_requests as sr
from tests.support.moto_server import MotoServer, free_port
from tests.support.pipeline import Pipeline
from worker.mrkdwn import escape
from worker.skills import Reply, Skill, all_skills, home

DEAD_TEXT = "dead-letter-text-3f9c <https://internal.example/?token=xoxb-leak>"
DEAD_REASON = "slack error: channel_not_found reason-text-77ab"


def open_home(pipeline: Pipeline, *, user: str = "U0HUMAN", tab: str = "home") -> None:
    event = {
        "type": "app_home_opened",
        "user": user,
        "channel": "D0HOME",
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    assert pipeline.post(sr.event_callback(event))["statusCode"] == 200


def texts(view: dict[str, Any]) -> str:
    """Every text object in the view, joined: what a person can read on the tab."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                found.append(node["text"])
            else:
                for value in node.values():
                    walk(value)

    walk(view.get("blocks"))
    return "\n".join(found)


def put_age(moto_server: MotoServer, queue_url: str, seconds: float) -> None:
    """What SQS publishes to CloudWatch every minute for a queue holding messages."""
    cloudwatch = boto3.client("cloudwatch", endpoint_url=moto_server.url)
    cloudwatch.put_metric_data(
        Namespace="AWS/SQS",
        MetricData=[
            {
                "MetricName": "ApproximateAgeOfOldestMessage",
                "Dimensions": [{"Name": "QueueName", "Value": home.queue_name(queue_url)}],
                "Value": seconds,
                "Unit": "Seconds",
                "Timestamp": datetime.now(UTC) - timedelta(minutes=1),
            }
        ],
    )


def put_dead_letter(pipeline: Pipeline) -> None:
    body = schema.dumps(
        schema.build(
            "event",
            json.loads(sr.mention(f"<@UBOT> check {DEAD_TEXT}", channel="C0SECRET")),
            received_at=time.time(),
            request_id="r-dead",
        )
    )
    attributes = {
        schema.DEAD_REASON: {"DataType": "String", "StringValue": DEAD_REASON},
        schema.DEAD_CATEGORY: {"DataType": "String", "StringValue": "permanent"},
        "channel": {"DataType": "String", "StringValue": "C0SECRET"},
    }
    pipeline.sqs.send_message(QueueUrl=pipeline.dlq_url, MessageBody=body, MessageAttributes=attributes)


def run_with_waiting_messages(pipeline: Pipeline, waiting: int) -> None:
    """Run the worker on the Home tab's event while ``waiting`` other messages wait on the work queue."""
    (opened,) = pipeline.receive(max_messages=10)
    for number in range(waiting):
        pipeline.send_raw(f"filler {number}")
    invocation = pipeline.invoke([opened])
    assert invocation.failed == []


DEPLOY = Skill(
    name="deploy",
    help="ship <it> & say so",
    run=lambda ask: Reply(text="shipped"),
    commands=("/deploy", "/ship"),
    shortcuts={"now": lambda ask: None},
)


def test_opening_the_home_tab_publishes_every_skill_and_the_pipelines_numbers(
    pipeline: Pipeline, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = {**all_skills(), "deploy": DEPLOY}
    monkeypatch.setattr(home, "all_skills", lambda: everything)
    put_dead_letter(pipeline)
    put_age(moto_server, pipeline.queue_url, 754)
    put_age(moto_server, pipeline.dlq_url, 99_999)  # another queue's figure must not be shown

    open_home(pipeline)
    run_with_waiting_messages(pipeline, waiting=2)

    (publish,) = pipeline.slack.calls("views.publish")
    assert publish["ok"] is True and publish["args"]["user_id"] == "U0HUMAN"
    assert pipeline.replies() == []  # answered by the view alone: nothing posted in the DM
    view = pipeline.slack.home_view("U0HUMAN")
    assert view is not None and view["type"] == "home"
    shown = texts(view)
    for skill in everything.values():
        assert f"*`{skill.name}`*: {escape(skill.help)}" in shown
        assert f"mention or DM: `{skill.name}`" in shown
    assert "ship &lt;it&gt; &amp; say so" in shown
    assert "`/deploy` · `/ship` · mention or DM: `deploy` · shortcut `deploy:now`" in shown
    # SQS's counts as the worker saw them: the Home tab's own event in flight, two waiting; one dead letter
    assert "*Work queue*\n3 (2 waiting, 1 in flight)" in shown
    assert "*Dead letters*\n1 (1 waiting, 0 in flight)" in shown
    assert "*Oldest message waiting*\n12 min 34 s" in shown
    assert "27 h" not in shown


def test_a_dead_letters_content_never_reaches_the_home_tab_and_it_is_never_received(
    pipeline: Pipeline,
) -> None:
    put_dead_letter(pipeline)

    open_home(pipeline)
    pipeline.drain()

    view = pipeline.slack.home_view("U0HUMAN")
    assert view is not None and "*Dead letters*\n1 (1 waiting, 0 in flight)" in texts(view)
    published = json.dumps(view)
    for secret in ("dead-letter-text-3f9c", "internal.example", "xoxb-leak", "reason-text-77ab", "C0SECRET"):
        assert secret not in published
    # Read here for the first time: the Home tab counted it without receiving it
    (dead,) = pipeline.receive(pipeline.dlq_url, wait=0)
    assert dead["Attributes"]["ApproximateReceiveCount"] == "1"


@pytest.fixture
def refusing_cloudwatch(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """CloudWatch for a worker role without ``cloudwatch:GetMetricStatistics``: 403 AccessDenied."""
    seen: list[str] = []

    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(self.headers.get("X-Amz-Target") or self.path)
            body = (
                b'<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error>'
                b"<Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform "
                b"cloudwatch:GetMetricStatistics</Message></Error><RequestId>r1</RequestId></ErrorResponse>"
            )
            self.send_response(403)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_age_is_left_out_when_cloudwatch_refuses(
    pipeline: Pipeline, moto_server: MotoServer, refusing_cloudwatch: list[str]
) -> None:
    put_age(moto_server, pipeline.queue_url, 754)  # in moto, but the worker's CloudWatch refuses

    open_home(pipeline)
    run_with_waiting_messages(pipeline, waiting=1)

    assert refusing_cloudwatch  # asked, and refused
    view = pipeline.slack.home_view("U0HUMAN")
    assert view is not None
    shown = texts(view)
    assert "Oldest message" not in shown and "12 min" not in shown
    assert "*Work queue*\n2 (1 waiting, 1 in flight)" in shown  # the rest of the health is still there


def test_the_age_is_left_out_when_cloudwatch_is_unreachable_or_has_no_figure(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_home(pipeline)  # no figure in CloudWatch for this (new) queue
    pipeline.drain()
    assert "Oldest message" not in texts(pipeline.slack.home_view("U0HUMAN") or {})

    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", f"http://127.0.0.1:{free_port()}")
    open_home(pipeline, user="U0OTHER")
    (invocation,) = pipeline.drain()

    assert invocation.failed == []
    shown = texts(pipeline.slack.home_view("U0OTHER") or {})
    assert "*Dead letters*\n0 (0 waiting, 0 in flight)" in shown and "Oldest message" not in shown


def test_opening_the_messages_tab_publishes_nothing(pipeline: Pipeline) -> None:
    open_home(pipeline, tab="messages")
    (invocation,) = pipeline.drain()

    assert invocation.failed == [] and pipeline.depth(pipeline.dlq_url) == 0
    assert pipeline.slack.calls("views.publish") == [] and pipeline.replies() == []


def test_a_refused_publish_is_a_permanent_failure_with_its_reason(pipeline: Pipeline) -> None:
    pipeline.slack.home_tab_enabled = False  # the app's Home tab is turned off

    open_home(pipeline, user=f"U{uuid.uuid4().hex[:8].upper()}")
    (invocation,) = pipeline.drain()

    assert invocation.failed == []
    (dead,) = pipeline.dead_letters()
    assert dead["MessageAttributes"]["reason"]["StringValue"] == "slack error: not_enabled"
