"""Where replies may go: a ``response_url`` the worker does not trust is never contacted.

Through the real handlers: the ingest (signed request) → SQS (moto server) → the worker → the Slack
stand-in, with a second HTTP server on loopback standing for whatever a forged ``response_url`` names.
The stand-in's own ``response_url``s share the origin of ``SLACK_API_URL`` and stay trusted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.serving import BackgroundServer, QuietHandler
from shared import envelope as schema
from tests.support import slack_requests as sr
from tests.support.pipeline import Pipeline


class Bystander(BackgroundServer):
    """A loopback HTTP server that is not the Slack stand-in; it counts every connection made to it."""

    thread_name = "bystander"

    def __init__(self) -> None:
        self.connections: list[str] = []  # the client address of each, even one that sends nothing
        self.lock = threading.Lock()
        super().__init__("127.0.0.1", 0, _Recorder)


class _Recorder(QuietHandler):
    server: Any

    def handle(self) -> None:
        bystander: Bystander = self.server.owner
        with bystander.lock:
            bystander.connections.append(str(self.client_address))
        super().handle()

    def _answer(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = do_PUT = _answer


@pytest.fixture
def bystander() -> Iterator[Bystander]:
    with Bystander() as server:
        yield server


def _dead_reasons(pipeline: Pipeline) -> list[tuple[str, str]]:
    return [
        (
            m["MessageAttributes"][schema.DEAD_REASON]["StringValue"],
            m["MessageAttributes"][schema.DEAD_CATEGORY]["StringValue"],
        )
        for m in pipeline.dead_letters()
    ]


def test_a_slash_command_with_a_forged_response_url_is_dead_lettered_and_never_contacted(
    pipeline: Pipeline, bystander: Bystander
) -> None:
    forged = f"{bystander.url}/response/stolen"
    assert (
        pipeline.post(sr.slash_command("ping", response_url=forged), "application/x-www-form-urlencoded")[
            "statusCode"
        ]
        == 200
    )
    pipeline.command("ping")  # the stand-in's own response_url: answered as usual
    invocations = pipeline.drain()
    assert all(invocation.failed == [] for invocation in invocations)  # dead-lettered at once, not retried
    assert bystander.connections == []
    assert _dead_reasons(pipeline) == [("forged response_url", "permanent")]
    (reply,) = pipeline.replies()
    assert reply["kind"] == "response_url" and "pong" in reply["args"]["text"]


@pytest.mark.parametrize(
    "where",
    [
        "{url}/response/x",  # the stand-in's host, another port
        "http://localhost:{port}/actions/x",  # loopback by another name
    ],
)
def test_a_button_click_with_a_forged_response_url_is_dead_lettered(
    pipeline: Pipeline, bystander: Bystander, where: str
) -> None:
    forged = where.format(url=bystander.url, port=bystander.port)
    click = sr.block_action(
        "check:recheck",
        "http://169.254.169.254/latest/meta-data/",  # refused by the checker: nothing else is contacted
        container={"type": "message", "message_ts": "1700000000.000100", "is_ephemeral": True},
        response_url=forged,
    )
    pipeline.post(sr.interaction(click), "application/x-www-form-urlencoded")
    pipeline.drain()
    assert bystander.connections == [] and pipeline.replies() == []
    assert _dead_reasons(pipeline) == [("forged response_url", "permanent")]
