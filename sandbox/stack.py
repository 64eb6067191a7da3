"""The whole pipeline on one machine, as ``make run`` starts it.

moto (server mode) → the pipeline's queues and table → the Slack stand-in (or real Slack) → the
ingest behind an HTTP server that speaks Lambda Function URL → an SQS poller that behaves like
Lambda's event source mapping → the worker. The same handlers as on Lambda, loopback only.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3

from sandbox import resources
from sandbox.console import Console, install
from sandbox.http_front import HttpFront
from sandbox.moto import AWS_TEST_ENV, MotoServer, free_port
from sandbox.poller import SqsPoller
from sandbox.slack_payloads import DEV_SIGNING_SECRET
from sandbox.slack_standin import SlackStandIn

DEFAULT_PORT = 3000


@dataclass
class Options:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    moto_port: int = 0  # 0: a free port
    pollers: int = 3
    batch_size: int = 10
    batching_window_seconds: float = 0.0
    wait_time_seconds: int = 2  # long polling: a message is picked up at once; this only bounds shutdown
    worker_timeout_seconds: float = 60.0
    env_file: Path | None = field(default_factory=lambda: Path(".env"))


@dataclass(frozen=True)
class PrivateNetworks:
    """Whether ``check`` may reach this machine and its network, and the banner's words for it."""

    allowed: bool
    why: str

    def env(self) -> dict[str, str]:
        return {"CHECK_ALLOW_PRIVATE_NETWORKS": "true" if self.allowed else "false"}


def private_networks(real_slack: bool, environ: Mapping[str, str]) -> PrivateNetworks:
    """The worker's ``CHECK_ALLOW_PRIVATE_NETWORKS`` for the sandbox's mode.

    With the stand-in only the developer talks to the bot, and checking ``http://localhost:…`` is
    what they want. Connected to real Slack, anyone in the workspace could make the bot probe this
    machine (moto's ``/moto-api/``) and its LAN: refused unless the developer set the variable
    themselves (environment or ``.env``).
    """
    chosen = environ.get("CHECK_ALLOW_PRIVATE_NETWORKS", "").strip()
    if chosen:
        allowed = env_flag(chosen)
        whose = "set by you: CHECK_ALLOW_PRIVATE_NETWORKS=" + chosen
        if allowed and real_slack:
            whose += "; anyone in the workspace can make `check` reach this machine and its network"
        return PrivateNetworks(allowed, whose)
    if real_slack:
        return PrivateNetworks(
            False, "real Slack: anyone in the workspace may ask (CHECK_ALLOW_PRIVATE_NETWORKS=true allows)"
        )
    return PrivateNetworks(True, "the stand-in: only you can ask")


def env_flag(raw: str) -> bool:
    """Read as ``shared.config.env_bool`` reads it in the worker."""
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def read_env_file(path: Path | None) -> dict[str, str]:
    """``KEY=value`` lines of a ``.env`` file (comments and blank lines skipped, quotes stripped)."""
    if path is None or not path.is_file():
        return {}
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


class Stack:
    def __init__(self, options: Options, console: Console | None = None) -> None:
        self.options = options
        self.console = console or Console()
        self.moto: MotoServer | None = None
        self.slack: SlackStandIn | None = None
        self.front: HttpFront | None = None
        self.poller: SqsPoller | None = None
        self.resources: resources.Resources | None = None
        self.real_slack = False
        self.private_networks = PrivateNetworks(False, "not started")

    # ----- start ---------------------------------------------------------------------------------

    def start(self) -> Stack:
        for key, value in read_env_file(self.options.env_file).items():
            os.environ.setdefault(key, value)
        self.real_slack = bool(os.environ.get("SLACK_BOT_TOKEN") and os.environ.get("SLACK_SIGNING_SECRET"))
        if not os.environ.get("SLACK_SIGNING_SECRET"):
            os.environ["SLACK_SIGNING_SECRET"] = DEV_SIGNING_SECRET
        self.private_networks = private_networks(self.real_slack, os.environ)
        os.environ.update(self.private_networks.env())
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # EMF lines would drown the console
        # moto answers in milliseconds when idle but far slower than SQS under load on a small machine:
        # one patient attempt (2 s, still inside Slack's 3 s) instead of two quick ones.
        os.environ.setdefault("SQS_READ_TIMEOUT_SECONDS", "2.0")
        for key, value in AWS_TEST_ENV.items():  # moto's fake credentials: never real AWS
            os.environ[key] = value

        self.moto = MotoServer(port=self.options.moto_port or free_port()).start()
        os.environ["AWS_ENDPOINT_URL"] = self.moto.url
        self.resources = resources.create(
            "slackbot-sandbox",
            boto3.client("sqs", endpoint_url=self.moto.url),
            boto3.client("dynamodb", endpoint_url=self.moto.url),
        )
        os.environ.update(self.resources.env())

        if not self.real_slack:
            self.slack = SlackStandIn(on_record=self._on_slack_record).start()
            os.environ["SLACK_API_URL"] = self.slack.api_url
            os.environ["SLACK_BOT_TOKEN"] = "xoxb-sandbox-token"  # noqa: S105 (the stand-in's, not a secret)

        # Import the functions only now: they read their settings as Lambda would, from the environment.
        from ingest.handler import lambda_handler as ingest_handler
        from worker.handler import lambda_handler as worker_handler

        install(self.console)

        def worker(event: dict[str, Any], context: Any) -> Any:
            for record in event.get("Records", []):
                self.console.picked_up(str(record.get("messageId", "")))
            return worker_handler(event, context)

        self.poller = SqsPoller(
            self.resources.queue_url,
            worker,
            batch_size=self.options.batch_size,
            batching_window_seconds=self.options.batching_window_seconds,
            concurrency=self.options.pollers,
            function_timeout_seconds=self.options.worker_timeout_seconds,
            wait_time_seconds=self.options.wait_time_seconds,
        ).start()
        self.front = HttpFront(
            ingest_handler,
            self.options.host,
            self.options.port,
            routes={
                "/sandbox/messages": self._messages,
                "/sandbox/response_url": self._response_url,
                "/sandbox/trigger_id": self._trigger_id,
            },
        ).start()
        return self

    def _on_slack_record(self, record: dict[str, Any]) -> None:
        if (
            record.get("ok")
            and record.get("kind") in ("api", "response_url")
            and record.get("method") != "auth.test"
        ):
            self.console.reply(record)

    # ----- the sandbox's own routes (Lambda-style handlers on the same port) ----------------------

    def _messages(self, event: dict[str, Any], _context: Any) -> dict[str, Any]:
        """``GET /sandbox/messages[?since=SEQ&wait=SECONDS]``: what the bot said (long-polls with ``wait``)."""
        if self.slack is None:
            return _json(200, {"mode": "slack", "messages": [], "note": "replies go to real Slack"})
        query = parse_qs(event.get("rawQueryString", ""))
        since = _number(query, "since", 0)
        wait = min(_number(query, "wait", 0), 30)

        def newer(records: list[dict[str, Any]]) -> bool:
            return any(r["seq"] > since for r in records)

        if wait > 0:
            with contextlib.suppress(TimeoutError):
                self.slack.wait_for(newer, timeout=wait)
        messages = [r for r in self.slack.calls() if r["seq"] > since]
        return _json(200, {"mode": "standin", "messages": messages})

    def _response_url(self, event: dict[str, Any], _context: Any) -> dict[str, Any]:
        """``POST /sandbox/response_url``: a fresh ``response_url`` for a slash command sent by ``slackbot say``."""
        if event.get("requestContext", {}).get("http", {}).get("method") != "POST":
            return _json(405, {"error": "POST only"})
        if self.slack is None:
            return _json(404, {"error": "real Slack mode: Slack makes response URLs"})
        return _json(200, {"response_url": self.slack.new_response_url()})

    def _trigger_id(self, event: dict[str, Any], _context: Any) -> dict[str, Any]:
        """``POST /sandbox/trigger_id``: a ``trigger_id`` the stand-in will let open one view in the next 3 s."""
        if event.get("requestContext", {}).get("http", {}).get("method") != "POST":
            return _json(405, {"error": "POST only"})
        if self.slack is None:
            return _json(404, {"error": "real Slack mode: Slack issues trigger ids"})
        return _json(200, {"trigger_id": self.slack.new_trigger_id()})

    # ----- stop ----------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop everything, newest first; every thread joined, moto's process ended."""
        if self.poller is not None:
            self.poller.request_stop()
        if self.front is not None:
            self.front.stop()
        if self.poller is not None:
            self.poller.stop()
        if self.slack is not None:
            self.slack.stop()
        if self.moto is not None:
            self.moto.stop()

    def banner(self) -> str:
        assert self.front is not None and self.moto is not None and self.resources is not None
        secret = os.environ["SLACK_SIGNING_SECRET"]
        lines = [
            "slackbot-pipeline sandbox",
            f"  Slack request URL   {self.front.url}/slack/events",
            f"  replies             {self.front.url}/sandbox/messages"
            if not self.real_slack
            else "  replies             real Slack (SLACK_BOT_TOKEN is set)",
            f"  private networks    {'allowed' if self.private_networks.allowed else 'refused'} to `check`"
            f" ({self.private_networks.why})",
            f"  moto (AWS)          {self.moto.url}",
            f"  work queue          {self.resources.queue_url}",
            f"  signing secret      {secret if secret == DEV_SIGNING_SECRET else '(from SLACK_SIGNING_SECRET)'}",
            f'  try it              .venv/bin/slackbot say --url {self.front.url} "check https://example.org"',
            "ready (Ctrl-C stops everything)",
        ]
        return "\n".join(lines)


def _json(status: int, data: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(data)}


def _number(query: dict[str, list[str]], name: str, default: float) -> float:
    try:
        return float(query.get(name, [default])[0])
    except (TypeError, ValueError):
        return default
