"""Every row of the design's answer table, through each front door, against moto server over HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from ingest.answers import COULD_NOT_QUEUE
from ingest.handler import lambda_handler
from shared import envelope
from tests.conftest import Aws
from tests.support import slack_requests as sr

pytestmark = pytest.mark.usefixtures("signing_secret")
DOORS = pytest.mark.parametrize("door", sr.FRONT_DOORS)
FORM = "application/x-www-form-urlencoded"


def call(event: dict[str, Any]) -> dict[str, Any]:
    return lambda_handler(event, None)


def assert_no_retry(result: dict[str, Any]) -> None:
    assert result["headers"].get("X-Slack-No-Retry") == "1"


@DOORS
def test_url_verification_answers_the_challenge_and_queues_nothing(door: str, aws: Aws) -> None:
    body = json.dumps(
        {
            "token": "x",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    result = call(sr.signed_event(door, body.encode()))
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    assert aws.depth() == 0


@DOORS
def test_a_mention_is_queued_once_with_a_versioned_envelope_and_attributes(door: str, aws: Aws) -> None:
    body = sr.mention("<@UBOT> ping", event_id="Ev0MENTION1", channel="C0042")
    before = time.time()
    result = call(sr.signed_event(door, body))
    assert result["statusCode"] == 200
    messages = aws.messages()
    assert len(messages) == 1
    queued = json.loads(messages[0]["Body"])
    assert queued["version"] == envelope.VERSION
    assert queued["kind"] == "event"
    assert queued["payload"] == json.loads(body)
    assert before <= queued["received_at"] <= time.time()
    assert queued["retry_num"] == 0
    assert queued["request_id"]
    attributes = {name: value["StringValue"] for name, value in messages[0]["MessageAttributes"].items()}
    assert attributes["kind"] == "event"
    assert attributes["event_id"] == "Ev0MENTION1"
    assert attributes["team"] == "T0001"
    assert attributes["channel"] == "C0042"


@DOORS
def test_a_slash_command_is_queued_and_acked_with_a_short_ephemeral_text(door: str, aws: Aws) -> None:
    body = sr.slash_command("check https://example.org", command="/ops")
    result = call(sr.signed_event(door, body, FORM))
    assert result["statusCode"] == 200
    ack = json.loads(result["body"])
    assert ack["response_type"] == "ephemeral" and ack["text"]
    (message,) = aws.messages()
    queued = json.loads(message["Body"])
    assert queued["kind"] == "command"
    assert queued["payload"]["command"] == "/ops"
    assert queued["payload"]["text"] == "check https://example.org"


@DOORS
@pytest.mark.parametrize(
    "payload",
    [
        sr.block_action(),
        {
            "type": "view_submission",
            "team": {"id": "T0001"},
            "user": {"id": "U0HUMAN"},
            "view": {"id": "V1", "state": {"values": {}}},
        },
        {
            "type": "shortcut",
            "callback_id": "ops",
            "team": {"id": "T0001"},
            "user": {"id": "U0HUMAN"},
            "trigger_id": "1.2.3",
        },
        {
            "type": "message_action",
            "callback_id": "ops",
            "team": {"id": "T0001"},
            "user": {"id": "U0HUMAN"},
            "channel": {"id": "C0001"},
            "message": {"ts": "1.2", "text": "hi"},
            "response_url": "https://hooks.slack.com/x",
        },
    ],
    ids=["block_actions", "view_submission", "shortcut", "message_action"],
)
def test_interactions_are_queued(door: str, payload: dict[str, Any], aws: Aws) -> None:
    result = call(sr.signed_event(door, sr.interaction(payload), FORM))
    assert result["statusCode"] == 200
    (message,) = aws.messages()
    queued = json.loads(message["Body"])
    assert queued["kind"] == "interaction"
    assert queued["payload"] == payload
    assert message["MessageAttributes"]["type"]["StringValue"] == payload["type"]


@DOORS
@pytest.mark.parametrize(
    "event",
    [
        {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": "B1",
            "text": "hi",
            "channel": "C1",
            "ts": "1.1",
        },
        {
            "type": "message",
            "bot_id": "B0BOT",
            "user": "U0OTHERBOT",
            "text": "pong",
            "channel": "C1",
            "ts": "1.2",
        },
        {
            "type": "message",
            "user": "UBOT",
            "text": "our own words",
            "channel": "D1",
            "ts": "1.3",
            "channel_type": "im",
        },
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C1",
            "ts": "1.4",
            "message": {"type": "message", "bot_id": "B0BOT", "text": "edited", "ts": "1.1"},
        },
        {
            "type": "message",
            "subtype": "message_deleted",
            "channel": "C1",
            "ts": "1.5",
            "previous_message": {"type": "message", "user": "UBOT", "text": "gone", "ts": "1.1"},
        },
    ],
    ids=["bot_message", "bot_id", "own_bot_user", "edit_of_bot_message", "deletion_of_own_message"],
)
def test_messages_from_bots_are_acknowledged_and_dropped(door: str, event: dict[str, Any], aws: Aws) -> None:
    result = call(sr.signed_event(door, sr.event_callback(event)))
    assert result["statusCode"] == 200
    assert aws.depth() == 0


@DOORS
def test_a_human_message_in_a_dm_is_queued(door: str, aws: Aws) -> None:
    result = call(sr.signed_event(door, sr.direct_message("ping")))
    assert result["statusCode"] == 200
    assert aws.depth() == 1


@DOORS
def test_ssl_check_is_answered_and_not_queued(door: str, aws: Aws) -> None:
    body = b"ssl_check=1&token=verification-token-unused"
    for event in (
        sr.signed_event(door, body, FORM),
        sr.lambda_event(door, body, {"Content-Type": FORM}),
        sr.lambda_event(door, body, {"Content-Type": f"{FORM}; charset=utf-8"}),
        sr.lambda_event(door, body, {}),  # no content type, but a form that is not JSON
    ):
        assert call(event)["statusCode"] == 200
    assert aws.depth() == 0


@DOORS
def test_a_signed_mention_whose_text_holds_an_ssl_check_field_is_queued(door: str, aws: Aws) -> None:
    # Parsed as a form, this JSON body has a field ssl_check=1: a substring test dropped it unanswered.
    body = sr.mention("<@UBOT> check https://example.org/?a=1&ssl_check=1&b=2", event_id="Ev0SSLTEXT")
    for content_type in ("application/json", "application/json; charset=utf-8", ""):
        assert call(sr.signed_event(door, body, content_type))["statusCode"] == 200
    messages = aws.messages()
    assert len(messages) == 3
    assert {json.loads(m["Body"])["payload"]["event_id"] for m in messages} == {"Ev0SSLTEXT"}


@DOORS
def test_an_ssl_check_field_in_a_json_request_is_not_the_certificate_check(door: str, aws: Aws) -> None:
    unsigned = {"Content-Type": "application/json"}
    assert call(sr.lambda_event(door, b"ssl_check=1&token=x", unsigned))["statusCode"] == 401
    assert (
        call(sr.lambda_event(door, b'{"a": "&ssl_check=1&b=c"}', {"Content-Type": FORM}))["statusCode"] == 401
    )
    assert aws.depth() == 0


@DOORS
@pytest.mark.parametrize(
    "tamper",
    [
        "missing_signature",
        "missing_timestamp",
        "wrong_secret",
        "stale_past",
        "stale_future",
        "bad_timestamp",
        "body_changed",
    ],
)
def test_unsigned_or_stale_requests_get_401_no_retry(door: str, tamper: str, aws: Aws) -> None:
    body = sr.mention()
    headers = sr.slack_headers(body)
    now = int(time.time())
    if tamper == "missing_signature":
        del headers["X-Slack-Signature"]
    elif tamper == "missing_timestamp":
        del headers["X-Slack-Request-Timestamp"]
    elif tamper == "wrong_secret":
        headers = sr.slack_headers(body, secret="not-the-secret")
    elif tamper == "stale_past":
        headers = sr.slack_headers(body, timestamp=now - 301)
    elif tamper == "stale_future":
        headers = sr.slack_headers(body, timestamp=now + 301)
    elif tamper == "bad_timestamp":
        headers["X-Slack-Request-Timestamp"] = "soon"
    elif tamper == "body_changed":
        body = body.replace(b"ping", b"pong")
    result = call(sr.lambda_event(door, body, headers))
    assert result["statusCode"] == 401
    assert_no_retry(result)
    assert aws.depth() == 0


@DOORS
def test_timestamps_just_inside_the_window_are_accepted_both_ways(door: str, aws: Aws) -> None:
    now = int(time.time())
    for ts in (now - 290, now + 290):
        body = sr.mention()
        assert call(sr.lambda_event(door, body, sr.slack_headers(body, timestamp=ts)))["statusCode"] == 200
    assert aws.depth() == 2


@DOORS
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'{"type": "event_callback", "event_id": "Ev1"}', "application/json"),
        (b'{"type": "mystery"}', "application/json"),
        (b'{"type": "url_verification"}', "application/json"),
        (b"team_id=T1&text=hello", FORM),
        (b"payload=%7Bnot-json", FORM),
        (b"payload=%5B%5D", FORM),
        (b"command=noslash&text=x", FORM),
        (b"\xff\xfe\x00garbage", FORM),
        (
            b'{"type": "event_callback", "event": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "application/json",
        ),
    ],
    ids=[
        "broken_json",
        "json_array",
        "event_without_event",
        "unknown_type",
        "challenge_missing",
        "form_without_command",
        "broken_payload",
        "payload_not_object",
        "command_without_slash",
        "invalid_utf8",
        "nested_too_deep",
    ],
)
def test_signed_but_malformed_bodies_get_400_no_retry(
    door: str, body: bytes, content_type: str, aws: Aws
) -> None:
    result = call(sr.signed_event(door, body, content_type))
    assert result["statusCode"] == 400
    assert_no_retry(result)
    assert aws.depth() == 0


@DOORS
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD"])
def test_anything_but_post_gets_405(door: str, method: str, aws: Aws) -> None:
    body = sr.mention()
    result = call(sr.lambda_event(door, body, sr.slack_headers(body), method=method))
    assert result["statusCode"] == 405
    assert aws.depth() == 0


@DOORS
def test_bodies_over_one_mebibyte_get_413(door: str, aws: Aws) -> None:
    body = sr.mention("<@UBOT> " + "x" * (1024 * 1024))
    result = call(sr.signed_event(door, body))
    assert result["statusCode"] == 413
    assert_no_retry(result)
    assert aws.depth() == 0


@DOORS
def test_slack_retries_are_queued_with_their_number_and_reason(door: str, aws: Aws) -> None:
    body = sr.mention(event_id="Ev0RETRIED")
    for retry in (None, 1, 2):
        assert call(sr.signed_event(door, body, retry_num=retry))["statusCode"] == 200
    queued = [json.loads(m["Body"]) for m in aws.messages()]
    assert sorted(q["retry_num"] for q in queued) == [0, 1, 2]
    assert {q.get("retry_reason") for q in queued} == {None, "http_timeout"}


@DOORS
def test_a_rotated_secret_list_accepts_old_and_new(
    door: str, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", f"new-secret-0123456789, {sr.SECRET}")
    for secret in ("new-secret-0123456789", sr.SECRET):
        assert call(sr.signed_event(door, sr.mention(), secret=secret))["statusCode"] == 200
    assert call(sr.signed_event(door, sr.mention(), secret="retired-secret"))["statusCode"] == 401
    assert aws.depth() == 2


@DOORS
def test_a_queue_that_cannot_take_it_gets_5xx_so_slack_retries(
    door: str, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUEUE_URL", aws.resources.queue_url.replace("-work", "-gone"))
    result = call(sr.signed_event(door, sr.mention()))
    assert result["statusCode"] >= 500
    assert "X-Slack-No-Retry" not in result["headers"]


@DOORS
def test_an_unreachable_queue_answers_503_within_three_seconds(
    door: str, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.moto_server import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    result = call(sr.signed_event(door, sr.mention()))
    assert result["statusCode"] == 503
    assert time.monotonic() - started < 3.0


@DOORS
@pytest.mark.parametrize(
    "breakage",
    ["null_body", "no_headers", "broken_base64", "lone_surrogate", "body_not_string"],
)
def test_malformed_lambda_events_get_4xx_never_an_exception(door: str, breakage: str, aws: Aws) -> None:
    body = sr.mention()
    event = sr.signed_event(door, body)
    if breakage == "null_body":
        event["body"] = None
    elif breakage == "no_headers":
        event["headers"] = None
        event.pop("multiValueHeaders", None)
    elif breakage == "broken_base64":
        event["body"], event["isBase64Encoded"] = "!!!not base64!!!", True
    elif breakage == "lone_surrogate":
        event["body"] = "\udcff"
    elif breakage == "body_not_string":
        event["body"] = {"type": "event_callback"}
    result = call(event)
    assert 400 <= result["statusCode"] < 500
    assert aws.depth() == 0


def test_an_event_that_is_not_an_object_gets_400(aws: Aws) -> None:
    for event in (None, [], "POST", 42):
        assert call(event)["statusCode"] == 400  # type: ignore[arg-type]


def test_the_signing_secret_can_come_from_secrets_manager(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    secret = "from-secrets-manager-0123456789"
    arn = boto3.client("secretsmanager").create_secret(
        Name=f"signing-{aws.resources.table}", SecretString=secret
    )["ARN"]
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    monkeypatch.setenv("SLACK_SIGNING_SECRET_ARN", arn)
    assert call(sr.signed_event("function_url", sr.mention(), secret=secret))["statusCode"] == 200
    assert call(sr.signed_event("function_url", sr.mention()))["statusCode"] == 401
    assert aws.depth() == 1
    from shared.log import get_logger

    get_logger("test").info("a careless line with %s in it", secret)
    assert secret not in capsys.readouterr().out


SUBMISSION: dict[str, Any] = {
    "type": "view_submission",
    "team": {"id": "T0001"},
    "user": {"id": "U0HUMAN"},
    "trigger_id": "1.2.submission",
    "view": {
        "id": "V1",
        "callback_id": "survey:answer",  # a modal without declared rules: nothing to hold it to
        "blocks": [
            {"type": "section", "block_id": "intro", "text": {"type": "mrkdwn", "text": "Declare"}},
            {"type": "input", "block_id": "title", "element": {"type": "plain_text_input"}},
            {"type": "input", "block_id": "severity", "element": {"type": "static_select"}},
        ],
        "state": {"values": {"severity": {}, "title": {}}},
    },
}


def submission(view: dict[str, Any]) -> dict[str, Any]:
    return {**SUBMISSION, "view": {**SUBMISSION["view"], **view}}


@DOORS
@pytest.mark.parametrize(
    ("payload", "answer"),
    [
        (None, {"response_type": "ephemeral", "text": COULD_NOT_QUEUE}),
        (sr.block_action(), {"response_type": "ephemeral", "text": COULD_NOT_QUEUE}),
        (SUBMISSION, {"response_action": "errors", "errors": {"title": COULD_NOT_QUEUE}}),
        (
            submission({"blocks": []}),
            {"response_action": "errors", "errors": {"severity": COULD_NOT_QUEUE}},
        ),
        (
            submission({"blocks": [], "state": {"values": {}}}),
            {"response_type": "ephemeral", "text": COULD_NOT_QUEUE},
        ),
    ],
    ids=[
        "slash_command",
        "block_actions",
        "view_submission",
        "view_submission_state_only",
        "view_submission_no_inputs",
    ],
)
def test_a_command_or_interaction_the_queue_cannot_take_is_told_to_try_again(
    door: str,
    payload: dict[str, Any] | None,
    answer: dict[str, Any],
    aws: Aws,
    capsys: pytest.CaptureFixture[str],
) -> None:
    body = sr.slash_command("ping") if payload is None else sr.interaction(payload)
    aws.sqs.delete_queue(QueueUrl=aws.resources.queue_url)
    capsys.readouterr()
    result = call(sr.signed_event(door, body, FORM))
    assert result["statusCode"] == 200  # Slack never delivers these again: a 5xx would be "dispatch_failed"
    assert result["headers"]["Content-Type"] == "application/json"
    assert json.loads(result["body"]) == answer
    (line,) = log_lines(capsys)
    assert line["outcome"] == "enqueue_failed" and line["level"] == "ERROR"
    assert line["EnqueueFailed"] == 1 and "Acked" not in line


@DOORS
def test_an_unreachable_queue_tells_a_slash_command_to_try_again_within_three_seconds(
    door: str, aws: Aws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.moto_server import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", f"http://127.0.0.1:{free_port()}")
    capsys.readouterr()
    started = time.monotonic()
    result = call(sr.signed_event(door, sr.slash_command("ping"), FORM))
    assert time.monotonic() - started < 3.0
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"response_type": "ephemeral", "text": COULD_NOT_QUEUE}
    (line,) = log_lines(capsys)
    assert line["outcome"] == "enqueue_failed" and line["level"] == "ERROR"


@DOORS
def test_an_event_the_queue_cannot_take_still_gets_5xx_and_counts_as_enqueue_failed(
    door: str, aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.sqs.delete_queue(QueueUrl=aws.resources.queue_url)
    capsys.readouterr()
    result = call(sr.signed_event(door, sr.mention()))
    assert result["statusCode"] == 503
    (line,) = log_lines(capsys)
    assert line["outcome"] == "enqueue_failed" and line["level"] == "ERROR" and line["EnqueueFailed"] == 1


@DOORS
@pytest.mark.parametrize(
    "payload",
    [
        {
            "type": "block_suggestion",
            "team": {"id": "T0001"},
            "user": {"id": "U0HUMAN"},
            "action_id": "service",
            "block_id": "service",
            "value": "pay",
            "view": {"id": "V1", "callback_id": "incident:declare"},
        },
        {
            "type": "dialog_suggestion",
            "token": "verification-token-unused",
            "action_ts": "1700000000.000200",
            "team": {"id": "T0001"},
            "user": {"id": "U0HUMAN"},
            "channel": {"id": "C0001"},
            "name": "service",
            "value": "pay",
            "callback_id": "legacy-dialog",
        },
    ],
    ids=["block_suggestion", "dialog_suggestion"],
)
def test_suggestions_are_answered_with_options_and_not_queued(
    door: str, payload: dict[str, Any], aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    result = call(sr.signed_event(door, sr.interaction(payload), FORM))
    assert result["statusCode"] == 200
    assert result["headers"]["Content-Type"] == "application/json"
    assert json.loads(result["body"]) == {"options": []}
    assert aws.depth() == 0
    (line,) = log_lines(capsys)
    assert line["type"] == payload["type"] and line["user"] == "U0HUMAN"


@DOORS
def test_unsigned_suggestions_are_refused(door: str, aws: Aws) -> None:
    body = sr.interaction({"type": "block_suggestion", "value": "x"})
    result = call(sr.signed_event(door, body, FORM, secret="not-the-secret"))
    assert result["statusCode"] == 401
    assert "options" not in result["body"]


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
