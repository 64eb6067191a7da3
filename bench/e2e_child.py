"""Figure 4's measuring process: the sandbox stack in this process, and a client that pings it.

``python -m bench.e2e_child PINGS WARMUP`` starts ``sandbox.stack.Stack`` (moto, the ingest behind
its HTTP front, the SQS poller, the worker, the Slack stand-in) exactly as ``make run`` does, then
sends PINGS signed ``<@UBOT> ping`` mentions one at a time over HTTP, and long-polls
``GET /sandbox/messages?since=N&wait=S`` for each reply. It records, per ping, when each hop
happened, from the functions' own log records (the console the sandbox prints is built from them)
and from timers wrapped around the worker's claim and reply. Prints ``BENCH_RESULT {json}``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

from bench.hops import HopRecorder
from sandbox.console import Console
from sandbox.moto import free_port
from sandbox.slack_payloads import DEV_SIGNING_SECRET, mention, slack_headers
from sandbox.stack import Options, Stack


class HopConsole(Console):
    """The sandbox's console, recording when each hop happened instead of printing it."""

    def __init__(self, worker: HopRecorder) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.worker = worker  # sqs message id → hops of the worker
        self.by_event: dict[str, dict[str, float]] = {}  # event or correlation id → hops of the ingest
        self.message_of: dict[str, str] = {}  # event or correlation id → sqs message id

    def hop(self, message_id: str, name: str) -> None:
        self.worker.hop(message_id, name)

    def hops(self, event_id: str) -> dict[str, float]:
        with self.lock:
            hops = dict(self.by_event.get(event_id, {}))
            message_id = self.message_of.get(event_id, "")
        return {**hops, **self.worker.of(message_id)}

    def ingest(self, fields: dict[str, Any], at: float) -> None:
        # An event is known by its event id, a command by its correlation id (``command:<trigger id>``).
        ids = {str(fields[name]) for name in ("event_id", "correlation_id") if fields.get(name)}
        with self.lock:
            for known_as in ids:
                self.by_event[known_as] = {"arrived": at - float(fields.get("ms", 0)) / 1000, "queued": at}
                if fields.get("message_id"):
                    self.message_of[known_as] = str(fields["message_id"])

    def picked_up(self, message_id: str, receive_count: int = 1) -> None:
        self.hop(message_id, "picked_up")

    def record(self, fields: dict[str, Any]) -> None:
        self.hop(str(fields.get("message_id", "")), "answered")

    def reply(self, record: dict[str, Any]) -> None:
        pass


@contextlib.contextmanager
def sandbox() -> Iterator[tuple[Stack, HopConsole]]:
    """The sandbox stack as ``make run`` starts it (with the stand-in, never real Slack), its console
    recording hops; the worker's steps are timed from the moment it is up."""
    os.environ.pop("SLACK_BOT_TOKEN", None)  # never real Slack: the stand-in answers
    os.environ["SLACK_SIGNING_SECRET"] = DEV_SIGNING_SECRET
    os.environ.pop("AWS_ENDPOINT_URL", None)  # the stack starts its own moto
    recorder = HopRecorder()
    console = HopConsole(recorder)
    stack = Stack(Options(port=free_port(), env_file=None), console=console)
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        stack.start()
    try:
        assert stack.front is not None and stack.slack is not None, "the stand-in must answer, not Slack"
        recorder.instrument()
        yield stack, console
    finally:
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            stack.stop()


def post_signed(url: str, body: bytes, content_type: str = "application/json") -> tuple[float, float]:
    """POST a signed request to the sandbox's ``/slack/events``; when it was sent and when the ack came."""
    headers = slack_headers(body, secret=DEV_SIGNING_SECRET, content_type=content_type)
    request = urllib.request.Request(f"{url}/slack/events", data=body, headers=headers)
    sent = time.time()
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()
        status = answer.status
    if status != 200:
        raise RuntimeError(f"the ingest answered HTTP {status}")
    return sent, time.time()


def main(argv: list[str]) -> int:
    pings, warmup = int(argv[0]), int(argv[1])
    with sandbox() as (stack, console):
        assert stack.front is not None
        url = stack.front.url
        seq = 0
        results: list[dict[str, float]] = []
        for number in range(warmup + pings):
            event_id = f"EvBENCH{number:06d}"
            body = mention("<@UBOT> ping", channel="C0SANDBOX", event_id=event_id, ts=f"{time.time():.6f}")
            sent, acked = post_signed(url, body)
            reply: dict[str, Any] | None = None
            while reply is None:
                with urllib.request.urlopen(f"{url}/sandbox/messages?since={seq}&wait=5", timeout=10) as got:
                    messages = json.loads(got.read())["messages"]
                if not messages:
                    raise RuntimeError(f"no reply to ping {number} within 5 s")
                seq = max(seq, *(int(m["seq"]) for m in messages))
                reply = next((m for m in messages if str(m["args"].get("text", "")).startswith("pong")), None)
            seen = time.time()
            if number < warmup:
                continue
            hops = console.hops(event_id)
            hops.update(sent=sent, acked=acked, replied=float(reply["at"]), seen=seen)
            results.append(hops)
        # The last record's "answered" comes after its reply: let it land.
        time.sleep(0.2)
        for hops, number in zip(results, range(warmup, warmup + pings), strict=True):
            hops.update(console.hops(f"EvBENCH{number:06d}"))
        sys.stdout.write("BENCH_RESULT " + json.dumps({"pings": results}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
