"""The sandbox's console: one readable line per hop of each Slack event.

    17:40:01.123  received   event app_mention Ev0ABC123 from U0HUMAN in C0SANDBOX
    17:40:01.126  queued     sqs 1a2b3c4d                       +3 ms
    17:40:01.131  picked up  sqs 1a2b3c4d                       +8 ms
    17:40:01.140  slack      #C0SANDBOX ← pong (Slack → answer 17 ms, ingest → answer 14 ms)
    17:40:01.142  answered   sqs 1a2b3c4d                       +19 ms

The lines are made from the functions' own structured log records (the same fields their JSON lines
carry on Lambda), so the console shows what really happened, not a second account of it.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any, TextIO

from sandbox.slack_standin import format_reply
from shared.log import redact


class Console:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}  # sqs message id → when its request arrived (epoch)
        # A long poll can hand the worker a message before the ingest has written its log line:
        # such a "picked up" waits here until its "queued" line is out, so lines stay in hop order.
        self._early: dict[str, float] = {}

    def line(self, hop: str, text: str, *, at: float | None = None, since: float | None = None) -> None:
        at = time.time() if at is None else at
        clock = time.strftime("%H:%M:%S", time.localtime(at)) + f".{int(at * 1000) % 1000:03d}"
        elapsed = f"  +{(at - since) * 1000:.0f} ms" if since is not None else ""
        with self._lock:
            stream = self._stream or sys.stdout
            stream.write(f"{clock}  {hop:<10} {text}{elapsed}\n")
            stream.flush()

    def say(self, text: str) -> None:
        with self._lock:
            stream = self._stream or sys.stdout
            stream.write(text + "\n")
            stream.flush()

    # ----- hops --------------------------------------------------------------------------------

    def ingest(self, fields: dict[str, Any], at: float) -> None:
        arrived = at - float(fields.get("ms", 0)) / 1000
        what = " ".join(
            str(fields[key]) for key in ("kind", "type", "event_id") if fields.get(key) and key != "event_id"
        )
        if fields.get("event_id"):
            what += f" {fields['event_id']}"
        who = f" from {fields['user']}" if fields.get("user") else ""
        where = f" in {fields['channel']}" if fields.get("channel") else ""
        retry = f" (Slack retry {fields['retry_num']})" if fields.get("retry_num") else ""
        outcome = str(fields.get("outcome", ""))
        self.line("received", f"{what or 'request'}{who}{where}{retry}".strip(), at=arrived)
        message_id = fields.get("message_id")
        if outcome == "queued" and message_id:
            self._started[str(message_id)] = arrived
            self.line("queued", f"sqs {str(message_id)[:8]}", at=at, since=arrived)
            early = self._early.pop(str(message_id), None)
            if early is not None:
                self.line("picked up", f"sqs {str(message_id)[:8]}", at=early, since=arrived)
        else:
            self.line("answered", f"HTTP {fields.get('status')} {outcome}", at=at, since=arrived)

    def picked_up(self, message_id: str) -> None:
        if message_id not in self._started:  # its "queued" line may still be on its way
            self._early[message_id] = time.time()
            return
        self.line("picked up", f"sqs {message_id[:8]}", since=self._started.get(message_id))

    def _flush_early(self, message_id: str) -> None:
        early = self._early.pop(message_id, None)
        if early is not None:  # never queued through this ingest (a redrive, a test): print it as it was
            self.line("picked up", f"sqs {message_id[:8]}", at=early)

    def record(self, fields: dict[str, Any]) -> None:
        message_id = str(fields.get("message_id", ""))
        self._flush_early(message_id)
        outcome = str(fields.get("outcome", ""))
        hop = "answered" if outcome == "answered" else outcome.replace("_", " ")
        reason = f"  ({fields['reason']})" if fields.get("reason") and outcome != "answered" else ""
        since = self._started.pop(message_id, None) if outcome != "failed" else self._started.get(message_id)
        self.line(hop, f"sqs {message_id[:8]}{reason}", since=since)

    def reply(self, record: dict[str, Any]) -> None:
        for message_id in list(self._early):
            self._flush_early(message_id)
        self.line("slack", format_reply(record))


class ConsoleLogHandler(logging.Handler):
    """Turns the functions' structured log records into console hops; everything else is printed plainly."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = getattr(record, "fields", None) or {}
            if record.name == "slackbot.ingest" and "outcome" in fields:
                self.console.ingest(fields, record.created)
            elif record.name == "slackbot.worker" and record.getMessage() == "record":
                self.console.record(fields)
            elif record.name == "slackbot.worker" and record.getMessage() == "batch":
                return
            elif record.levelno >= logging.WARNING:
                self.console.line(record.levelname.lower(), redact(record.getMessage()))
        except Exception:
            self.handleError(record)


def install(console: Console) -> None:
    """Replace the JSON lines of the ``slackbot`` loggers with console hops."""
    root = logging.getLogger("slackbot")
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(ConsoleLogHandler(console))
    root.setLevel(logging.INFO)
    root.propagate = False
