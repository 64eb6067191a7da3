"""``slackbot dlq …`` and ``slackbot queue stats`` against moto server, with dead letters made by the pipeline."""

from __future__ import annotations

import io
import json
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

import ops.aws
from sandbox import resources
from sandbox.slack_standin import SlackStandIn
from shared import envelope as schema
from tests.conftest import Aws
from tests.support import slack_requests as sr
from tests.support.moto_server import MotoServer, free_port
from tests.support.ops import (
    POISON_BODY,
    dead_letter_ids,
    exhaust_retries,
    kill_old_command,
    kill_permanently,
    poison,
    slackbot,
)
from tests.support.pipeline import Pipeline, new_pipeline
from worker import deadletters

AGE = re.compile(r"^\d+[smhd]$")


# ----- a dead-letter queue holding each kind of death, built once (SQS's 5 receives take ~9 s) --------


@dataclass(frozen=True)
class Graveyard:
    resources: resources.Resources
    ids: dict[str, str]  # DLQ message id by event id; "poison" for the unreadable body
    poison_source_id: str  # the work queue message id of the unreadable body (the console prints it)


@pytest.fixture(scope="module")
def graveyard(moto_server: MotoServer) -> Iterator[Graveyard]:
    with pytest.MonkeyPatch.context() as env, SlackStandIn() as slack:
        pipeline, created = new_pipeline(moto_server.url, slack, env.setenv, prefix="g", visibility_timeout=1)
        env.setenv("SLACK_SIGNING_SECRET", sr.SECRET)
        env.setenv("RETRY_FIRST_WAIT_SECONDS", "0")  # five receives in about five seconds
        exhaust_retries(pipeline, "Ev0FLAKY")  # SQS moves it after 5 receives
        kill_permanently(pipeline, "Ev0GONE")  # the worker dead-letters it: channel_not_found
        poison_source_id = poison(pipeline)  # the worker dead-letters it: not JSON
        ids = dead_letter_ids(pipeline)
    assert set(ids) == {"Ev0FLAKY", "Ev0GONE", "poison"}
    yield Graveyard(created, ids, poison_source_id)


@pytest.fixture
def dead(graveyard: Graveyard, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in graveyard.resources.env().items():
        monkeypatch.setenv(name, value)
    return graveyard.ids


def test_list_shows_each_way_of_dying_and_why(
    dead: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    result = slackbot(capsys, "dlq", "list")
    assert result.code == 0, result.err
    header, *lines = result.out.splitlines()
    assert header.split() == [
        "ID",
        "AGE",
        "RECV",
        "CATEGORY",
        "KIND",
        "TEAM",
        "CHANNEL",
        "USER",
        "TEXT",
        "REASON",
    ]
    rows = {line.split()[0]: line for line in lines if line and line.split()[0] in dead.values()}
    assert set(rows) == set(dead.values())

    moved = rows[dead["Ev0FLAKY"]].split()
    assert AGE.match(moved[1]) and int(moved[2]) >= 6  # 5 receives in the work queue, then ours
    assert moved[3:6] == ["retries", "exhausted", "event"]
    assert "C0FLAKY" in moved and "U0HUMAN" in moved
    assert "slack chat.postMessage: HTTP 503" in rows[dead["Ev0FLAKY"]]  # from the state table

    gone = rows[dead["Ev0GONE"]]
    assert gone.split()[3:8] == ["permanent", "event", "T0001", "C0GONE", "U0HUMAN"]
    assert "<@UBOT> ping" in gone and gone.endswith("slack error: channel_not_found")

    unreadable = rows[dead["poison"]]
    assert f"[unreadable] {POISON_BODY}" in unreadable and unreadable.endswith("body is not JSON")
    assert "3 dead letters shown; SQS counts 3 waiting" in result.out


def test_list_json_for_scripts(dead: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    result = slackbot(capsys, "dlq", "list", "--json")
    assert result.code == 0
    items = {item["id"]: item for item in json.loads(result.out)}
    assert set(items) == set(dead.values())
    moved, gone, unreadable = (items[dead[k]] for k in ("Ev0FLAKY", "Ev0GONE", "poison"))
    assert moved["category"] == "retries exhausted" and moved["receive_count"] >= 6
    # The reason in full (the table cuts it at 60 characters).
    assert moved["reason"].startswith("slack chat.postMessage: HTTP 503") and len(moved["reason"]) > 60
    assert {k: gone[k] for k in ("kind", "team", "channel", "user", "event_id", "category", "reason")} == {
        "kind": "event",
        "team": "T0001",
        "channel": "C0GONE",
        "user": "U0HUMAN",
        "event_id": "Ev0GONE",
        "category": "permanent",
        "reason": "slack error: channel_not_found",
    }
    assert gone["text"] == "<@UBOT> ping" and gone["readable"] is True and AGE.match(gone["age"])
    assert unreadable["readable"] is False and unreadable["text"] == POISON_BODY
    assert unreadable["category"] == "poison" and unreadable["reason"] == "body is not JSON"


def test_show_prints_the_envelope_its_attributes_and_the_error_history(
    dead: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    result = slackbot(capsys, "dlq", "show", dead["Ev0FLAKY"])
    assert result.code == 0, result.err
    envelope = json.loads(_section(result.out, "envelope:", "message attributes:"))
    assert envelope["payload"]["event_id"] == "Ev0FLAKY" and envelope["version"] == 1
    attributes = _section(result.out, "message attributes:", "error history")
    assert re.search(r"event_id\s+Ev0FLAKY\s+String", attributes)
    history = _section(result.out, "error history (state table, oldest first):", None).splitlines()
    assert len(history) == 5 and all("slack chat.postMessage: HTTP 503" in line for line in history)
    assert re.search(r"category\s+retries exhausted", result.out)

    unreadable = slackbot(capsys, "dlq", "show", dead["poison"])
    assert unreadable.code == 0
    assert f"body (not a readable envelope):\n{POISON_BODY}\n" in unreadable.out
    assert re.search(r"reason\s+body is not JSON\s+String", unreadable.out)
    # The worker kept it under the work queue's message id (there is no Slack id to file it under).
    (entry,) = _section(unreadable.out, "error history (state table, oldest first):", None).splitlines()
    assert "body is not JSON" in entry


# ----- ids and prefixes ----------------------------------------------------------------------------


def _show_id(result_out: str) -> str:
    return re.findall(r"^message id\s+(\S+)$", result_out, flags=re.MULTILINE)[0]


def test_show_takes_a_prefix_of_the_dead_letter_id_the_source_id_or_the_event_id(
    graveyard: Graveyard, dead: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    letters = {letter.message_id: letter for letter in _scan(graveyard)}
    gone = letters[dead["Ev0GONE"]]
    source_of_gone = gone.attributes["source_message_id"]
    prefixes = {
        "its own id": _unique_prefix(dead["Ev0GONE"], letters.values()),
        "its source id": _unique_prefix(source_of_gone, letters.values()),
        "its event id": "Ev0GO",
        "a full id": dead["Ev0GONE"],
    }
    for what, prefix in prefixes.items():
        result = slackbot(capsys, "dlq", "show", prefix)
        assert result.code == 0, f"{what}: {result.err}"
        assert _show_id(result.out) == dead["Ev0GONE"], what
        assert re.search(rf"^source id\s+{source_of_gone}$", result.out, flags=re.MULTILINE)

    # The console's short id of the unreadable body: the first 8 characters of its work queue id.
    result = slackbot(capsys, "dlq", "show", graveyard.poison_source_id[:8])
    assert result.code == 0, result.err
    assert _show_id(result.out) == dead["poison"]
    assert "body is not JSON" in _section(result.out, "error history", None)

    # SQS keeps the id of what it moves after 5 receives: the source id is the dead letter's own.
    result = slackbot(capsys, "dlq", "show", "Ev0FL")
    assert result.code == 0 and _show_id(result.out) == dead["Ev0FLAKY"]
    assert re.search(rf"^source id\s+{dead['Ev0FLAKY']}$", result.out, flags=re.MULTILINE)


def test_an_ambiguous_prefix_lists_the_candidates_and_exits_2(
    dead: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    result = slackbot(capsys, "dlq", "show", "Ev0")  # Ev0FLAKY and Ev0GONE; the poison has no event id
    assert result.code == 2
    assert result.err.strip() == "ambiguous id Ev0: 2 dead letters match; give more of one of their ids:"
    header, *candidates = result.out.splitlines()  # the candidates are the answer: on stdout
    assert header.split() == ["DEAD-LETTER", "ID", "SOURCE", "ID", "EVENT", "ID", "REASON"]
    rows = {line.split()[0]: line.split() for line in candidates}
    assert set(rows) == {dead["Ev0FLAKY"], dead["Ev0GONE"]}
    assert rows[dead["Ev0GONE"]][2:] == ["Ev0GONE", "slack", "error:", "channel_not_found"]
    # The reason of what SQS moved comes from the state table.
    assert rows[dead["Ev0FLAKY"]][1:5] == [dead["Ev0FLAKY"], "Ev0FLAKY", "slack", "chat.postMessage:"]


def test_no_match_for_a_prefix_exits_1(dead: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    result = slackbot(capsys, "dlq", "show", "Ev0NOPE")
    assert (result.code, result.err.strip()) == (1, "not in the dead-letter queue: Ev0NOPE")


def test_an_empty_id_is_a_usage_error(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        slackbot(capsys, "dlq", "show", " ")
    assert exit_.value.code == 2 and "an empty id names nothing" in capsys.readouterr().err


def test_drop_and_redrive_take_prefixes_and_refuse_an_ambiguous_one(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _bury(aws, source_id="aaaa1111-src", event_id="Ev1FIRST")
    second = _bury(aws, source_id="aaaa2222-src", event_id="Ev2SECOND")

    for verb in ("drop", "redrive"):
        result = slackbot(capsys, "dlq", verb, "aaaa", "--yes")
        assert result.code == 2, verb
        assert "ambiguous id aaaa: 2 dead letters match" in result.err and "Nothing" in result.err
        assert first in result.out and second in result.out
        assert _depth(aws.sqs, aws.resources.dlq_url) == (2, 0)  # nothing acted on, nothing held

    dropped = slackbot(capsys, "dlq", "drop", "aaaa1", "--yes")
    assert dropped.code == 0, dropped.err
    assert dropped.out.startswith(f"dropped {first} ")
    redriven = slackbot(capsys, "dlq", "redrive", "Ev2", "--yes")
    assert redriven.code == 0, redriven.err
    assert f"redriven {second} → " in redriven.out
    assert _depth(aws.sqs, aws.resources.dlq_url) == (0, 0)
    assert _depth(aws.sqs, aws.resources.queue_url) == (1, 0)


def _scan(graveyard: Graveyard) -> list[deadletters.DeadLetter]:
    return deadletters.scan(boto3.client("sqs"), graveyard.resources.dlq_url, hold_seconds=5)


def _unique_prefix(wanted: str, letters: Any) -> str:
    """The shortest prefix of ``wanted`` that no other id of these letters starts with."""
    others = [
        i
        for letter in letters
        for i in (letter.message_id, letter.attributes.get("source_message_id", ""), letter.event_id)
        if i and i != wanted
    ]
    for length in range(1, len(wanted) + 1):
        if not any(other.startswith(wanted[:length]) for other in others):
            return wanted[:length]
    raise AssertionError(f"{wanted} is a prefix of another id")


# What a terminal would obey: clear the screen, write the clipboard (OSC 52), a C1 CSI, a bidi override.
HOSTILE = "\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07\x9b31m\u202eevil\r"
TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def test_list_and_show_print_no_terminal_control_characters(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    mention = json.loads(sr.mention(f"<@UBOT> ping {HOSTILE} tail", channel=f"C0{HOSTILE}"))
    body = schema.dumps(schema.build("event", mention, received_at=0.0, request_id="r-1"))
    attributes = schema.dead_letter_attributes({}, f"slack error: {HOSTILE} end", "permanent", "m-1")
    readable = aws.sqs.send_message(
        QueueUrl=aws.resources.dlq_url, MessageBody=body, MessageAttributes=attributes
    )
    unreadable = aws.sqs.send_message(
        QueueUrl=aws.resources.dlq_url, MessageBody=f"not json {HOSTILE}\nline 2"
    )

    listed = slackbot(capsys, "dlq", "list")
    as_json = slackbot(capsys, "dlq", "list", "--json")
    shown = slackbot(capsys, "dlq", "show", readable["MessageId"])
    shown_raw = slackbot(capsys, "dlq", "show", unreadable["MessageId"])
    for result in (listed, as_json, shown, shown_raw):
        assert result.code == 0, result.err
        assert TERMINAL_CONTROLS.findall(result.out + result.err) == []
    # What is left is still there to read.
    assert "<@UBOT> ping [2J]52;c;cm0gLXJmIH4" in listed.out
    assert "slack error: [2J]52;c;cm0gLXJmIH4=31mevil end" in listed.out
    items = {item["id"]: item for item in json.loads(as_json.out)}
    assert items[readable["MessageId"]]["reason"] == "slack error: [2J]52;c;cm0gLXJmIH4=31mevil  end"
    assert TERMINAL_CONTROLS.findall(json.dumps(items, ensure_ascii=False)) == []
    # The envelope in `show` stays exact: its controls are JSON escapes, decoded back unchanged.
    envelope = json.loads(_section(shown.out, "envelope:", "message attributes:"))
    assert envelope["payload"]["event"]["text"] == f"<@UBOT> ping {HOSTILE} tail"
    assert "not json [2J]52;c;cm0gLXJmIH4=31mevil\nline 2" in shown_raw.out  # newlines kept in a body

    dropped = slackbot(capsys, "dlq", "drop", readable["MessageId"], "--yes")
    assert dropped.code == 0 and TERMINAL_CONTROLS.findall(dropped.out + dropped.err) == []
    assert "slack error: [2J]52;c;cm0gLXJmIH4=31mevil  end" in dropped.out


def _section(text: str, start: str, end: str | None) -> str:
    after = text.split(start, 1)[1]
    return (after.split(end, 1)[0] if end else after).strip()


# ----- redrive -----------------------------------------------------------------------------------


def test_redrive_by_id_restores_body_and_attributes_and_is_answered_once(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    kill_permanently(pipeline, "Ev0BACK")
    poison(pipeline)
    ids = dead_letter_ids(pipeline)
    (letter,) = [d for d in _dead(pipeline) if d.message_id == ids["Ev0BACK"]]

    result = slackbot(capsys, "dlq", "redrive", ids["Ev0BACK"], "--yes")
    assert result.code == 0, result.err
    assert f"redriven {ids['Ev0BACK']} → " in result.out

    (message,) = pipeline.receive(wait=1)
    assert message["Body"] == letter.body
    original = schema.message_attributes(json.loads(letter.body))
    assert message["MessageAttributes"] == {
        name: {"StringValue": value["StringValue"], "DataType": "String"} for name, value in original.items()
    }
    assert dead_letter_ids(pipeline) == {"poison": ids["poison"]}  # the other one is left alone

    pipeline.send_raw(message["Body"], message["MessageAttributes"])  # as if a crash duplicated it
    _drain_one_at_a_time(pipeline)
    (reply,) = pipeline.replies()
    assert reply["args"]["channel"] == "C0GONE" and reply["args"]["text"].startswith("pong")


def test_redrive_all_moves_every_message_back(pipeline: Pipeline, capsys: pytest.CaptureFixture[str]) -> None:
    kill_permanently(pipeline, "Ev0ONE")
    kill_permanently(pipeline, "Ev0TWO")
    poison(pipeline)
    bodies = sorted(d.body for d in _dead(pipeline))

    result = slackbot(capsys, "dlq", "redrive", "--all", "--yes")
    assert result.code == 0, result.err
    # moto has no message-move task: the fallback moved them one by one.
    assert "message-move task not available" in result.err
    assert "redrive [##########] 3/3" in result.err and "3 messages redriven" in result.err
    assert "expired response_url" not in result.err  # no command or click among them
    assert _depth(pipeline.sqs, pipeline.dlq_url) == (0, 0)
    back = _receive_all(pipeline, 3)
    assert sorted(m["Body"] for m in back) == bodies
    assert all(not set(m.get("MessageAttributes", {})) & {"reason", "category"} for m in back)


def test_redrive_says_how_many_carry_an_expired_response_url_and_they_are_answered_ephemerally(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    kill_old_command(pipeline, "U0ADA")
    kill_old_command(pipeline, "U0BOB")
    kill_permanently(pipeline, "Ev0MENTION")
    ids = {letter.summary().get("user"): letter.message_id for letter in _dead(pipeline)}
    assert set(ids) == {"U0ADA", "U0BOB", "U0HUMAN"}
    pipeline.slack.reset()

    one = slackbot(capsys, "dlq", "redrive", ids["U0ADA"], "--yes")
    assert one.code == 0, one.err
    assert (
        "1 carries an expired response_url: it will be answered with chat.postEphemeral to the same user"
        " (or a DM)." in one.err
    )
    rest = slackbot(capsys, "dlq", "redrive", "--all", "--yes")
    assert rest.code == 0, rest.err
    assert "2 messages redriven" in rest.err
    assert (
        "1 carries an expired response_url: it will be answered with chat.postEphemeral" in rest.err
    )  # the mention is not counted

    _drain_one_at_a_time(pipeline)
    answered = sorted((r["method"], r["args"].get("user")) for r in pipeline.replies())
    assert answered == [
        ("chat.postEphemeral", "U0ADA"),
        ("chat.postEphemeral", "U0BOB"),
        ("chat.postMessage", None),  # the mention, in its channel
    ]
    assert pipeline.slack.calls(kind="response_url") == []  # no dead URL was tried


def test_redrive_counts_every_expired_one_it_moves(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    kill_old_command(pipeline, "U0ADA")
    kill_old_command(pipeline, "U0BOB")
    result = slackbot(capsys, "dlq", "redrive", "--all", "--yes")
    assert result.code == 0, result.err
    assert "2 carry an expired response_url: they will be answered with chat.postEphemeral" in result.err


def test_redrive_all_of_an_empty_queue_has_nothing_to_do(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    result = slackbot(capsys, "dlq", "redrive", "--all", "--yes")
    assert result.code == 1 and "nothing to redrive" in result.err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("argv", "stdin", "says"),
    [
        (["dlq", "redrive", "{id}"], lambda: _Terminal("n\n"), "[y/N]"),
        (["dlq", "redrive", "--all"], lambda: _Terminal("\n"), "[y/N]"),
        (["dlq", "drop", "{id}"], lambda: _Terminal("no\n"), "[y/N]"),
        (["dlq", "redrive", "{id}"], lambda: io.StringIO("y\n"), "no terminal to ask on (pass --yes)"),
    ],
    ids=["redrive-id-declined", "redrive-all-declined", "drop-declined", "no-tty"],
)
def test_without_a_yes_nothing_changes(
    aws: Aws,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    stdin: Callable[[], io.StringIO],
    says: str,
) -> None:
    message_id = _bury(aws)
    monkeypatch.setattr(sys, "stdin", stdin())
    result = slackbot(capsys, *(arg.format(id=message_id) for arg in argv))
    assert result.code == 1
    assert says in result.err and "1 message" in result.err
    assert "Nothing" in result.err
    assert _depth(aws.sqs, aws.resources.dlq_url) == (1, 0)  # still there, and visible
    assert _depth(aws.sqs, aws.resources.queue_url) == (0, 0)


def test_a_yes_at_the_prompt_redrives(
    aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    message_id = _bury(aws)
    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    result = slackbot(capsys, "dlq", "redrive", message_id)
    assert result.code == 0
    assert f"Redrive 1 message to {aws.resources.queue_url}? [y/N]" in result.err
    assert _depth(aws.sqs, aws.resources.dlq_url) == (0, 0)
    assert _depth(aws.sqs, aws.resources.queue_url) == (1, 0)


def test_redrive_of_known_and_unknown_ids_moves_the_known_and_exits_1(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    message_id = _bury(aws)
    result = slackbot(capsys, "dlq", "redrive", message_id, "no-such-id", "--yes")
    assert result.code == 1
    assert "not in the dead-letter queue: no-such-id" in result.err and f"redriven {message_id}" in result.out
    assert _depth(aws.sqs, aws.resources.queue_url) == (1, 0)


def test_a_failed_send_deletes_nothing(
    aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    message_id = _bury(aws)
    _break_sqs(monkeypatch, "send_message")
    result = slackbot(capsys, "dlq", "redrive", message_id, "--yes")
    assert result.code == 3
    assert f"could not send {message_id} back (it stays dead)" in result.err
    (letter,) = deadletters.scan(aws.sqs, aws.resources.dlq_url, hold_seconds=5)
    assert letter.message_id == message_id
    assert _depth(aws.sqs, aws.resources.dlq_url) == (1, 0)  # and visible again, not held
    assert _depth(aws.sqs, aws.resources.queue_url) == (0, 0)


def test_a_failed_delete_after_the_send_duplicates_and_is_still_answered_once(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    kill_permanently(pipeline, "Ev0TWICE")
    (message_id,) = dead_letter_ids(pipeline).values()
    working = _break_sqs(monkeypatch, "delete_message")
    result = slackbot(capsys, "dlq", "redrive", message_id, "--yes")
    assert result.code == 3 and "a duplicate stays" in result.err
    assert _depth(pipeline.sqs, pipeline.dlq_url) == (1, 0)
    assert _depth(pipeline.sqs, pipeline.queue_url) == (1, 0)
    monkeypatch.setattr(ops.aws, "client", working)  # the DLQ works again: the SRE redrives the copy too
    assert slackbot(capsys, "dlq", "redrive", "--all", "--yes").code == 0
    assert _depth(pipeline.sqs, pipeline.queue_url) == (2, 0)
    _drain_one_at_a_time(pipeline)
    assert len(pipeline.replies()) == 1


def _break_sqs(monkeypatch: pytest.MonkeyPatch, operation: str) -> Callable[..., Any]:
    """Make every SQS ``operation`` of the commands fail as if the network dropped; the working factory."""
    real = ops.aws.client

    class Broken:
        def __init__(self, client: Any) -> None:
            self.client = client

        def __getattr__(self, name: str) -> Any:
            if name == operation:
                raise EndpointConnectionError(endpoint_url="https://sqs.example")
            return getattr(self.client, name)

    monkeypatch.setattr(
        ops.aws,
        "client",
        lambda service, **kw: Broken(real(service, **kw)) if service == "sqs" else real(service, **kw),
    )
    return real


# ----- drop ---------------------------------------------------------------------------------------


def test_drop_removes_only_the_chosen_ids(pipeline: Pipeline, capsys: pytest.CaptureFixture[str]) -> None:
    kill_permanently(pipeline, "Ev0DROP")
    kill_permanently(pipeline, "Ev0KEEP")
    poison(pipeline)
    ids = dead_letter_ids(pipeline)
    result = slackbot(capsys, "dlq", "drop", ids["Ev0DROP"], ids["poison"], "--yes")
    assert result.code == 0, result.err
    dropped = result.out.splitlines()
    assert len(dropped) == 2
    assert any(
        line.startswith(f"dropped {ids['Ev0DROP']}") and "slack error: channel_not_found" in line
        for line in dropped
    )
    assert any(line.startswith(f"dropped {ids['poison']}") and "body is not JSON" in line for line in dropped)
    assert dead_letter_ids(pipeline) == {"Ev0KEEP": ids["Ev0KEEP"]}
    assert _depth(pipeline.sqs, pipeline.queue_url) == (0, 0)


# ----- queue stats --------------------------------------------------------------------------------


def test_queue_stats_counts_what_was_sent(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    work, dlq = aws.resources.queue_url, aws.resources.dlq_url
    for n in range(3):
        aws.sqs.send_message(QueueUrl=work, MessageBody=f"work {n}")
    aws.sqs.receive_message(QueueUrl=work, MaxNumberOfMessages=1, VisibilityTimeout=300)  # one in flight
    for n in range(2):
        aws.sqs.send_message(QueueUrl=dlq, MessageBody=f"dead {n}")

    result = slackbot(capsys, "queue", "stats", "--json")
    assert result.code == 0, result.err
    stats = json.loads(result.out)
    assert {k: stats["work"][k] for k in ("visible", "in_flight", "oldest_age_seconds")} == {
        "visible": 2,
        "in_flight": 1,
        "oldest_age_seconds": None,  # never peeked: that would count as a receive
    }
    assert stats["work"]["oldest_age_source"] == "n/a"
    dead = stats["dead-letter"]
    assert (dead["visible"], dead["in_flight"], dead["oldest_age_source"]) == (2, 0, "peek")
    assert 0 <= dead["oldest_age_seconds"] < 120 and dead["oldest_age_lower_bound"] is False
    assert _depth(aws.sqs, dlq) == (2, 0)  # the peek let go of what it read

    table = slackbot(capsys, "queue", "stats").out.splitlines()
    assert table[1].split() == ["work", "2", "1", "n/a", "n/a"]
    assert table[2].split()[:3] == ["dead-letter", "2", "0"] and table[2].split()[4] == "peek"


# ----- errors and exit codes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "unset", "says"),
    [
        (["dlq", "list"], "DLQ_URL", "not configured: DLQ_URL"),
        (["dlq", "list"], "STATE_TABLE", "not configured: STATE_TABLE"),
        (["queue", "stats"], "QUEUE_URL", "not configured: QUEUE_URL"),
        (["dlq", "redrive", "--all", "--yes"], "QUEUE_URL", "not configured: QUEUE_URL"),
    ],
)
def test_missing_configuration_exits_2(
    aws: Aws,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    unset: str,
    says: str,
) -> None:
    monkeypatch.delenv(unset)
    result = slackbot(capsys, *argv)
    assert (result.code, result.err.strip()) == (2, f"slackbot: {says}")


@pytest.mark.parametrize(("setting", "what"), [("DLQ_URL", "queue"), ("STATE_TABLE", "table")])
def test_a_queue_or_table_that_does_not_exist_exits_2(
    aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, setting: str, what: str
) -> None:
    wrong = f"{aws.server.url}/123456789012/no-such-queue" if what == "queue" else "no-such-table"
    monkeypatch.setenv(setting, wrong)
    result = slackbot(capsys, "dlq", "list")
    assert result.code == 2
    assert result.err.startswith(f"slackbot: no such {what}: {wrong} ({setting};")
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1


def test_an_unreachable_endpoint_exits_3(
    aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = free_port()  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed}")
    result = slackbot(capsys, "queue", "stats")
    assert result.code == 3
    assert result.err.startswith("slackbot: cannot reach AWS: Could not connect to the endpoint URL")
    assert len(result.err.strip().splitlines()) == 1


def test_missing_credentials_exit_3(
    aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = slackbot(capsys, "dlq", "list")
    assert result.code == 3 and result.err.startswith("slackbot: no usable AWS credentials")


@pytest.mark.parametrize(
    "argv",
    [
        ["dlq", "show", "no-such-id"],
        ["dlq", "redrive", "no-such-id", "--yes"],
        ["dlq", "drop", "no-such-id", "--yes"],
    ],
)
def test_an_unknown_id_exits_1(aws: Aws, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    _bury(aws)
    result = slackbot(capsys, *argv)
    assert result.code == 1 and "not in the dead-letter queue: no-such-id" in result.err
    assert _depth(aws.sqs, aws.resources.dlq_url) == (1, 0)


# ----- --stack ------------------------------------------------------------------------------------


def test_stack_outputs_configure_the_commands(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    kill_permanently(pipeline, "Ev0STACK")
    stack = _stack(
        {
            "WorkQueueUrl": pipeline.queue_url,
            "DeadLetterQueueUrl": pipeline.dlq_url,
            "StateTableName": _env("STATE_TABLE"),
        }
    )
    for name in ("QUEUE_URL", "DLQ_URL", "STATE_TABLE"):
        monkeypatch.delenv(name)
    result = slackbot(capsys, "dlq", "list", "--json", "--stack", stack)
    assert result.code == 0, result.err
    (item,) = json.loads(result.out)
    assert item["event_id"] == "Ev0STACK" and item["reason"] == "slack error: channel_not_found"

    assert slackbot(capsys, "dlq", "list", "--stack", "no-such-stack").err.strip() == (
        "slackbot: no such stack: no-such-stack"
    )
    partial = _stack({"DeadLetterQueueUrl": pipeline.dlq_url})
    result = slackbot(capsys, "queue", "stats", "--stack", partial)
    assert result.code == 2
    assert result.err.strip() == f"slackbot: not configured: output WorkQueueUrl of stack {partial}"


def _stack(outputs: dict[str, str]) -> str:
    name = f"slackbot-{uuid.uuid4().hex[:8]}"
    template = {
        "Resources": {"Nothing": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
    return name


# ----- helpers ------------------------------------------------------------------------------------


def _drain_one_at_a_time(pipeline: Pipeline, most: int = 10) -> None:
    """Hand the worker one record per invocation. moto's DynamoDB does not make a conditional write
    atomic across its server threads (DynamoDB does), so two copies of one event in one batch could
    both win their claim there; one at a time, the second copy meets the first one's settled claim."""
    for _ in range(most):
        if pipeline.depth() == 0:
            return
        pipeline.run_worker(max_messages=1)
    raise AssertionError(f"the work queue did not drain in {most} invocations")


def _dead(pipeline: Pipeline) -> list[deadletters.DeadLetter]:
    return deadletters.scan(pipeline.sqs, pipeline.dlq_url, hold_seconds=5)


def _bury(aws: Aws, *, source_id: str = "m-1", event_id: str = "Ev0MENTION") -> str:
    """A dead letter as the worker writes one (cheaper than through the pipeline, for prompt and id tests)."""
    mention = json.loads(sr.mention("<@UBOT> ping", event_id=event_id))
    body = schema.dumps(schema.build("event", mention, received_at=0.0, request_id="r-1"))
    attributes = schema.dead_letter_attributes({}, "slack error: not_in_channel", "permanent", source_id)
    sent = aws.sqs.send_message(
        QueueUrl=aws.resources.dlq_url, MessageBody=body, MessageAttributes=attributes
    )
    return str(sent["MessageId"])


def _depth(sqs: Any, url: str) -> tuple[int, int]:
    found = deadletters.depth(sqs, url)
    return found["visible"], found["in_flight"]


def _receive_all(pipeline: Pipeline, count: int) -> list[dict[str, Any]]:
    messages: dict[str, dict[str, Any]] = {}
    while len(messages) < count:
        batch = pipeline.receive(wait=1)
        assert batch, f"only {len(messages)} of {count} messages arrived"
        messages.update((m["MessageId"], m) for m in batch)
    return list(messages.values())


def _env(name: str) -> str:
    import os

    return os.environ[name]
