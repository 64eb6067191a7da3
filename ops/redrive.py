"""``slackbot dlq redrive [ID … | --all]``: dead messages back onto the work queue, after a fix.

Message by message, each is sent to the work queue with its body and message attributes (minus the
the reason, category and source_message_id the worker added) and deleted from the dead-letter queue only once the send
succeeded: a crash in between leaves a duplicate, which the worker's dedupe absorbs, never a loss.

``--all`` first asks SQS to do it with a message-move task (``StartMessageMoveTask``), followed with
``ListMessageMoveTasks``; SQS moves the messages as they are, the worker's reason attributes included (they
are informative only). Where the endpoint has no move task (moto, a missing permission), it moves
message by message, at most as many as were waiting when it started, so that messages dying again
meanwhile are not sent round in a loop.

A slash command or a click on an ephemeral message is answered through its ``response_url``, which Slack
takes only within 30 minutes: a redriven one older than that is answered
with ``chat.postEphemeral`` to the same user (or a direct message) instead, and the redrive says how many
it moved (``--all`` counts what waited in the dead-letter queue when it started).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ops import aws, config
from ops.config import Config
from ops.failures import CREDENTIAL_CODES, ExitCode, OpsError, error_code, from_aws
from ops.render import Progress, confirm
from ops.selection import HOLD_SECONDS, ID_HELP, explainer, identifier, plural, select
from shared import envelope as schema
from worker import deadletters
from worker.deadletters import DeadLetter

WORKER_ATTRIBUTES = frozenset({schema.DEAD_REASON, schema.DEAD_CATEGORY, schema.DEAD_SOURCE_ID})
MOVE_TASK_POLL_SECONDS = 2.0
# A missing permission for the move task is no reason to stop: message by message needs other ones.
_FALL_BACK_ON = frozenset({"AccessDenied", "AccessDeniedException"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ID_HELP
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "ids",
        nargs="*",
        default=[],
        metavar="ID",
        type=identifier,
        help="ids, or unique prefixes of them (below)",
    )
    which.add_argument("--all", action="store_true", help="every message waiting in the dead-letter queue")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    config.add_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = config.load(args, "queue_url", "dlq_url")
    if args.all:
        return _redrive_all(settings, assume_yes=args.yes)
    return _redrive_ids(settings, args.ids, assume_yes=args.yes)


def _redrive_ids(settings: Config, ids: list[str], *, assume_yes: bool) -> int:
    sqs = aws.client("sqs")
    chosen = select(
        sqs,
        settings.dlq_url,
        ids,
        question=lambda n: f"Redrive {plural(n, 'message')} to {settings.queue_url}?",
        assume_yes=assume_yes,
        explain=explainer(settings.table),
    )
    if chosen.declined or not chosen.letters:
        print("Nothing redriven.", file=sys.stderr)
        return ExitCode.USAGE if chosen.ambiguous else ExitCode.NOTHING
    progress = Progress("redrive", len(chosen.letters)) if len(chosen.letters) > 1 else None
    moved = move_each(sqs, chosen.letters, settings, progress)
    _finish(progress, moved, settings, expired_response_urls(chosen.letters[:moved]))
    return ExitCode.NOTHING if chosen.missing else ExitCode.OK


def _redrive_all(settings: Config, *, assume_yes: bool) -> int:
    sqs = aws.client("sqs")
    waiting = deadletters.depth(sqs, settings.dlq_url)["visible"]
    if waiting == 0:
        print("The dead-letter queue is empty: nothing to redrive.", file=sys.stderr)
        return ExitCode.NOTHING
    if not confirm(f"Redrive {plural(waiting, 'message')} to {settings.queue_url}?", assume_yes=assume_yes):
        print("Nothing redriven.", file=sys.stderr)
        return ExitCode.NOTHING
    # Read before the move: a message-move task moves messages unseen. Every read adds one to a dead
    # letter's receive count, which only informs (the dead-letter queue has no redrive policy of its own).
    expired = expired_response_urls(deadletters.scan(sqs, settings.dlq_url, limit=waiting))
    progress = Progress("redrive", waiting)
    moved = redrive_all(sqs, aws.client("sqs", retries=False), settings, progress, waiting)
    _finish(progress, moved, settings, expired)
    return ExitCode.OK


def redrive_all(
    sqs: Any,
    probe: Any,
    settings: Config,
    progress: Progress,
    waiting: int,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """SQS's message-move task where the endpoint has one (``probe``: a client without retries),
    else message by message. Returns how many were moved."""
    source, destination = _arn(sqs, settings.dlq_url), _arn(sqs, settings.queue_url)
    try:
        probe.start_message_move_task(SourceArn=source, DestinationArn=destination)
    except ClientError as error:
        if error_code(error) in CREDENTIAL_CODES - _FALL_BACK_ON:
            raise
        print(
            f"SQS message-move task not available ({error_code(error) or 'error'}): moving message by message",
            file=sys.stderr,
        )
        return _move_all_by_message(sqs, settings, progress, waiting)
    try:
        return follow_move_task(sqs, source, progress, sleep=sleep)
    except KeyboardInterrupt:
        print(
            "\nThe message-move task keeps running in SQS (see the SQS console's DLQ redrive page).",
            file=sys.stderr,
        )
        raise


def follow_move_task(
    sqs: Any, source_arn: str, progress: Progress, *, sleep: Callable[[float], None] = time.sleep
) -> int:
    """Follow the newest move task of ``source_arn`` to its end; the number of messages moved."""
    while True:
        tasks = sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=1).get("Results", [])
        if not tasks:
            raise OpsError("the message-move task vanished: see the SQS console", ExitCode.AWS)
        task = tasks[0]
        moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
        progress.update(moved, task.get("ApproximateNumberOfMessagesToMove"))
        status = task.get("Status", "")
        if status == "COMPLETED":
            return moved
        if status in ("FAILED", "CANCELLED"):
            reason = task.get("FailureReason") or "no reason given"
            raise OpsError(
                f"the message-move task ended {status} after {moved} messages ({reason});"
                " the rest are still in the dead-letter queue",
                ExitCode.AWS,
            )
        sleep(MOVE_TASK_POLL_SECONDS)


def _move_all_by_message(sqs: Any, settings: Config, progress: Progress, waiting: int) -> int:
    moved = 0
    for batch in deadletters.held(sqs, settings.dlq_url, hold_seconds=HOLD_SECONDS, limit=waiting):
        moved += move_each(sqs, batch, settings, progress)
    return moved


def move_each(sqs: Any, letters: list[DeadLetter], settings: Config, progress: Progress | None) -> int:
    """Send each (held) letter to the work queue, then delete it from the DLQ. What was not moved is
    made visible again; a failure stops the move and says how far it got."""
    moved = 0
    try:
        for letter in letters:
            new_id = _send_then_delete(sqs, letter, settings)
            moved += 1
            print(f"redriven {letter.message_id} → {new_id}")
            if progress is not None:
                progress.advance()
    finally:
        deadletters.release(sqs, settings.dlq_url, [letter.receipt_handle for letter in letters[moved:]])
    return moved


def _send_then_delete(sqs: Any, letter: DeadLetter, settings: Config) -> str:
    try:
        sent = sqs.send_message(
            QueueUrl=settings.queue_url,
            MessageBody=letter.body,
            MessageAttributes=original_attributes(letter),
        )
    except (BotoCoreError, ClientError) as error:
        failure = from_aws(error)
        raise OpsError(
            f"could not send {letter.message_id} back (it stays dead): {failure}", failure.code
        ) from None
    try:
        sqs.delete_message(QueueUrl=settings.dlq_url, ReceiptHandle=letter.receipt_handle)
    except (BotoCoreError, ClientError) as error:
        failure = from_aws(error)
        raise OpsError(
            f"sent {letter.message_id} back as {sent['MessageId']} but could not delete it from the"
            f" dead-letter queue, where a duplicate stays (the worker's dedupe absorbs it): {failure}",
            failure.code,
        ) from None
    return str(sent["MessageId"])


def original_attributes(letter: DeadLetter) -> dict[str, dict[str, Any]]:
    """The message attributes as they were before dying: without the worker's reason attributes, and in
    the shape SendMessage takes (SQS's reserved list fields left out)."""
    kept: dict[str, dict[str, Any]] = {}
    for name, value in letter.message_attributes.items():
        if name in WORKER_ATTRIBUTES:
            continue
        kept[name] = {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
    return kept


def _arn(sqs: Any, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    return str(attributes["QueueArn"])


def expired_response_urls(letters: list[DeadLetter], now: float | None = None) -> int:
    """How many of ``letters`` the worker will answer without their ``response_url``, past use by now."""
    at = time.time() if now is None else now
    return sum(
        1
        for letter in letters
        if letter.envelope is not None and schema.carries_expired_response_url(letter.envelope, at)
    )


def _finish(progress: Progress | None, moved: int, settings: Config, expired: int) -> None:
    if progress is not None:
        progress.finish()
    print(f"{plural(moved, 'message')} redriven to {settings.queue_url}.", file=sys.stderr)
    if expired:
        carry, they = ("carries", "it") if expired == 1 else ("carry", "they")
        print(
            f"{expired} {carry} an expired response_url: {they} will be answered with chat.postEphemeral"
            " to the same user (or a DM).",
            file=sys.stderr,
        )
