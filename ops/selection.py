"""Choosing dead letters by id for ``dlq show``, ``redrive`` and ``drop``: find, confirm, hold.

An id given on the command line may be any unique prefix of one of three ids of a dead letter: its own
(``dlq list``'s ID), the work queue message id it came from (``source_message_id``; the id the
sandbox's console prints) or Slack's event id. A string equal to one of a letter's ids names that
letter even when it is also the prefix of another's. A prefix that fits several letters names none:
the command lists them and acts on nothing (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ops import aws
from ops.render import confirm, excerpt, table
from worker import deadletters
from worker.deadletters import DeadLetter

# Chosen messages stay hidden this long while they are sent back or deleted; if the command dies,
# they reappear in the dead-letter queue by themselves.
HOLD_SECONDS = 120
REASON_WIDTH = 60
ID_HELP = (
    "ID: a dead letter's id as `dlq list` shows it, the id of the work queue message it came from (its"
    " source_message_id; the id the sandbox's console prints), or Slack's event id; any unique prefix"
    " of one of them will do. A prefix that fits several dead letters lists them and exits 2."
)

Explain = Callable[[list[DeadLetter]], None]  # fills in the reasons the state table knows


@dataclass
class Selection:
    letters: list[DeadLetter] = field(default_factory=list)  # hidden for HOLD_SECONDS: delete or release
    missing: list[str] = field(default_factory=list)
    declined: bool = False
    ambiguous: bool = False  # some id named several letters: nothing was chosen


@dataclass(frozen=True)
class Lookup:
    """What the ids (or prefixes) given name in the dead-letter queue."""

    letters: list[DeadLetter]  # each named by exactly one id given, oldest first
    missing: list[str]  # ids that name no letter
    ambiguous: dict[str, list[DeadLetter]]  # ids that name several letters, with those letters


def identifier(value: str) -> str:
    """An id or prefix as typed (argparse's ``type``): surrounding spaces dropped; never empty, since an
    empty prefix would fit every letter."""
    value = value.strip()
    if not value:
        raise argparse.ArgumentTypeError("an empty id names nothing")
    return value


def explainer(table_name: str) -> Explain | None:
    """Filling in reasons from the state table, when one is configured (redrive and drop need none)."""
    if not table_name:
        return None
    return lambda letters: deadletters.explain(letters, aws.client("dynamodb"), table_name)


def identifiers(letter: DeadLetter) -> tuple[str, str, str]:
    """The ids a dead letter answers to: its own, its work queue message's, and Slack's event id."""
    return letter.message_id, letter.source_message_id, letter.event_id


def matching(wanted: str, letters: Iterable[DeadLetter]) -> list[DeadLetter]:
    """The letters ``wanted`` names: those with an id equal to it, else those with an id starting with it."""
    if not wanted:
        return []
    letters = list(letters)
    exact = [letter for letter in letters if wanted in identifiers(letter)]
    return exact or [letter for letter in letters if any(i.startswith(wanted) for i in identifiers(letter))]


def locate(sqs: Any, dlq_url: str, wanted: list[str], *, hold_seconds: int = HOLD_SECONDS) -> Lookup:
    """Read the dead-letter queue for the letters that ``wanted`` name, and keep those hidden for
    ``hold_seconds`` (the caller deletes or releases them); every other message read is released.

    Whether a prefix is unique is known only once the whole queue was read; when each id given is a
    letter's own full id, the read stops as soon as all of them were seen.
    """
    read: list[DeadLetter] = []
    try:
        for batch in deadletters.held(sqs, dlq_url, hold_seconds=hold_seconds):
            read.extend(batch)
            if _each_seen_by_its_own_id(wanted, read):
                break
    except BaseException:
        deadletters.release(sqs, dlq_url, [letter.receipt_handle for letter in read])
        raise
    matches = {name: matching(name, read) for name in dict.fromkeys(wanted)}
    chosen = {m[0].message_id: m[0] for m in matches.values() if len(m) == 1}
    deadletters.release(sqs, dlq_url, [d.receipt_handle for d in read if d.message_id not in chosen])
    return Lookup(
        letters=sorted(chosen.values(), key=lambda d: d.sent_at),
        missing=[name for name, found in matches.items() if not found],
        ambiguous={name: found for name, found in matches.items() if len(found) > 1},
    )


def _each_seen_by_its_own_id(wanted: list[str], read: list[DeadLetter]) -> bool:
    seen = {letter.message_id for letter in read}
    return all(name in seen for name in wanted)


def select(
    sqs: Any,
    dlq_url: str,
    message_ids: list[str],
    *,
    question: Callable[[int], str],
    assume_yes: bool,
    explain: Explain | None = None,
) -> Selection:
    """Find what the ids name, ask ``question(count)`` unless ``assume_yes``, then hold what was found.

    The question is asked before anything is held, so a slow answer cannot outlast the hold. An
    ambiguous id chooses nothing at all: its candidates are listed (``explain`` fills in their reasons).
    """
    wanted = list(dict.fromkeys(message_ids))
    lookup = locate(sqs, dlq_url, wanted, hold_seconds=HOLD_SECONDS)
    if lookup.ambiguous or not assume_yes:
        deadletters.release(sqs, dlq_url, [letter.receipt_handle for letter in lookup.letters])
    report_missing(lookup.missing)
    if lookup.ambiguous:
        report_ambiguous(lookup.ambiguous, explain)
        return Selection(missing=lookup.missing, ambiguous=True)
    if assume_yes or not lookup.letters:
        return Selection(lookup.letters, lookup.missing)
    if not confirm(question(len(lookup.letters)), assume_yes=False):
        return Selection(missing=lookup.missing, declined=True)
    ids = [letter.message_id for letter in lookup.letters]
    letters = deadletters.take(sqs, dlq_url, ids, hold_seconds=HOLD_SECONDS)
    gone = [message_id for message_id in ids if message_id not in {d.message_id for d in letters}]
    report_missing(gone)  # redriven or dropped by someone else meanwhile
    return Selection(letters, lookup.missing + gone)


def report_missing(missing: list[str]) -> None:
    for message_id in missing:
        print(f"not in the dead-letter queue: {message_id}", file=sys.stderr)


def report_ambiguous(ambiguous: dict[str, list[DeadLetter]], explain: Explain | None = None) -> None:
    """For each ambiguous id, a line saying so (on stderr), then its candidates, one per line (on stdout:
    they are the answer a script or a person reads next)."""
    for name, letters in ambiguous.items():
        if explain is not None:
            explain(letters)
        print(
            f"ambiguous id {name}: {len(letters)} dead letters match; give more of one of their ids:",
            file=sys.stderr,
        )
        rows = [
            [
                letter.message_id,
                letter.source_message_id,
                letter.event_id or "-",
                excerpt(letter.reason or letter.category or "unknown", REASON_WIDTH),
            ]
            for letter in letters
        ]
        print(table(["  DEAD-LETTER ID", "SOURCE ID", "EVENT ID", "REASON"], _indent(rows)))


def _indent(rows: list[list[str]]) -> list[list[str]]:
    return [[f"  {row[0]}", *row[1:]] for row in rows]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
