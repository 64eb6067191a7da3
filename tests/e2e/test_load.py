"""Load: 1,000 events at once through the sandbox's HTTP front, three pollers consuming.

Every one is acked 200 well within Slack's 3 s, every one answered exactly once, none dead-lettered.
The figures are printed (run with ``-s``) and recorded in docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest

from sandbox import slack_payloads as payloads
from sandbox.moto import AWS_TEST_ENV, free_port
from sandbox.slack_standin import BOT_USER_ID

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SECRET = "load-signing-secret-0123456789"
EVENTS = 1000
CLIENTS = 4


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "SLACK_", "QUEUE_URL", "DLQ_URL", "STATE_TABLE"))
    }
    env.update({"SLACK_SIGNING_SECRET": SECRET, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)})
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--pollers", "3"],
        cwd=tmp_path_factory.mktemp("load"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    info: dict[str, str] = {"url": f"http://127.0.0.1:{port}"}
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if "moto (AWS)" in line:
                info["moto"] = line.split("moto (AWS)", 1)[1].strip()
            if "work queue" in line:
                info["queue"] = line.split("work queue", 1)[1].strip()
            if line.startswith("ready"):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    assert ready.wait(60), "the sandbox did not start"
    yield info
    process.terminate()
    process.wait(timeout=30)


def _send(url: str, n: int) -> tuple[int, float]:
    body = payloads.mention(f"<@{BOT_USER_ID}> ping", channel=f"C{n:05d}", bot_user=BOT_USER_ID)
    headers = payloads.slack_headers(body, secret=SECRET, content_type="application/json")
    request = urllib.request.Request(f"{url}/slack/events", data=body, headers=headers, method="POST")
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=10) as response:
        status = response.status
    return status, time.monotonic() - started


def test_a_thousand_concurrent_events_are_acked_in_time_and_answered_once(sandbox: dict[str, str]) -> None:
    url = sandbox["url"]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(lambda n: _send(url, n), range(EVENTS)))
    sent_in = time.monotonic() - started
    statuses = Counter(status for status, _ in results)
    acks = sorted(seconds for _, seconds in results)
    assert statuses == {200: EVENTS}
    assert acks[-1] < 3.0, f"slowest ack {acks[-1]:.2f} s"

    replies: Counter[str] = Counter()
    seq = 0
    deadline = time.monotonic() + 180
    while sum(replies.values()) < EVENTS and time.monotonic() < deadline:
        with urllib.request.urlopen(f"{url}/sandbox/messages?since={seq}&wait=5", timeout=40) as response:
            messages = json.loads(response.read())["messages"]
        for message in messages:
            seq = max(seq, message["seq"])
            if message["ok"] and message["method"] == "chat.postMessage":
                replies[message["args"]["channel"]] += 1
    answered_in = time.monotonic() - started
    assert len(replies) == EVENTS, f"{EVENTS - len(replies)} events never answered"
    assert set(replies.values()) == {1}, "some event was answered twice"

    sqs = boto3.client("sqs", endpoint_url=sandbox["moto"], **_credentials())
    dlq = sandbox["queue"].replace("-work", "-dlq")
    attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"
    ]
    assert attributes["ApproximateNumberOfMessages"] == "0"

    print(
        f"\nload: {EVENTS} events from {CLIENTS} clients, sent in {sent_in:.1f} s; "
        f"ack p50 {statistics.median(acks) * 1000:.0f} ms, p99 {acks[int(EVENTS * 0.99) - 1] * 1000:.0f} ms, "
        f"max {acks[-1] * 1000:.0f} ms; all answered once in {answered_in:.1f} s "
        f"({EVENTS / answered_in:.0f} events/s); dead letters 0"
    )


def _credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": AWS_TEST_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"],
        "region_name": AWS_TEST_ENV["AWS_DEFAULT_REGION"],
    }
