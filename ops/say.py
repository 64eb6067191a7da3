"""``slackbot say TEXT``: send a correctly signed request to the running sandbox, as Slack would, and
print the bot's reply when it arrives.

By default the text is a mention in a channel; ``--dm`` makes it a direct message and
``--command /ops`` a slash command (answered through a ``response_url`` the sandbox mints).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
import urllib.error
import urllib.request
from typing import Any

from sandbox import slack_payloads as payloads
from sandbox.slack_standin import BOT_USER_ID, format_reply
from sandbox.stack import DEFAULT_PORT, read_env_file

CHANNEL = "C0SANDBOX"
DM_CHANNEL = "D0SANDBOX"
FORM = "application/x-www-form-urlencoded"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", help='what to say, e.g. "check https://example.org"')
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--dm", action="store_true", help="as a direct message to the bot")
    where.add_argument("--command", metavar="/NAME", help="as a slash command, e.g. /ops")
    parser.add_argument(
        "--url",
        default=os.environ.get("SANDBOX_URL") or f"http://127.0.0.1:{os.environ.get('PORT', DEFAULT_PORT)}",
        help="the sandbox (default http://127.0.0.1:$PORT, PORT defaulting to 3000)",
    )
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for the reply")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    base = args.url.rstrip("/")
    secret = _signing_secret()
    try:
        since = _last_seq(base)
        body, content_type = _body(args, base)
        status, answer, ms = _post(base, body, content_type, secret)
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        print(f"slackbot say: cannot reach the sandbox at {base} ({_reason(error)}); is `make run` running?")
        return 2
    print(f"ingest  → HTTP {status} in {ms:.0f} ms{(': ' + answer) if answer else ''}")
    if status != 200:
        return 1
    return _await_reply(base, since, args.timeout)


def _signing_secret() -> str:
    return (
        (os.environ.get("SLACK_SIGNING_SECRET") or read_env_file_secret() or payloads.DEV_SIGNING_SECRET)
        .split(",")[0]
        .strip()
    )


def read_env_file_secret() -> str:
    from pathlib import Path

    return read_env_file(Path(".env")).get("SLACK_SIGNING_SECRET", "")


def _body(args: argparse.Namespace, base: str) -> tuple[bytes, str]:
    if args.command:
        command = args.command if args.command.startswith("/") else "/" + args.command
        response_url = _get_json(f"{base}/sandbox/response_url", method="POST").get("response_url", "")
        if not response_url:  # real Slack mode: the reply goes to Slack, nowhere to read it here
            response_url = "https://hooks.slack.com/commands/T0001/0/sandbox"
        return payloads.slash_command(args.text, command=command, response_url=response_url), FORM
    if args.dm:
        return payloads.direct_message(
            args.text, channel=DM_CHANNEL, bot_user=BOT_USER_ID
        ), "application/json"
    return payloads.mention(
        f"<@{BOT_USER_ID}> {args.text}", channel=CHANNEL, bot_user=BOT_USER_ID
    ), "application/json"


def _post(base: str, body: bytes, content_type: str, secret: str) -> tuple[int, str, float]:
    headers = payloads.slack_headers(body, secret=secret, content_type=content_type)
    request = urllib.request.Request(f"{base}/slack/events", data=body, headers=headers, method="POST")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, text = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode("utf-8", "replace")
    ms = (time.monotonic() - started) * 1000
    with contextlib.suppress(ValueError, AttributeError):
        text = json.loads(text).get("text", text) if text else ""
    return status, str(text), ms


def _await_reply(base: str, since: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            print(f"no reply within {timeout:.0f} s")
            return 1
        data = _get_json(f"{base}/sandbox/messages?since={since}&wait={min(left, 10):.1f}")
        if data.get("mode") == "slack":
            print("sent: the reply goes to real Slack")
            return 0
        replies = [m for m in data.get("messages", []) if m.get("ok") and m.get("method") != "auth.test"]
        if replies:
            for reply in replies:
                print(f"bot     → {format_reply(reply)}")
            return 0
        since = max([since] + [int(m.get("seq", 0)) for m in data.get("messages", [])])


def _last_seq(base: str) -> int:
    messages = _get_json(f"{base}/sandbox/messages").get("messages", [])
    return max([0] + [int(m.get("seq", 0)) for m in messages])


def _get_json(url: str, method: str = "GET") -> dict[str, Any]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=40) as response:
            data = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            data = json.loads(error.read() or b"{}")
        except ValueError:
            data = {}
    return data if isinstance(data, dict) else {}


def _reason(error: BaseException) -> str:
    return str(getattr(error, "reason", error))
