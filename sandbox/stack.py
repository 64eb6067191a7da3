"""The whole pipeline on one machine, as ``make run`` starts it.

moto (server mode) → the pipeline's queues and table → the Slack stand-in (or real Slack) → the
ingest behind an HTTP server that speaks Lambda Function URL → an SQS poller that behaves like
Lambda's event source mapping → the worker. The same handlers as on Lambda, loopback only.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import json
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3

from sandbox import resources, statefile
from sandbox.console import Console, install
from sandbox.http_front import HttpFront
from sandbox.moto import AWS_TEST_ENV, MotoServer, free_port
from sandbox.outcomes import DeadLetterWatch, Ledger, LedgerLogHandler
from sandbox.poller import SqsPoller
from sandbox.slack_payloads import DEV_SIGNING_SECRET
from sandbox.slack_standin import SlackStandIn

DEFAULT_PORT = 3000
PRIVILEGED_PORTS = 1024
LONG_POLL_SECONDS = 2.5  # the sandbox's routes run as Function URL handlers: 3 s, then a 502
SECRET_VARIABLE = "SLACK_SIGNING_SECRET"  # noqa: S105 (a variable's name)
TOKEN_VARIABLE = "SLACK_BOT_TOKEN"  # noqa: S105 (a variable's name)
SANDBOX_SERVICES = "api,web,payments,search"  # what the incident form offers unless SERVICES is set
Route = Callable[[dict[str, Any], Any], dict[str, Any]]


class SandboxError(Exception):
    """Something the developer can fix before the sandbox starts: printed as one line, no traceback."""


@dataclass
class Options:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    moto_port: int = 0  # 0: a free port
    pollers: int = 3
    batch_size: int = 10
    batching_window_seconds: float = 0.0
    wait_time_seconds: int = 2  # long polling: a message is picked up at once; this only bounds shutdown
    worker_timeout_seconds: float = float(resources.WORKER_TIMEOUT_SECONDS)
    visibility_timeout_seconds: int = resources.VISIBILITY_TIMEOUT_SECONDS
    env_file: Path | None = field(default_factory=lambda: Path(".env"))
    state_dir: Path | None = None  # where .sandbox/state.json goes (python -m sandbox: here); None: nowhere


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


@dataclass(frozen=True)
class SlackMode:
    """Real Slack or the stand-in, and the banner's words for why."""

    real: bool
    why: str


def slack_mode(environ: Mapping[str, str], env_file: Mapping[str, str], env_file_name: str) -> SlackMode:
    """Real Slack only when both the bot token and the signing secret are set (environment or ``.env``)."""
    sources = {}
    for name in (TOKEN_VARIABLE, SECRET_VARIABLE):
        if environ.get(name, "").strip():
            sources[name] = "the environment"
        elif env_file.get(name, "").strip():
            sources[name] = env_file_name
    if len(sources) == 2:
        return SlackMode(True, " and ".join(f"{name} from {where}" for name, where in sources.items()))
    if len(sources) == 1:
        ((present, where),) = sources.items()
        missing = SECRET_VARIABLE if present == TOKEN_VARIABLE else TOKEN_VARIABLE
        return SlackMode(
            False,
            f"{missing} is missing ({present} is set in {where}): the stand-in is used; set both for real Slack",
        )
    return SlackMode(False, f"neither {TOKEN_VARIABLE} nor {SECRET_VARIABLE} is set")


def check_port(host: str, port: int, variable: str = "PORT") -> None:
    """Fail with one clear line, before anything starts, if the sandbox cannot listen on ``port``."""
    if not 0 <= port <= 65535:
        raise SandboxError(f"{variable}={port} is not a port number (0-65535)")
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            probe.bind((host, port))
        except PermissionError:
            other = suggest_port(host, max(port, DEFAULT_PORT))
            raise SandboxError(
                f"port {port} is privileged (below {PRIVILEGED_PORTS}) and this user may not listen on it;"
                f" choose another: {variable}={other} make run"
            ) from None
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                other = suggest_port(host, port + 1)
                raise SandboxError(
                    f"port {port} is already in use (another sandbox?); choose another: {variable}={other} make run"
                ) from None
            if error.errno == errno.EADDRNOTAVAIL:
                raise SandboxError(f"cannot listen on {host}: not an address of this machine") from None
            raise SandboxError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


def suggest_port(host: str, start: int) -> int:
    """The first port from ``start`` that is free on ``host`` (else any free one)."""
    for candidate in range(max(start, PRIVILEGED_PORTS), min(max(start, PRIVILEGED_PORTS) + 50, 65536)):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return free_port()


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
        self.slack_mode = SlackMode(False, "not started")
        self.private_networks = PrivateNetworks(False, "not started")
        self.ledger = Ledger(resources.MAX_RECEIVE_COUNT)
        self.dead_letter_watch: DeadLetterWatch | None = None
        self.state_file: Path | None = None
        self.state_file_problem = ""

    # ----- start ---------------------------------------------------------------------------------

    def start(self) -> Stack:
        """Start everything; ``SandboxError`` (one line for the developer) if the port cannot be had."""
        check_port(self.options.host, self.options.port)
        env_file = read_env_file(self.options.env_file)
        self.slack_mode = slack_mode(os.environ, env_file, str(self.options.env_file or ".env"))
        for key, value in env_file.items():
            os.environ.setdefault(key, value)
        self.real_slack = self.slack_mode.real
        if not os.environ.get("SLACK_SIGNING_SECRET"):
            os.environ["SLACK_SIGNING_SECRET"] = DEV_SIGNING_SECRET
        self.private_networks = private_networks(self.real_slack, os.environ)
        os.environ.update(self.private_networks.env())
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # EMF lines would drown the console
        # The incident form's service picker needs something to offer (yours wins, from the env or .env).
        os.environ.setdefault("SERVICES", SANDBOX_SERVICES)
        # moto answers in milliseconds when idle but far slower than SQS under load on a small machine:
        # one patient attempt (2 s, still inside Slack's 3 s) instead of two quick ones.
        os.environ.setdefault("SQS_READ_TIMEOUT_SECONDS", "2.0")
        for key, value in AWS_TEST_ENV.items():  # moto's fake credentials: never real AWS
            os.environ[key] = value

        self.moto = MotoServer(port=self.options.moto_port or free_port()).start()
        os.environ["AWS_ENDPOINT_URL"] = self.moto.url
        sqs = boto3.client("sqs", endpoint_url=self.moto.url)
        self.resources = resources.create(
            "slackbot-sandbox",
            sqs,
            boto3.client("dynamodb", endpoint_url=self.moto.url),
            visibility_timeout=self.options.visibility_timeout_seconds,
        )
        os.environ.update(self.resources.env())

        if not self.real_slack:
            self.slack = SlackStandIn(on_record=self._on_slack_record).start()
            os.environ["SLACK_API_URL"] = self.slack.api_url
            os.environ["SLACK_BOT_TOKEN"] = "xoxb-sandbox-token"  # noqa: S105 (the stand-in's, not a secret)

        # Import the functions only now: they read their settings as Lambda would, from the environment.
        from ingest.handler import lambda_handler as ingest_handler
        from worker.handler import lambda_handler as worker_handler

        install(self.console, LedgerLogHandler(self.ledger))
        self.console.watch(self.ledger)

        def worker(event: dict[str, Any], context: Any) -> Any:
            with self.ledger.invocation():
                for record in event.get("Records", []):
                    message_id = str(record.get("messageId", ""))
                    count = int(record.get("attributes", {}).get("ApproximateReceiveCount", 1))
                    self.ledger.picked_up(message_id, count)
                    self.console.picked_up(message_id, count)
                return worker_handler(event, context)

        self.poller = SqsPoller(
            self.resources.queue_url,
            worker,
            batch_size=self.options.batch_size,
            batching_window_seconds=self.options.batching_window_seconds,
            concurrency=self.options.pollers,
            function_timeout_seconds=self.worker_timeout_seconds,
            wait_time_seconds=self.options.wait_time_seconds,
            on_batch=self.ledger.batch,
        ).start()
        self.dead_letter_watch = DeadLetterWatch(self.ledger, sqs, self.resources.dlq_url).start()
        self.front = HttpFront(
            ingest_handler,
            self.options.host,
            self.options.port,
            routes={
                "/sandbox/messages": self._messages,
                "/sandbox/response_url": self._response_url,
                "/sandbox/trigger_id": self._trigger_id,
                "/sandbox/outcome": self._outcome,
                "/sandbox/faults": self._to_standin("faults"),
                "/sandbox/channels": self._to_standin("channels"),
            },
        ).start()
        self._write_state_file()
        return self

    @property
    def worker_timeout_seconds(self) -> float:
        """Lambda refuses an event source whose queue hides a message for less than the function may run."""
        return min(self.options.worker_timeout_seconds, float(self.options.visibility_timeout_seconds))

    def state(self) -> statefile.SandboxState:
        assert self.front is not None and self.moto is not None and self.resources is not None
        return statefile.SandboxState(
            pid=os.getpid(),
            url=self.front.url,
            aws_endpoint_url=self.moto.url,
            region=AWS_TEST_ENV["AWS_REGION"],
            queue_url=self.resources.queue_url,
            dlq_url=self.resources.dlq_url,
            table=self.resources.table,
            dev_signing_secret=os.environ.get(SECRET_VARIABLE) == DEV_SIGNING_SECRET,
            started_at=time.time(),
        )

    def _write_state_file(self) -> None:
        if self.options.state_dir is None:
            return
        try:
            self.state_file = statefile.write(self.options.state_dir, self.state())
        except OSError as error:  # a read-only checkout: the banner's exports still work
            self.state_file_problem = f"not written ({error.strerror or error})"

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
        wait = min(_number(query, "wait", 0), LONG_POLL_SECONDS)

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

    def _outcome(self, event: dict[str, Any], _context: Any) -> dict[str, Any]:
        """``GET /sandbox/outcome?id=CORRELATION_ID[&seen=N&wait=SECONDS]``: what became of a Slack action.

        Long-polls until it has an outcome (answered, ignored, dead_lettered) or more than ``seen`` attempts.
        """
        query = parse_qs(event.get("rawQueryString", ""))
        correlation_id = (query.get("id") or [""])[0]
        if not correlation_id:
            return _json(400, {"error": "id= is required: the correlation id the ingest logs"})
        wait = min(_number(query, "wait", 0), LONG_POLL_SECONDS)
        return _json(200, self.ledger.wait(correlation_id, int(_number(query, "seen", 0)), wait))

    def _to_standin(self, name: str) -> Route:
        """``/sandbox/faults`` and ``/sandbox/channels`` on the sandbox's own port, passed to the stand-in."""

        def route(event: dict[str, Any], _context: Any) -> dict[str, Any]:
            method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
            if method not in ("GET", "POST") or (name == "faults" and method == "GET"):
                return _json(405, {"ok": False, "error": "method_not_allowed"})
            if self.slack is None:
                return _json(
                    404, {"ok": False, "error": "real Slack mode: there is no stand-in to make fail"}
                )
            body = _request_body(event)
            if name == "faults" and method == "POST":
                body = _fault_defaults(body)
            return _forward(f"{self.slack.url}/sandbox/{name}", method, body)

        return route

    # ----- stop ----------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop everything, newest first; every thread joined, moto's process ended."""
        if self.state_file is not None:
            statefile.remove(self.state_file, os.getpid())
        if self.dead_letter_watch is not None:
            self.dead_letter_watch.stop()
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
        secret = os.environ[SECRET_VARIABLE]
        url = self.front.url
        slack = (
            f"real Slack ({self.slack_mode.why})"
            if self.real_slack
            else f"the stand-in, replies at {url}/sandbox/messages ({self.slack_mode.why})"
        )
        visibility = self.options.visibility_timeout_seconds
        lines = [
            "slackbot-pipeline sandbox",
            f"  Slack request URL   {url}/slack/events",
            f"  Slack               {slack}",
            f"  private networks    {'allowed' if self.private_networks.allowed else 'refused'} to `check`"
            f" ({self.private_networks.why})",
            f"  moto (AWS)          {self.moto.url}",
            f"  work queue          {self.resources.queue_url}",
            f"  visibility timeout  {visibility} s; after {resources.MAX_RECEIVE_COUNT} receives SQS moves a"
            f" message to the DLQ (worker timeout {self.worker_timeout_seconds:g} s)",
            f"  signing secret      {secret if secret == DEV_SIGNING_SECRET else '(from SLACK_SIGNING_SECRET)'}",
        ]
        if not self.real_slack:
            lines += [
                f'  make Slack fail     curl -d \'{{"method": "chat.postMessage", "error": "not_in_channel"}}\''
                f" {url}/sandbox/faults",
                f'                      curl -d \'{{"not_in": ["C0SANDBOX"]}}\' {url}/sandbox/channels',
            ]
        lines += [
            '  try it              .venv/bin/slackbot say "check https://example.org"',
            f"  state file          {self.state_file or self.state_file_problem or 'not written'}"
            + (" (slackbot finds this sandbox through it)" if self.state_file else ""),
            "for slackbot in another shell (say needs SLACK_SIGNING_SECRET too, printed only if it is the"
            " development one):",
            *statefile.exports(self.state()),
            "ready (Ctrl-C stops everything)",
        ]
        return "\n".join(lines)


def _json(status: int, data: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(data)}


def _request_body(event: dict[str, Any]) -> bytes:
    raw = event.get("body") or ""
    return base64.b64decode(raw) if event.get("isBase64Encoded") else str(raw).encode()


def _fault_defaults(body: bytes) -> bytes:
    """An ``error`` without a ``status`` is Slack's usual refusal: HTTP 200 ``{"ok": false, "error": …}``.

    (The stand-in's own default is 429, a rate limit: a ``not_in_channel`` that is retried instead of
    dead-lettered would surprise whoever typed it.)
    """
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return body  # the stand-in says what is wrong with it
    if isinstance(data, dict) and data.get("error") and "status" not in data:
        data["status"] = 200
    return json.dumps(data).encode()


def _forward(url: str, method: str, body: bytes) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=body if method == "POST" else None,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": payload.decode("utf-8", "replace"),
    }


def _number(query: dict[str, list[str]], name: str, default: float) -> float:
    try:
        return float(query.get(name, [default])[0])
    except (TypeError, ValueError):
        return default
