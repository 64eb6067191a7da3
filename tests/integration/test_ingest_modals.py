"""Answers that must be in the ack: a modal's field errors, an external select's options, and no ack
text for a command that opens a modal. Through each front door, against moto server over HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ingest.answers import COULD_NOT_QUEUE
from ingest.handler import lambda_handler
from shared import modals
from tests.conftest import Aws
from tests.support import modal_payloads as mp
from tests.support import slack_requests as sr

pytestmark = pytest.mark.usefixtures("signing_secret")
DOORS = pytest.mark.parametrize("door", sr.FRONT_DOORS)
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICES", "payments,search,Payroll,checkout")
    for name in ("OPTION_SETTINGS", "MODAL_COMMANDS", "SLASH_COMMAND_ACK"):
        monkeypatch.delenv(name, raising=False)


def post(door: str, body: bytes) -> dict[str, Any]:
    return lambda_handler(sr.signed_event(door, body, FORM), None)


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


@DOORS
def test_a_submission_breaking_its_rules_gets_field_errors_and_is_not_queued(
    door: str, aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    view = mp.incident_view(title="x" * 81, severity=None)
    capsys.readouterr()
    result = post(door, sr.interaction(mp.view_submission(view)))
    assert result["statusCode"] == 200
    assert result["headers"]["Content-Type"] == "application/json"
    assert json.loads(result["body"]) == {
        "response_action": "errors",
        "errors": {
            "title": "Use at most 80 characters (this has 81).",
            "severity": "This field is required.",
        },
    }
    assert aws.depth() == 0
    (line,) = log_lines(capsys)
    assert line["outcome"] == "rejected_view_errors" and line["level"] == "INFO"
    assert line["type"] == "view_submission" and line["user"] == "U0HUMAN"
    assert "x" * 81 not in json.dumps(line)  # what the person typed stays out of the log


@DOORS
def test_a_valid_submission_is_queued_and_the_modal_closes(door: str, aws: Aws) -> None:
    payload = mp.view_submission(mp.incident_view(summary="card payments fail"))
    result = post(door, sr.interaction(payload))
    assert (result["statusCode"], result["body"]) == (200, "")
    (message,) = aws.messages()
    queued = json.loads(message["Body"])
    assert queued["kind"] == "interaction" and queued["payload"] == payload
    assert modals.read_private_metadata(queued["payload"]["view"]["private_metadata"]).context == {
        "channel": "C0001"
    }


@DOORS
def test_a_submission_of_a_view_without_our_rules_is_queued_as_before(door: str, aws: Aws) -> None:
    view = mp.incident_view(title=None, severity=None, private_metadata="This is for you!")
    view["callback_id"] = "someone_else:form"
    result = post(door, sr.interaction(mp.view_submission(view)))
    assert (result["statusCode"], result["body"]) == (200, "")
    assert aws.depth() == 1


@DOORS
def test_the_incident_form_is_held_to_its_rules_even_without_its_metadata(door: str, aws: Aws) -> None:
    """A submission whose private_metadata was lost (or a view built by another client) and whose state
    leaves the severity out altogether: the built-in form's rules still apply, by its callback_id."""
    view = mp.incident_view(title="x" * 81, private_metadata="")
    del view["state"]["values"]["severity"], view["blocks"]
    result = post(door, sr.interaction(mp.view_submission(view)))
    assert json.loads(result["body"]) == {
        "response_action": "errors",
        "errors": {
            "title": "Use at most 80 characters (this has 81).",
            "severity": "This field is required.",
        },
    }
    assert aws.depth() == 0
    suggestion = mp.block_suggestion("pay", private_metadata="")
    options = json.loads(post(door, sr.interaction(suggestion))["body"])["options"]
    assert [o["value"] for o in options] == ["payments", "Payroll"]


@DOORS
def test_an_invalid_submission_gets_its_errors_even_when_the_queue_is_down(door: str, aws: Aws) -> None:
    aws.sqs.delete_queue(QueueUrl=aws.resources.queue_url)
    invalid = post(door, sr.interaction(mp.view_submission(mp.incident_view(title=""))))
    assert json.loads(invalid["body"])["errors"] == {"title": "This field is required."}
    valid = post(door, sr.interaction(mp.view_submission(mp.incident_view())))
    assert json.loads(valid["body"]) == {"response_action": "errors", "errors": {"title": COULD_NOT_QUEUE}}


@DOORS
def test_a_block_suggestion_gets_the_services_filtered_by_what_was_typed(
    door: str, aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    result = post(door, sr.interaction(mp.block_suggestion("PAY")))
    assert result["statusCode"] == 200
    assert result["headers"]["Content-Type"] == "application/json"
    assert json.loads(result["body"]) == {
        "options": [
            {"text": {"type": "plain_text", "text": "payments"}, "value": "payments"},
            {"text": {"type": "plain_text", "text": "Payroll"}, "value": "Payroll"},
        ]
    }
    assert aws.depth() == 0
    (line,) = log_lines(capsys)
    assert line["outcome"] == "answered_suggestion" and line["type"] == "block_suggestion"


@DOORS
def test_a_block_suggestion_typed_empty_gets_every_service(door: str, aws: Aws) -> None:
    options = json.loads(post(door, sr.interaction(mp.block_suggestion("")))["body"])["options"]
    assert [o["value"] for o in options] == ["payments", "search", "Payroll", "checkout"]


@DOORS
def test_options_never_reflect_a_secret_whatever_the_metadata_names(
    door: str, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPTION_SETTINGS", "SERVICES,SLACK_SIGNING_SECRET")  # even misconfigured
    for setting in ("SLACK_SIGNING_SECRET", "QUEUE_URL", "AWS_SECRET_ACCESS_KEY"):
        metadata = modals.private_metadata({}, options={"service": setting})
        result = post(door, sr.interaction(mp.block_suggestion("", private_metadata=metadata)))
        assert json.loads(result["body"]) == {"options": []}
    assert aws.depth() == 0


@DOORS
def test_incident_is_acked_without_text_and_queued(door: str, aws: Aws) -> None:
    result = post(door, sr.slash_command("", command="/incident"))
    assert (result["statusCode"], result["body"]) == (200, "")
    (message,) = aws.messages()
    assert json.loads(message["Body"])["payload"]["command"] == "/incident"
    ops = post(door, sr.slash_command("ping", command="/ops"))
    assert json.loads(ops["body"])["text"] == "Working on it…"


@DOORS
def test_modal_commands_names_the_commands_that_get_no_ack_text(
    door: str, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODAL_COMMANDS", "/deploy, /whois")
    assert post(door, sr.slash_command("prod", command="/deploy"))["body"] == ""
    assert json.loads(post(door, sr.slash_command("", command="/incident"))["body"])["text"]
    assert aws.depth() == 2
