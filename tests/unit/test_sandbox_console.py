"""The sandbox's console: replies whole and wrapped, one text column, causal order, readable durations."""

from __future__ import annotations

import io
import re
import threading

import pytest

from sandbox.console import HOP_WIDTH, Console, duration, reply_lines
from sandbox.outcomes import Attempt, Track

HELP = (
    "Here is what I can do:\n"
    "• `check`: HTTPS health check of each URL: status, latency, certificate days left\n"
    "• `dlq`: how many events died, and why (in the ops channel)\n"
    "• `help`: list what I can do\n"
    "• `ping`: answer `pong` with the pipeline's latency"
)
LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3}  (.{" + str(HOP_WIDTH) + r"}) (\S.*)$")


class Screen(io.StringIO):
    """A stream a test can wait on: ``wait_for(text)`` returns once ``text`` has been written."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = threading.Condition()

    def write(self, text: str) -> int:
        with self.changed:
            written = super().write(text)
            self.changed.notify_all()
        return written

    def wait_for(self, text: str, timeout: float = 5.0) -> str:
        with self.changed:
            assert self.changed.wait_for(lambda: text in self.getvalue(), timeout), self.getvalue()
            return self.getvalue()


def parts(line: str) -> tuple[str, int]:
    """A hop line's hop name and the column its text starts at."""
    match = LINE.match(line)
    assert match is not None, line
    return match.group(1).strip(), match.start(2)


def post(text: str, channel: str = "C0SANDBOX") -> dict[str, object]:
    return {
        "kind": "api",
        "method": "chat.postMessage",
        "ok": True,
        "args": {"channel": channel, "text": text},
    }


def ingest_fields(message_id: str) -> dict[str, object]:
    return {
        "outcome": "queued",
        "kind": "event",
        "type": "app_mention",
        "event_id": "Ev0CONSOLE",
        "user": "U0HUMAN",
        "channel": "C0SANDBOX",
        "message_id": message_id,
        "ms": 12,
        "status": 200,
    }


@pytest.mark.parametrize(
    ("ms", "shown"),
    [(0.4, "0 ms"), (412, "412 ms"), (12_345, "12.3 s"), (59_949, "59.9 s"), (125_000, "2 min 05 s")],
)
def test_durations_past_a_second_read_in_seconds_and_past_a_minute_in_minutes(ms: float, shown: str) -> None:
    assert duration(ms) == shown


def test_a_long_reply_is_printed_whole_and_wrapped() -> None:
    lines = reply_lines(post(HELP), 60)
    assert lines[0] == "#C0SANDBOX ← Here is what I can do:"
    assert all(len(line) <= 60 for line in lines)
    assert "…" not in "".join(lines)
    assert " ".join(" ".join(lines).split()) == " ".join(f"#C0SANDBOX ← {HELP}".split())
    assert all(line.startswith(" " * len("#C0SANDBOX ← ")) for line in lines[1:])


def test_the_console_prints_a_reply_whole_under_the_text_column() -> None:
    screen = Screen()
    Console(screen, width=100).reply(post(HELP))
    printed = screen.getvalue().splitlines()
    assert len(printed) >= 5
    assert "• `ping`: answer `pong` with the pipeline's latency" in " ".join(" ".join(printed).split())
    column = parts(printed[0])[1]
    assert all(line.startswith(" " * column) for line in printed[1:])


def test_every_hop_keeps_one_text_column_even_dead_lettered() -> None:
    screen = Screen()
    console = Console(screen, width=200)
    console.ingest(ingest_fields("m-1"), 1_700_000_000.0)
    console.picked_up("m-1")
    console.record({"message_id": "m-1", "outcome": "failed", "reason": "slack chat.postMessage: HTTP 503"})
    console.picked_up("m-1", receive_count=2)
    console.record({"message_id": "m-1", "outcome": "dead_lettered", "reason": "slack error: not_in_channel"})
    lines = screen.getvalue().splitlines()
    assert len({parts(line)[1] for line in lines}) == 1 and len(lines) == 6, lines
    assert [parts(line)[0] for line in lines] == [
        "received",
        "queued",
        "picked up",
        "failed",
        "picked up",
        "dead lettered",
    ]
    assert "(receive 2 of 5)" in lines[4]


def test_what_the_worker_did_before_the_ingest_logged_waits_for_the_ingest_line() -> None:
    screen = Screen()
    console = Console(screen, width=200)
    # A long poll hands the message over, and the worker answers, before the ingest writes its line.
    console.picked_up("m-early")
    console.reply(post("pong"))
    console.record({"message_id": "m-early", "outcome": "answered"})
    assert screen.getvalue() == ""
    console.ingest(ingest_fields("m-early"), 1_700_000_000.0)
    hops = [parts(line)[0] for line in screen.getvalue().splitlines()]
    assert hops == ["received", "queued", "picked up", "slack", "answered"]


def test_a_message_never_queued_here_is_not_waited_for_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Console, "HOLD_SECONDS", 0.05)
    screen = Screen()
    console = Console(screen, width=200)
    console.picked_up("m-redriven")  # a redrive: no ingest line will ever come
    console.record({"message_id": "m-redriven", "outcome": "answered"})
    printed = screen.wait_for("answered")
    assert "picked up" in printed.splitlines()[0]


def test_an_sqs_move_to_the_dead_letter_queue_is_a_line_with_its_reason() -> None:
    screen = Screen()
    console = Console(screen, width=300)
    track = Track("m-moved", "message:T:C:1", receive_count=5)
    console.moved_to_dead_letters(
        track,
        Attempt("dead_lettered", "retries exhausted after 5 receives: slack HTTP 503", 1_700_000_000.0, 5),
    )
    (line,) = screen.getvalue().splitlines()
    assert "dead lettered" in line and "SQS moved it to the DLQ: retries exhausted after 5 receives" in line


def test_a_message_put_back_unstarted_keeps_counting_from_its_arrival() -> None:
    screen = Screen()
    console = Console(screen, width=200)
    console.ingest(ingest_fields("m-1"), 1_700_000_000.0)
    console.record({"message_id": "m-1", "outcome": "not_started", "reason": "too little time left"})
    console.picked_up("m-1", receive_count=2)
    assert re.search(r"receive 2 of 5\)  \+\S", screen.getvalue().splitlines()[-1]), screen.getvalue()
