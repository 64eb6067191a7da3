"""``slackbot dlq list | show | redrive | drop``: what died, why, and putting it back (or away).

Reading the dead-letter queue never removes anything: messages are received with a short visibility
timeout and made visible again at once (``worker.deadletters``). Each read adds one to SQS's receive
count of the messages read.

What a dead letter says came from outside (a Slack user's text, a server's error): nothing of it
reaches the terminal with its control characters (``ops.render.printable``, ``terminal_json``).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ops import aws, config, redrive
from ops.failures import ExitCode
from ops.render import age, excerpt, iso, printable, table, terminal_json
from ops.selection import ID_HELP, explainer, identifier, locate, plural, report_ambiguous, select
from worker import deadletters
from worker.deadletters import DeadLetter

LIST_HOLD_SECONDS = 30  # how long a listed message is hidden if the command dies mid-scan
TEXT_WIDTH = 40
REASON_WIDTH = 60


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="dlq_command", required=True, metavar="COMMAND")
    listing = commands.add_parser(
        "list",
        help="a table of the dead messages and why each died",
        description="AGE counts from SQS's SentTimestamp: when the worker dead-lettered the message, or,"
        " for one SQS moved after 5 receives, when it was first queued. RECV is SQS's receive count (each"
        " read of the DLQ adds one). The reason is the worker's reason attribute, else the state"
        " table's last error.",
    )
    listing.add_argument("--json", action="store_true", help="a JSON list, for scripts (full reasons)")
    listing.add_argument(
        "--limit", type=count, default=100, metavar="N", help="read at most N messages (100)"
    )
    listing.set_defaults(run=run_list)
    show = commands.add_parser(
        "show",
        help="one dead message: envelope, attributes, error history",
        description=ID_HELP,
    )
    show.add_argument("id", metavar="ID", type=identifier, help="an id, or a unique prefix of one (below)")
    show.set_defaults(run=run_show)
    redrive.add_arguments(
        commands.add_parser("redrive", help="move dead messages back to the work queue, after a fix")
    )
    drop = commands.add_parser("drop", help="delete chosen dead messages for good", description=ID_HELP)
    drop.add_argument(
        "ids", nargs="+", metavar="ID", type=identifier, help="ids, or unique prefixes of them (below)"
    )
    drop.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    drop.set_defaults(run=run_drop)
    for command in (listing, show, drop):
        config.add_arguments(command)


def run_list(args: argparse.Namespace) -> int:
    settings = config.load(args, "dlq_url", "table")
    sqs = aws.client("sqs")
    waiting = deadletters.depth(sqs, settings.dlq_url)
    dead = deadletters.scan(sqs, settings.dlq_url, limit=args.limit, hold_seconds=LIST_HOLD_SECONDS)
    deadletters.explain(dead, aws.client("dynamodb"), settings.table)
    now = time.time()
    if args.json:
        print(terminal_json([describe(letter, now) for letter in dead]))
        return ExitCode.OK
    if not dead:
        print("The dead-letter queue is empty.")
        return ExitCode.OK
    print(_table(dead, now))
    print(
        f"\n{plural(len(dead), 'dead letter')} shown; SQS counts {waiting['visible']} waiting"
        f" and {waiting['in_flight']} in flight."
        + (" Use --limit to see more." if waiting["visible"] > len(dead) else "")
    )
    return ExitCode.OK


def describe(letter: DeadLetter, now: float) -> dict[str, Any]:
    """One dead letter as the list shows it (the reason in full), every text printable."""
    summary = {name: printable(str(value)) for name, value in letter.summary().items()}
    return {
        "id": letter.message_id,
        "age": age(now - letter.sent_at),
        "age_seconds": int(now - letter.sent_at),
        "sent_at": iso(letter.sent_at),
        "receive_count": letter.receive_count,
        "kind": summary.get("kind", ""),
        "team": summary.get("team", ""),
        "channel": summary.get("channel", ""),
        "user": summary.get("user", ""),
        "event_id": summary.get("event_id", ""),
        "text": excerpt(letter.text(), TEXT_WIDTH),
        "readable": letter.readable,
        "category": printable(letter.category),
        "reason": printable(letter.reason or "unknown"),
    }


def _table(dead: list[DeadLetter], now: float) -> str:
    headers = ["ID", "AGE", "RECV", "CATEGORY", "KIND", "TEAM", "CHANNEL", "USER", "TEXT", "REASON"]
    rows = []
    for letter in dead:
        row = describe(letter, now)
        text = row["text"] if letter.readable else "[unreadable] " + row["text"]
        rows.append(
            [
                row["id"],
                row["age"],
                str(row["receive_count"]),
                row["category"],
                *(row[name] or "-" for name in ("kind", "team", "channel", "user")),
                text or "-",
                excerpt(row["reason"], REASON_WIDTH),
            ]
        )
    return table(headers, rows)


def run_show(args: argparse.Namespace) -> int:
    settings = config.load(args, "dlq_url", "table")
    sqs = aws.client("sqs")
    lookup = locate(sqs, settings.dlq_url, [args.id])
    deadletters.release(sqs, settings.dlq_url, [letter.receipt_handle for letter in lookup.letters])
    if lookup.ambiguous:
        report_ambiguous(lookup.ambiguous, explainer(settings.table))
        return ExitCode.USAGE
    if not lookup.letters:
        print(f"not in the dead-letter queue: {args.id}", file=sys.stderr)
        return ExitCode.NOTHING
    deadletters.explain(lookup.letters, aws.client("dynamodb"), settings.table)
    print(_details(lookup.letters[0], time.time()))
    return ExitCode.OK


def _details(letter: DeadLetter, now: float) -> str:
    header = table(
        ["message id", letter.message_id],
        [
            ["source id", letter.source_message_id],
            ["event id", letter.event_id or "-"],
            ["sent", f"{iso(letter.sent_at)} ({age(now - letter.sent_at)} ago)"],
            ["receives", str(letter.receive_count)],
            ["category", letter.category],
            ["reason", letter.reason or "unknown"],
        ],
    )
    if letter.envelope is not None:
        body = "envelope:\n" + terminal_json(letter.envelope)
    else:
        body = "body (not a readable envelope):\n" + printable(letter.body, multiline=True)
    attributes = [
        [f"  {name}", str(value.get("StringValue", value.get("BinaryValue", ""))), value.get("DataType", "")]
        for name, value in sorted(letter.message_attributes.items())
    ]
    history = [f"  {printable(str(entry))}" for entry in letter.errors] or ["  (none recorded)"]
    return "\n\n".join(
        [
            header,
            body,
            "message attributes:\n"
            + (table(["  name", "value", "type"], attributes) if attributes else "  none"),
            "error history (state table, oldest first):\n" + "\n".join(history),
        ]
    )


def run_drop(args: argparse.Namespace) -> int:
    settings = config.load(args, "dlq_url")
    sqs = aws.client("sqs")
    chosen = select(
        sqs,
        settings.dlq_url,
        args.ids,
        question=lambda n: f"Drop {plural(n, 'message')} from {settings.dlq_url} for good?",
        assume_yes=args.yes,
        explain=explainer(settings.table),
    )
    if chosen.declined or not chosen.letters:
        print("Nothing dropped.", file=sys.stderr)
        return ExitCode.USAGE if chosen.ambiguous else ExitCode.NOTHING
    if settings.table:  # the reason, when the state table knows it, for the record
        deadletters.explain(chosen.letters, aws.client("dynamodb"), settings.table)
    for index, letter in enumerate(chosen.letters):
        try:
            sqs.delete_message(QueueUrl=settings.dlq_url, ReceiptHandle=letter.receipt_handle)
        except BaseException:
            deadletters.release(sqs, settings.dlq_url, [d.receipt_handle for d in chosen.letters[index:]])
            raise
        print(f"dropped {letter.message_id}  {printable(_what(letter))}")
    return ExitCode.NOTHING if chosen.missing else ExitCode.OK


def _what(letter: DeadLetter) -> str:
    summary = letter.summary()
    where = " ".join(summary[k] for k in ("kind", "team", "channel", "user") if summary.get(k))
    return f"{where or 'unreadable body'}: {letter.reason or 'unknown reason'}"


def count(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number
