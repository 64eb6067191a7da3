"""The sandbox's HTTP front: the real ingest behind a Function URL stand-in, over real HTTP, with moto."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from ingest.handler import lambda_handler
from sandbox.http_front import (
    MAX_BODY_BYTES,
    BadResponse,
    HttpFront,
    RequestReport,
    function_url_event,
    to_http,
)
from tests.conftest import Aws
from tests.support import slack_requests as sr

FORM = "application/x-www-form-urlencoded"


def request(
    url: str, body: bytes | None = None, headers: dict[str, str] | None = None, method: str = "POST"
) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as answer:
            return answer.status, dict(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers.items()), error.read()


class Capture:
    """A Lambda handler that records its event and context and answers with ``result``."""

    def __init__(self, result: Any = None) -> None:
        self.result = result if result is not None else {"statusCode": 200, "body": "ok"}
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        return self.result


@pytest.fixture
def reports() -> list[RequestReport]:
    return []


@pytest.fixture
def ingest_front(aws: Aws, signing_secret: str, reports: list[RequestReport]) -> Iterator[HttpFront]:
    with HttpFront(lambda_handler, on_request=reports.append) as front:
        yield front


# -- the real ingest over HTTP ----------------------------------------------------------------------


def test_a_signed_mention_gets_200_and_lands_on_the_queue(
    ingest_front: HttpFront, aws: Aws, reports: list[RequestReport]
) -> None:
    body = sr.mention("<@UBOT> ping", event_id="Ev0HTTPFRONT", channel="C0042")
    status, headers, _ = request(ingest_front.url + "/slack/events", body, sr.slack_headers(body))
    assert status == 200
    assert headers.get("x-amzn-RequestId")
    messages = aws.messages()
    assert len(messages) == 1
    queued = json.loads(messages[0]["Body"])
    assert queued["kind"] == "event"
    assert queued["payload"] == json.loads(body)
    assert [(r.method, r.path, r.status) for r in reports] == [("POST", "/slack/events", 200)]
    assert reports[0].error is None
    assert reports[0].duration_ms >= 0


def test_a_signed_slash_command_form_body_survives_the_base64_round_trip(
    ingest_front: HttpFront, aws: Aws
) -> None:
    body = sr.slash_command("check https://example.org", command="/ops")
    status, _, _ = request(
        ingest_front.url + "/slack/events", body, sr.slack_headers(body, content_type=FORM)
    )
    assert status == 200  # the signature matched the bytes Slack sent, so the body arrived intact
    messages = aws.messages()
    assert len(messages) == 1
    queued = json.loads(messages[0]["Body"])
    assert queued["kind"] == "command"
    assert queued["payload"]["command"] == "/ops"
    assert queued["payload"]["text"] == "check https://example.org"


def test_an_unsigned_request_gets_401_with_no_retry_and_queues_nothing(
    ingest_front: HttpFront, aws: Aws
) -> None:
    body = sr.mention()
    status, headers, _ = request(
        ingest_front.url + "/slack/events", body, {"Content-Type": "application/json"}
    )
    assert status == 401
    assert headers.get("X-Slack-No-Retry") == "1"
    assert aws.depth() == 0


def test_get_on_the_slack_path_gets_405_from_the_ingest(
    ingest_front: HttpFront, reports: list[RequestReport]
) -> None:
    status, headers, _ = request(ingest_front.url + "/slack/events", method="GET")
    assert status == 405
    assert headers.get("Allow") == "POST"
    assert reports[-1].method == "GET"


def test_an_unknown_path_gets_404(ingest_front: HttpFront, aws: Aws) -> None:
    body = sr.mention()
    status, _, answer = request(ingest_front.url + "/nope", body, sr.slack_headers(body))
    assert status == 404
    assert json.loads(answer) == {"message": "Not Found"}
    assert aws.depth() == 0


# -- the Function URL behaviour, with a stand-in handler ----------------------------------------------


def test_the_handler_gets_a_function_url_event_and_a_context() -> None:
    handler = Capture({"statusCode": 201, "headers": {"X-Test": "yes"}, "cookies": ["a=1"], "body": "made"})
    with HttpFront(handler, function_timeout_seconds=2.5) as front:
        status, headers, answer = request(
            front.url + "/slack/events?x=1&x=2",
            b"a=1&b=2",
            {"Content-Type": FORM, "Cookie": "s=1; t=2", "X-Custom": "v"},
        )
    assert (status, answer) == (201, b"made")
    assert headers["X-Test"] == "yes"
    assert headers["Set-Cookie"] == "a=1"
    [event] = handler.events
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/slack/events"
    assert event["rawQueryString"] == "x=1&x=2"
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["headers"]["x-custom"] == "v"
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert "cookie" not in event["headers"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"a=1&b=2"
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    [context] = handler.contexts
    assert context.function_name == "ingest"
    assert 0 < context.get_remaining_time_in_millis() <= 2500


def test_extra_get_routes_are_served_on_the_same_port() -> None:
    def messages() -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "application/json"}, b'{"messages": []}'

    handler = Capture()
    with HttpFront(handler, extra_get_routes={"/sandbox/messages": messages}) as front:
        status, headers, answer = request(front.url + "/sandbox/messages", method="GET")
        post_status, _, _ = request(front.url + "/sandbox/messages", b"{}")
    assert (status, answer) == (200, b'{"messages": []}')
    assert headers["Content-Type"] == "application/json"
    assert post_status == 405
    assert handler.events == []


def test_a_handler_that_raises_gets_the_function_urls_502(reports: list[RequestReport]) -> None:
    def broken(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("bug")

    with HttpFront(broken, on_request=reports.append) as front:
        status, headers, answer = request(
            front.url + "/slack/events", b"{}", {"Content-Type": "application/json"}
        )
    assert status == 502
    assert json.loads(answer) == {"message": "Internal Server Error"}
    assert headers["Content-Type"] == "application/json"
    assert reports[0].status == 502
    assert reports[0].error is not None and "RuntimeError" in reports[0].error


def test_a_body_over_lambdas_payload_limit_gets_413_without_invoking() -> None:
    handler = Capture()
    with HttpFront(handler) as front:
        status, _, _ = request(
            front.url + "/slack/events", b"x" * (MAX_BODY_BYTES + 1), {"Content-Type": FORM}
        )
        small, _, _ = request(front.url + "/slack/events", b"x", {"Content-Type": FORM})
    assert status == 413
    assert small == 200
    assert len(handler.events) == 1


def test_keep_alive_serves_several_requests_on_one_connection_and_stop_joins() -> None:
    before = set(threading.enumerate())
    front = HttpFront(Capture()).start()
    connection = http.client.HTTPConnection("127.0.0.1", front.port, timeout=5)
    try:
        for _ in range(3):
            connection.request(
                "POST", "/slack/events", body=b"{}", headers={"Content-Type": "application/json"}
            )
            answer = connection.getresponse()
            assert (answer.status, answer.read()) == (200, b"ok")
    finally:
        connection.close()
        front.stop()
    serving = [t for t in threading.enumerate() if t not in before and t.name.startswith("http-front")]
    assert serving == []


# -- units: the event and the answer ----------------------------------------------------------------


def test_function_url_event_lowercases_joins_and_separates_cookies() -> None:
    headers = [
        ("Content-Type", "application/json"),
        ("X-Slack-Signature", "v0=abc"),
        ("Accept", "a"),
        ("ACCEPT", "b"),
        ("Cookie", "one=1; two=2"),
        ("User-Agent", "Slackbot 1.0"),
    ]
    event = function_url_event("post", "/slack/events", "", headers, b'{"a": 1}', "3.3.3.3", url_id="abc")
    assert event["headers"]["content-type"] == "application/json"
    assert event["headers"]["x-slack-signature"] == "v0=abc"
    assert event["headers"]["accept"] == "a,b"
    assert all(name == name.lower() for name in event["headers"])
    assert event["cookies"] == ["one=1", "two=2"]
    assert "queryStringParameters" not in event
    assert event["body"] == '{"a": 1}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["accountId"] == "anonymous"
    assert context["domainName"] == "abc.lambda-url.us-east-1.on.aws"
    assert context["domainPrefix"] == context["apiId"] == "abc"
    assert context["http"] == {
        "method": "POST",
        "path": "/slack/events",
        "protocol": "HTTP/1.1",
        "sourceIp": "3.3.3.3",
        "userAgent": "Slackbot 1.0",
    }
    assert context["routeKey"] == context["stage"] == event["routeKey"] == "$default"
    assert isinstance(context["timeEpoch"], int)
    assert context["requestId"]


def test_function_url_event_base64_encodes_forms_and_binary_but_not_text() -> None:
    def event(content_type: str, body: bytes = b"a=1") -> dict[str, Any]:
        return function_url_event("POST", "/", "", [("Content-Type", content_type)], body, "1.1.1.1")

    form = event(FORM)
    assert form["isBase64Encoded"] is True
    assert base64.b64decode(form["body"]) == b"a=1"
    assert event("application/octet-stream")["isBase64Encoded"] is True
    assert event("text/plain; charset=utf-8")["body"] == "a=1"
    assert event("application/vnd.api+json")["isBase64Encoded"] is False
    empty = event(FORM, b"")
    assert "body" not in empty
    assert empty["isBase64Encoded"] is False
    assert "cookies" not in empty


def test_to_http_reads_a_handlers_answer_like_a_function_url() -> None:
    assert to_http({"statusCode": 204}) == (204, [], b"")
    encoded = base64.b64encode(b"\x00bin").decode()
    assert to_http({"statusCode": 200, "body": encoded, "isBase64Encoded": True}) == (200, [], b"\x00bin")
    assert to_http({"statusCode": 302, "headers": {"Location": "/x"}, "cookies": ["c=1"], "body": "go"}) == (
        302,
        [("Location", "/x"), ("Set-Cookie", "c=1")],
        b"go",
    )
    assert to_http({"challenge": "abc"}) == (
        200,
        [("Content-Type", "application/json")],
        b'{"challenge": "abc"}',
    )
    assert to_http([1, 2]) == (200, [("Content-Type", "application/json")], b"[1, 2]")
    assert to_http("plain") == (200, [("Content-Type", "application/json")], b"plain")
    for bad in ({"statusCode": "200"}, {"statusCode": 200, "body": object()}, {"statusCode": 99}):
        with pytest.raises(BadResponse):
            to_http(bad)
