"""Fixtures for every test: moto in server mode over HTTP, and the pipeline's resources in it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from sandbox import resources
from tests.support.moto_server import AWS_TEST_ENV, MotoServer
from tests.support.slack_requests import SECRET
from worker import container, deadletters

# No test may reach real AWS, whatever the developer's shell holds.
for _name in (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET_ARN",
    "SLACK_BOT_TOKEN_ARN",
):
    os.environ.pop(_name, None)
os.environ.update(AWS_TEST_ENV)


@pytest.fixture(autouse=True)
def new_container() -> None:
    """Every test is a new Lambda container: the functions build their settings and clients again from
    the test's environment (worker/container.py)."""
    container.reset()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer().start()
    os.environ["AWS_ENDPOINT_URL"] = server.url
    try:
        yield server
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        server.stop()


@dataclass
class Aws:
    server: MotoServer
    sqs: Any
    dynamodb: Any
    resources: resources.Resources

    def messages(self, queue_url: str | None = None, *, max_messages: int = 10) -> list[dict[str, Any]]:
        """Receive (and make invisible) what is on a queue; short visibility so others may see it later."""
        answer = self.sqs.receive_message(
            QueueUrl=queue_url or self.resources.queue_url,
            MaxNumberOfMessages=max_messages,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        return list(answer.get("Messages", []))

    def depth(self, queue_url: str | None = None) -> int:
        """Messages on a queue, visible or in flight."""
        return sum(deadletters.depth(self.sqs, queue_url or self.resources.queue_url).values())


@pytest.fixture
def aws(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Aws:
    """Fresh queues and table per test (unique names: no reset between tests is needed)."""
    sqs = boto3.client("sqs", endpoint_url=moto_server.url)
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_server.url)
    created = resources.create(f"t{uuid.uuid4().hex[:12]}", sqs, dynamodb)
    for name, value in created.env().items():
        monkeypatch.setenv(name, value)
    return Aws(moto_server, sqs, dynamodb, created)


@pytest.fixture
def signing_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    return SECRET


@pytest.fixture
def slack() -> Iterator[Any]:
    """The Slack Web API stand-in on a free loopback port."""
    from sandbox.slack_standin import SlackStandIn

    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def pipeline(
    moto_server: MotoServer, slack: Any, signing_secret: str, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """Ingest → SQS → worker → Slack stand-in, with a 1 s visibility timeout so failed records return quickly."""
    from tests.support.pipeline import new_pipeline

    pipeline, _ = new_pipeline(moto_server.url, slack, monkeypatch.setenv, prefix="p", visibility_timeout=1)
    monkeypatch.setenv("CHECK_ALLOW_PRIVATE_NETWORKS", "true")
    # Failed records come back after 1 s instead of the 1–64 s backoff (tests/integration/test_retry_timing.py
    # keeps the real schedule and the template's visibility timeout).
    monkeypatch.setenv("RETRY_FIRST_WAIT_SECONDS", "0")
    return pipeline
