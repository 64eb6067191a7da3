"""Which dead letters an id or prefix names (``slackbot dlq show | redrive | drop``)."""

from __future__ import annotations

import json

import pytest

from ops.selection import identifier, matching
from shared import envelope as schema
from tests.support import slack_requests as sr
from worker.deadletters import DeadLetter, _read


def _letter(message_id: str, source_id: str, event_id: str) -> DeadLetter:
    """A dead letter as the worker writes one, read as SQS returns it."""
    body = schema.dumps(
        schema.build("event", json.loads(sr.mention(event_id=event_id)), received_at=0.0, request_id="r")
    )
    attributes = schema.dead_letter_attributes({}, "slack error: not_in_channel", "permanent", source_id)
    return _read(
        {"MessageId": message_id, "ReceiptHandle": "h", "Body": body, "MessageAttributes": attributes}
    )


A = _letter("0a1b2c3d-dead", "9f8e7d6c-source", "Ev0AAAA")
B = _letter("0a1bffff-dead", "9f00aaaa-source", "Ev0ABBB")
LETTERS = [A, B]


@pytest.mark.parametrize(
    ("wanted", "named"),
    [
        ("0a1b2", [A]),  # a prefix of the dead letter's id
        ("9f8", [A]),  # of the work queue message's id
        ("Ev0AA", [A]),  # of Slack's event id
        ("0a1b", [A, B]),  # ambiguous
        ("Ev0A", [A, B]),
        ("Ev0ABBB", [B]),
        ("nothing", []),
        ("", []),  # names nothing rather than everything
    ],
)
def test_an_id_names_the_letters_it_is_a_prefix_of(wanted: str, named: list[DeadLetter]) -> None:
    assert matching(wanted, LETTERS) == named


def test_an_id_equal_to_one_of_a_letters_ids_wins_over_longer_ids_it_starts() -> None:
    short = _letter("Ev0X", "src-1", "Ev0Y")
    longer = _letter("m-2", "src-2", "Ev0XL")
    assert matching("Ev0X", [short, longer]) == [short]


def test_a_letter_sqs_moved_is_its_own_source() -> None:
    moved = _read(
        {
            "MessageId": "moved-1",
            "ReceiptHandle": "h",
            "Body": "x",
            "MessageAttributes": {"source_message_id": {"DataType": "String", "StringValue": "stale"}},
            "Attributes": {"DeadLetterQueueSourceArn": "arn:aws:sqs:us-east-1:123456789012:work"},
        }
    )
    assert moved.source_message_id == "moved-1"  # the stale attribute of an earlier death is not believed
    assert matching("stale", [moved]) == []


def test_an_empty_id_is_refused() -> None:
    with pytest.raises(Exception, match="an empty id names nothing"):
        identifier("  ")
    assert identifier(" abc ") == "abc"
