"""``slackbot say TEXT``: send a correctly signed request to the running sandbox, as Slack would, and
report what became of it: the bot's reply, or why there is none.

By default the text is a mention in a channel; ``--dm`` makes it a direct message and
``--command /ops`` a slash command (answered through a ``response_url`` the sandbox mints). Every kind
comes from the same team, user and channel (``C0SANDBOX``; a DM from ``D0SANDBOX``) and names the
stand-in's bot user.

After the ingest's answer it waits (15 s by default) for the outcome the sandbox saw, matched by the
id the ingest and the worker both log (the message for a mention or DM, the trigger id for a slash
command): the reply (exit 0), or ``dead-lettered: <reason>`` or ``ignored: <reason>`` (exit 1), or
``no reply within 15 s`` with the last failure, if any (exit 1). Each failed attempt is printed as it
happens, since SQS delivers a failed event again.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from ops.failures import ExitCode
from ops.render import printable
from sandbox import slack_payloads as payloads
from sandbox import statefile
from sandbox.console import reply_lines
from sandbox.slack_standin import BOT_USER_ID, TEAM_ID
from sandbox.stack import DEFAULT_PORT, read_env_file
from shared.envelope import dedupe_key

CHANNEL = "C0SANDBOX"
DM_CHANNEL = "D0SANDBOX"
FORM = "application/x-www-form-urlencoded"
POLL_SECONDS = 2.5  # each long poll stays inside the sandbox's 3 s Function URL timeout
REPLY_WIDTH = 100


@dataclass(frozen=True)
class Request:
    body: bytes
    content_type: str
    correlation_id: str  # what the ingest and the worker log for it (shared.envelope.dedupe_key)
    response_path: str = ""  # a slash command's response_url path: its reply is recorded there


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", help='what to say, e.g. "check https://example.org"')
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--dm", action="store_true", help="as a direct message to the bot")
    where.add_argument("--command", metavar="/NAME", help="as a slash command, e.g. /ops")
    parser.add_argument(
        "--url",
        help="the sandbox (default $SANDBOX_URL, else http://127.0.0.1:$PORT if PORT is set, else the"
        f" running sandbox found through .sandbox/state.json, else http://127.0.0.1:{DEFAULT_PORT})",
    )
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for the reply (15)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    base = sandbox_url(args.url).rstrip("/")
    secret = _signing_secret()
    try:
        since = _last_seq(base)
        request = _request(args, base)
        status, answer, ms = _post(base, request, secret)
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        print(
            f"slackbot: cannot reach the sandbox at {base} ({_reason(error)}); is `make run` running?",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    print(f"ingest  → HTTP {status} in {ms:.0f} ms{(': ' + printable(answer)) if answer else ''}")
    if status != 200:
        return ExitCode.NOTHING
    return _await_outcome(base, request, since, args.timeout)


def sandbox_url(given: str | None) -> str:
    """The sandbox to talk to; says on stderr when it was found through its state file."""
    if given:
        return given
    if os.environ.get("SANDBOX_URL"):
        return os.environ["SANDBOX_URL"]
    if os.environ.get("PORT"):
        return f"http://127.0.0.1:{os.environ['PORT']}"
    found = statefile.find()
    if found is not None:
        state, path = found
        print(f"slackbot: using {statefile.describe(state, path)}", file=sys.stderr)
        return state.url
    return f"http://127.0.0.1:{DEFAULT_PORT}"


def _signing_secret() -> str:
    return (
        (os.environ.get("SLACK_SIGNING_SECRET") or read_env_file_secret() or payloads.DEV_SIGNING_SECRET)
        .split(",")[0]
        .strip()
    )


def read_env_file_secret() -> str:
    return read_env_file(Path(".env")).get("SLACK_SIGNING_SECRET", "")


def _request(args: argparse.Namespace, base: str) -> Request:
    if args.command:
        command = args.command if args.command.startswith("/") else "/" + args.command
        response_url = _get_json(f"{base}/sandbox/response_url", method="POST").get("response_url", "")
        if not response_url:  # real Slack mode: the reply goes to Slack, nowhere to read it here
            response_url = "https://hooks.slack.com/commands/T0001/0/sandbox"
        body = payloads.slash_command(
            args.text, command=command, response_url=response_url, channel=CHANNEL, team=TEAM_ID
        )
        form = dict(parse_qsl(body.decode()))
        return Request(body, FORM, dedupe_key("command", form) or "", urlsplit(response_url).path)
    if args.dm:
        body = payloads.direct_message(args.text, channel=DM_CHANNEL, bot_user=BOT_USER_ID, team=TEAM_ID)
    else:
        body = payloads.mention(
            f"<@{BOT_USER_ID}> {args.text}", channel=CHANNEL, bot_user=BOT_USER_ID, team=TEAM_ID
        )
    return Request(body, "application/json", dedupe_key("event", json.loads(body)) or "")


def _post(base: str, request: Request, secret: str) -> tuple[int, str, float]:
    headers = payloads.slack_headers(request.body, secret=secret, content_type=request.content_type)
    http = urllib.request.Request(f"{base}/slack/events", data=request.body, headers=headers, method="POST")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(http, timeout=10) as response:
            status, text = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode("utf-8", "replace")
    ms = (time.monotonic() - started) * 1000
    with contextlib.suppress(ValueError, AttributeError):
        text = json.loads(text).get("text", text) if text else ""
    return status, str(text), ms


def _await_outcome(base: str, request: Request, since: int, timeout: float) -> int:
    """Wait for what became of the request; print it; the exit code."""
    deadline = time.monotonic() + timeout
    seen = 0
    last_failure = ""
    while (left := deadline - time.monotonic()) > 0:
        outcome = _get_json(
            f"{base}/sandbox/outcome?id={quote(request.correlation_id, safe='')}"
            f"&seen={seen}&wait={min(left, POLL_SECONDS):.1f}"
        )
        attempts = [a for a in outcome.get("attempts", []) if isinstance(a, dict)]
        for attempt in attempts[seen:]:
            if attempt.get("outcome") in ("failed", "not_started"):
                last_failure = printable(str(attempt.get("reason", "")))
                receive = f" on receive {attempt['receive']} of {outcome.get('max_receive_count', '?')}"
                print(
                    f"worker  → failed{receive if attempt.get('receive') else ''}: {last_failure};"
                    " SQS delivers it again"
                )
        seen = max(seen, len(attempts))
        final, reason = outcome.get("outcome"), printable(str(outcome.get("reason", "")))
        if final == "answered":
            return _print_replies(base, request, since)
        if final == "dead_lettered":
            print(f"dead-lettered: {reason}")
            short_id = printable(str(outcome.get("message_id", "")))[:8]  # as the console shows it
            print(f"  explain it: slackbot dlq show {short_id}   (every dead letter: slackbot dlq list)")
            return ExitCode.NOTHING
        if final == "ignored":
            print(f"ignored: {reason}")
            return ExitCode.NOTHING
    print(
        f"no reply within {timeout:g} s" + (f" (last attempt failed: {last_failure})" if last_failure else "")
    )
    return ExitCode.NOTHING


def _print_replies(base: str, request: Request, since: int) -> int:
    data = _get_json(f"{base}/sandbox/messages?since={since}")
    if data.get("mode") == "slack":
        print("answered: the reply went to real Slack")
        return ExitCode.OK
    replies = [m for m in data.get("messages", []) if m.get("ok") and m.get("method") != "auth.test"]
    if request.response_path:  # a slash command: its own response_url, else the calls its skill made
        own = [m for m in replies if m.get("path") == request.response_path]
        replies = own or [m for m in replies if m.get("kind") != "response_url"]
    if not replies:
        print("answered (nothing was posted)")
    for reply in replies:
        lines = reply_lines(reply, REPLY_WIDTH)
        print("bot     → " + "\n          ".join(lines))
    return ExitCode.OK


def _last_seq(base: str) -> int:
    messages = _get_json(f"{base}/sandbox/messages").get("messages", [])
    return max([0] + [int(m.get("seq", 0)) for m in messages])


def _get_json(url: str, method: str = "GET") -> dict[str, Any]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            data = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            data = json.loads(error.read() or b"{}")
        except ValueError:
            data = {}
    return data if isinstance(data, dict) else {}


def _reason(error: BaseException) -> str:
    return str(getattr(error, "reason", error))
