"""The sandbox's console: one readable line per hop of each Slack event.

    17:40:01.123  received       event app_mention Ev0ABC123 from U0HUMAN in C0SANDBOX
    17:40:01.126  queued         sqs 1a2b3c4d  +3 ms
    17:40:01.131  picked up      sqs 1a2b3c4d  +8 ms
    17:40:01.140  slack          #C0SANDBOX ← pong (Slack → answer 17 ms, ingest → answer 14 ms)
    17:40:01.142  answered       sqs 1a2b3c4d  +19 ms

The lines are made from the functions' own structured log records (the same fields their JSON lines
carry on Lambda), so the console shows what really happened, not a second account of it. Lines come
in causal order (a message is queued before it is picked up, even when the worker's long poll hands
it over before the ingest has written its log line); a reply is printed whole, wrapped to the
terminal; durations past a second read in seconds, past a minute in minutes.
"""

from __future__ import annotations

import logging
import shutil
import sys
import textwrap
import threading
import time
from typing import Any, TextIO

from ops.render import printable
from sandbox.outcomes import Attempt, Ledger, Track
from sandbox.resources import MAX_RECEIVE_COUNT
from shared.log import redact

HOP_WIDTH = len("dead lettered") + 1  # the longest hop name and a space: every text starts in one column
CLOCK_WIDTH = len("17:40:01.123")
DEFAULT_WIDTH = 100  # when the output is not a terminal
RETRIED = frozenset({"failed", "not_started"})  # outcomes after which SQS delivers the message again


def duration(ms: float) -> str:
    """``412 ms``, ``12.3 s``, ``2 min 05 s``."""
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def reply_text(record: dict[str, Any]) -> tuple[str, str, str]:
    """Where a recorded Slack call went, its whole text, and its tags: ``("#C1 ← ", "pong", "")``."""
    args = record.get("args") or {}
    text = args.get("text") if isinstance(args.get("text"), str) else ""
    if not text and isinstance(args.get("blocks"), list):
        text = "\n".join(_block_texts(args["blocks"]))
    text = printable(text or "", multiline=True)
    method = record.get("method")
    channel = printable(str(args.get("channel", "?")))
    if record.get("kind") == "response_url":
        tags = [str(args["response_type"])] if isinstance(args.get("response_type"), str) else []
        tags += [name for name in ("replace", "delete") if args.get(f"{name}_original")]
        return "response_url ← ", text, f" ({', '.join(tags)})" if tags else ""
    if method == "chat.postMessage":
        thread = f" (thread {args['thread_ts']})" if args.get("thread_ts") else ""
        return f"#{channel} ← ", text, thread
    if method == "chat.postEphemeral":
        return f"#{channel} ← (only {printable(str(args.get('user', '?')))}) ", text, ""
    if method == "chat.update":
        return f"#{channel} ← (edit {printable(str(args.get('ts', '?')))}) ", text, ""
    outcome = "ok" if record.get("ok") else f"{record.get('status')} {record.get('error')}"
    return "", f"{method or record.get('path')} → {outcome}", ""


def reply_lines(record: dict[str, Any], width: int) -> list[str]:
    """A reply as lines of at most ``width`` characters: the first starts with where it went, the
    others are indented under the text."""
    where, text, tags = reply_text(record)
    indent = " " * (len(where) if len(where) <= width // 3 else 2)
    lines: list[str] = []
    for paragraph in (text + tags).split("\n") or [""]:
        first = where if not lines else indent
        wrapped = textwrap.wrap(
            paragraph,
            width=max(20, width),
            initial_indent=first,
            subsequent_indent=indent,
            break_on_hyphens=False,
        )
        lines.extend(wrapped or [first.rstrip()])
    return lines


def _block_texts(node: Any) -> list[str]:
    """The readable strings of a Block Kit structure, in order (button labels in brackets)."""
    if isinstance(node, list):
        return [text for item in node for text in _block_texts(item)]
    if not isinstance(node, dict):
        return []
    if node.get("type") == "button" and isinstance(node.get("text"), dict):
        return [f"[{node['text'].get('text', '')}]"]
    if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
        return [node["text"]]
    skipped = ("type", "block_id", "action_id", "url", "value", "image_url")
    return [text for key, value in node.items() if key not in skipped for text in _block_texts(value)]


class Console:
    """Writes the hop lines; holds back what the worker did until the ingest's line for it is out."""

    HOLD_SECONDS = 1.0  # a message never queued through this ingest (a redrive) is not waited for longer

    def __init__(self, stream: TextIO | None = None, width: int | None = None) -> None:
        self._stream = stream
        self._width = width
        self._lock = threading.RLock()
        self._started: dict[str, float] = {}  # sqs message id → when its request arrived (epoch)
        # A long poll can hand the worker a message before the ingest has written its log line, and the
        # worker may even answer before that: its lines wait here until the "queued" line is out.
        self._pending: dict[str, float] = {}  # message id → when it was picked up
        self._held: list[_Line] = []

    # ----- writing -----------------------------------------------------------------------------

    def line(self, hop: str, text: str, *, at: float | None = None, since: float | None = None) -> None:
        at = time.time() if at is None else at
        clock = time.strftime("%H:%M:%S", time.localtime(at)) + f".{int(at * 1000) % 1000:03d}"
        elapsed = f"  +{duration((at - since) * 1000)}" if since is not None else ""
        lines = textwrap.wrap(text + elapsed, self.text_width, break_on_hyphens=False) or [""]
        indent = " " * (CLOCK_WIDTH + 2 + HOP_WIDTH + 1)
        self._write(
            "\n".join([f"{clock}  {hop:<{HOP_WIDTH}} {lines[0]}", *(indent + more for more in lines[1:])])
        )

    def say(self, text: str) -> None:
        self._write(text)

    def _write(self, text: str) -> None:
        with self._lock:
            stream = self._stream or sys.stdout
            stream.write(text + "\n")
            stream.flush()

    @property
    def text_width(self) -> int:
        """Room for a line's text after the clock and the hop."""
        width = self._width or shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
        return max(40, width - CLOCK_WIDTH - 2 - HOP_WIDTH - 1)

    # ----- hops --------------------------------------------------------------------------------

    def ingest(self, fields: dict[str, Any], at: float) -> None:
        arrived = at - float(fields.get("ms", 0)) / 1000
        what = " ".join(str(fields[key]) for key in ("kind", "type") if fields.get(key))
        if fields.get("event_id"):
            what += f" {fields['event_id']}"
        who = f" from {fields['user']}" if fields.get("user") else ""
        where = f" in {fields['channel']}" if fields.get("channel") else ""
        retry = f" (Slack retry {fields['retry_num']})" if fields.get("retry_num") else ""
        outcome = str(fields.get("outcome", ""))
        message_id = str(fields.get("message_id") or "")
        with self._lock:
            self.line("received", printable(f"{what or 'request'}{who}{where}{retry}".strip()), at=arrived)
            if outcome != "queued" or not message_id:
                self.line("answered", f"HTTP {fields.get('status')} {outcome}", at=at, since=arrived)
                return
            self._started[message_id] = arrived
            picked_up = self._pending.pop(message_id, None)
            # It was queued before it was picked up, whenever the ingest got round to logging it.
            queued_at = min(at, picked_up) if picked_up is not None else at
            self.line("queued", f"sqs {message_id[:8]}", at=queued_at, since=arrived)
            self._release()

    def picked_up(self, message_id: str, receive_count: int = 1) -> None:
        now = time.time()
        text = f"sqs {message_id[:8]}"
        if receive_count > 1:
            text += f"  (receive {receive_count} of {MAX_RECEIVE_COUNT})"
        with self._lock:
            if message_id not in self._started and message_id not in self._pending:
                self._pending[message_id] = now  # its "queued" line may still be on its way
                timer = threading.Timer(self.HOLD_SECONDS, self._give_up_waiting, [message_id])
                timer.daemon = True
                timer.start()
            self._emit_or_hold(_Line("picked up", text, now, message_id))

    def record(self, fields: dict[str, Any]) -> None:
        message_id = str(fields.get("message_id", ""))
        outcome = str(fields.get("outcome", ""))
        hop = outcome.replace("_", " ")
        reason = (
            f"  ({redact(printable(str(fields['reason'])))})"
            if fields.get("reason") and outcome != "answered"
            else ""
        )
        with self._lock:
            self._emit_or_hold(
                _Line(hop, f"sqs {message_id[:8]}{reason}", time.time(), message_id, outcome not in RETRIED)
            )

    def reply(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._emit_or_hold(_Line("slack", "", time.time(), reply=record))

    def moved_to_dead_letters(self, track: Track, attempt: Attempt) -> None:
        """SQS moved a message to the DLQ after its last receive (the sandbox saw the DLQ grow)."""
        text = f"sqs {track.message_id[:8]}  (SQS moved it to the DLQ: {redact(printable(attempt.reason))})"
        with self._lock:
            self._emit_or_hold(_Line("dead lettered", text, attempt.at, track.message_id, finished=True))

    # ----- holding back and letting go -----------------------------------------------------------

    def _emit_or_hold(self, line: _Line) -> None:
        if self._pending:
            self._held.append(line)
        else:
            self._emit(line)

    def _give_up_waiting(self, message_id: str) -> None:
        with self._lock:
            if self._pending.pop(message_id, None) is not None:
                self._release()

    def _release(self) -> None:
        if self._pending:
            return
        held, self._held = self._held, []
        for line in held:
            self._emit(line)

    def _emit(self, line: _Line) -> None:
        if line.reply is not None:
            lines = reply_lines(line.reply, self.text_width)
            self.line("slack", lines[0] if lines else "", at=line.at)
            indent = " " * (CLOCK_WIDTH + 2 + HOP_WIDTH + 1)
            for more in lines[1:]:
                self._write(indent + more)
            return
        started = self._started.get(line.message_id) if line.message_id else None
        if line.finished and line.message_id:
            self._started.pop(line.message_id, None)
        self.line(line.hop, line.text, at=line.at, since=started)

    # ----- the ledger's view ---------------------------------------------------------------------

    def watch(self, ledger: Ledger) -> None:
        """Print SQS's moves to the DLQ that ``ledger`` detects."""
        ledger.on_moved = self.moved_to_dead_letters


class _Line:
    """A hop line waiting to be written."""

    def __init__(
        self,
        hop: str,
        text: str,
        at: float,
        message_id: str = "",
        finished: bool = False,
        reply: dict[str, Any] | None = None,
    ) -> None:
        self.hop = hop
        self.text = text
        self.at = at
        self.message_id = message_id
        self.finished = finished  # the message's last line: its start is forgotten
        self.reply = reply


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


def install(console: Console, *also: logging.Handler) -> None:
    """Replace the JSON lines of the ``slackbot`` loggers with console hops (and ``also``' handlers)."""
    root = logging.getLogger("slackbot")
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in (*also, ConsoleLogHandler(console)):
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False
