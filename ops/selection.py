"""Choosing dead letters by id for ``dlq show``, ``redrive`` and ``drop``: find, confirm, hold."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ops.render import confirm
from worker import deadletters
from worker.deadletters import DeadLetter

# Chosen messages stay hidden this long while they are sent back or deleted; if the command dies,
# they reappear in the dead-letter queue by themselves.
HOLD_SECONDS = 120


@dataclass
class Selection:
    letters: list[DeadLetter] = field(default_factory=list)  # hidden for HOLD_SECONDS: delete or release
    missing: list[str] = field(default_factory=list)
    declined: bool = False


def find(sqs: Any, dlq_url: str, message_ids: list[str]) -> list[DeadLetter]:
    """The dead letters with these ids, left visible (for reading only)."""
    letters = deadletters.take(sqs, dlq_url, message_ids, hold_seconds=HOLD_SECONDS)
    deadletters.release(sqs, dlq_url, [letter.receipt_handle for letter in letters])
    return letters


def select(
    sqs: Any, dlq_url: str, message_ids: list[str], *, question: Callable[[int], str], assume_yes: bool
) -> Selection:
    """Find the ids, ask ``question(count)`` unless ``assume_yes``, then hold what was found.

    The question is asked before anything is held, so a slow answer cannot outlast the hold.
    """
    wanted = list(dict.fromkeys(message_ids))
    missing: list[str] = []
    if not assume_yes:
        present = [letter.message_id for letter in find(sqs, dlq_url, wanted)]
        missing = _report_missing(wanted, present)
        if not present:
            return Selection(missing=missing)
        if not confirm(question(len(present)), assume_yes=False):
            return Selection(missing=missing, declined=True)
        wanted = present
    letters = deadletters.take(sqs, dlq_url, wanted, hold_seconds=HOLD_SECONDS)
    return Selection(letters, missing + _report_missing(wanted, [letter.message_id for letter in letters]))


def _report_missing(wanted: list[str], found: list[str]) -> list[str]:
    missing = [message_id for message_id in wanted if message_id not in found]
    for message_id in missing:
        print(f"not in the dead-letter queue: {message_id}", file=sys.stderr)
    return missing


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
