"""Hypothesis against the whole ingest handler: no exception, no 5xx, nothing queued unsigned, any text queued."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlencode

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from ingest.handler import lambda_handler
from sandbox.slack_payloads import BOT_USER
from tests.conftest import Aws
from tests.support import slack_requests as sr

pytestmark = pytest.mark.usefixtures("signing_secret")
FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

bodies = st.sampled_from(
    [
        sr.mention(),
        sr.direct_message(),
        sr.slash_command(),
        sr.interaction(sr.block_action()),
        json.dumps({"type": "url_verification", "challenge": "c"}).encode(),
    ]
)
HEADER_NAMES = ["X-Slack-Signature", "X-Slack-Request-Timestamp", "Content-Type", "X-Slack-Retry-Num"]


@st.composite
def unsigned_events(draw: st.DrawFn) -> dict[str, Any]:
    """A genuine signed request with one part broken, through a random front door."""
    door = draw(st.sampled_from(sr.FRONT_DOORS))
    body = draw(bodies)
    form = not body.startswith(b"{")
    headers = sr.slack_headers(
        body, content_type="application/x-www-form-urlencoded" if form else "application/json"
    )
    mutation = draw(
        st.sampled_from(["flip", "drop", "timestamp", "signature", "random_body", "truncate", "append"])
    )
    if mutation == "flip":
        index = draw(st.integers(0, len(body) * 8 - 1))
        body = bytearray(body)  # type: ignore[assignment]
        body[index // 8] ^= 1 << (index % 8)  # type: ignore[index]
        body = bytes(body)
    elif mutation == "drop":
        del headers[draw(st.sampled_from(HEADER_NAMES[:2]))]
    elif mutation == "timestamp":
        headers["X-Slack-Request-Timestamp"] = draw(
            st.text(max_size=20).filter(lambda t: t != headers["X-Slack-Request-Timestamp"])
        )
    elif mutation == "signature":
        headers["X-Slack-Signature"] = draw(
            st.text(max_size=80).filter(lambda s: s != headers["X-Slack-Signature"])
        )
    elif mutation == "random_body":
        body = draw(st.binary(max_size=2000).filter(lambda b: b != body))
    elif mutation == "truncate":
        body = body[: draw(st.integers(0, len(body) - 1))]
    else:
        body = body + draw(st.binary(min_size=1, max_size=50))
    event = sr.lambda_event(
        door, body, headers, base64_body=draw(st.booleans()) if mutation != "random_body" else True
    )
    if draw(st.booleans()):  # mangle the Lambda event itself too
        key = draw(
            st.sampled_from(["body", "headers", "isBase64Encoded", "requestContext", "multiValueHeaders"])
        )
        event[key] = draw(
            st.one_of(
                st.none(),
                st.text(max_size=30),
                st.integers(),
                st.booleans(),
                st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
            )
        )
    return event


@FUZZ
@given(event=unsigned_events())
def test_broken_requests_never_raise_never_5xx_never_queue(aws: Aws, event: dict[str, Any]) -> None:
    result = lambda_handler(event, None)
    assert 200 <= result["statusCode"] < 500
    if result["statusCode"] == 200:  # only what needs no signature may pass: ssl_check
        assert b"ssl_check" in _raw_body(event)
    assert aws.depth() == 0


def _raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body")
    if not isinstance(body, str):
        return b""
    try:
        return (
            base64.b64decode(body)
            if event.get("isBase64Encoded") is True
            else body.encode("utf-8", "surrogatepass")
        )
    except ValueError:
        return body.encode("utf-8", "surrogatepass")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    door=st.sampled_from(sr.FRONT_DOORS),
    body=st.one_of(
        st.binary(max_size=500),
        st.builds(
            lambda v: json.dumps(v).encode(),
            st.recursive(
                st.none() | st.integers() | st.text(max_size=10),
                lambda c: (
                    st.lists(c, max_size=3)
                    | st.dictionaries(
                        st.sampled_from(["type", "event", "event_id", "challenge", "payload", "command"]),
                        c,
                        max_size=4,
                    )
                ),
                max_leaves=8,
            ),
        ),
        st.builds(
            lambda d: "&".join(f"{k}={v}" for k, v in d.items()).encode(),
            st.dictionaries(
                st.sampled_from(["payload", "command", "text", "ssl_check", "%ZZ"]),
                st.text(max_size=20),
                max_size=4,
            ),
        ),
    ),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", ""]),
)
def test_signed_nonsense_is_answered_4xx_or_200_never_raises(
    aws: Aws, door: str, body: bytes, content_type: str
) -> None:
    result = lambda_handler(sr.signed_event(door, body, content_type), None)
    assert result["statusCode"] in (200, 400, 413)
    if result["statusCode"] == 400:
        assert result["headers"]["X-Slack-No-Retry"] == "1"


# Any character Slack's JSON can carry, lone UTF-16 surrogates included (valid JSON as \ud83d escapes),
# with the pieces that broke something before drawn often.
AWKWARD = ["\ud83d", "\ude00", "\ufffe", "\uffff", "\x00", "\x1f", "\u2028", "a=1&ssl_check=1&b=2", "\\", '"']


def texts(characters: st.SearchStrategy[str], awkward: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(characters, st.sampled_from(awkward)), max_size=12).map("".join)


any_text = texts(st.characters(exclude_categories=()), AWKWARD)
form_text = texts(
    st.characters(exclude_categories=["Cs"]), AWKWARD[2:]
)  # form bytes are UTF-8: no surrogates
# What the queue cannot carry: UTF-8 cannot encode a lone surrogate, SQS refuses U+FFFE and U+FFFF.
UNQUEUEABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")
SQS_ALLOWED = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")


def replaced(value: Any) -> Any:
    """``value`` with every character the queue cannot carry replaced by U+FFFD, in keys and strings."""
    if isinstance(value, str):
        return UNQUEUEABLE.sub("\ufffd", value)
    if isinstance(value, list):
        return [replaced(item) for item in value]
    if isinstance(value, dict):
        return {replaced(key): replaced(item) for key, item in value.items()}
    return value


def json_body(value: dict[str, Any], ascii_only: bool) -> bytes:
    """As Slack may send it: all escaped, or UTF-8 with only what UTF-8 cannot carry escaped."""
    if ascii_only:
        return json.dumps(value).encode()
    text = json.dumps(value, ensure_ascii=False)
    return re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", text).encode()


@st.composite
def signed_requests_with_any_text(draw: st.DrawFn) -> tuple[bytes, str, Any]:
    """A genuine request to queue, its content type, and the payload the worker must find in the queue."""
    shape = draw(st.sampled_from(["mention", "direct_message", "interaction", "command"]))
    if shape == "command":
        fields = {name: draw(form_text) for name in ("text", "user_id", "channel_id", "team_id", "user_name")}
        body = sr.slash_command()
        form = {**{k: v[0] for k, v in parse_qs(body.decode()).items()}, **fields}
        return urlencode(form).encode(), "application/x-www-form-urlencoded", replaced(form)
    if shape == "interaction":
        payload = sr.block_action(value=draw(any_text))
        payload["user"]["id"] = draw(any_text)
        payload["state"] = {"values": {draw(any_text): {draw(any_text): {"value": draw(any_text)}}}}
        raw = json_body(payload, draw(st.booleans()))
        body = urlencode({"payload": raw.decode()}).encode()
        return body, "application/x-www-form-urlencoded", replaced(json.loads(raw))
    extra = {
        "user": draw(any_text.filter(lambda user: user != BOT_USER)),
        "channel": draw(any_text),
        "ts": draw(any_text),
        "x" + draw(any_text): draw(st.lists(any_text, max_size=3)),
    }
    build = sr.mention if shape == "mention" else sr.direct_message
    event = json.loads(build(draw(any_text), extra=extra, event_id=draw(any_text), team=draw(any_text)))
    body = json_body(event, draw(st.booleans()))
    return body, "application/json", replaced(json.loads(body))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(door=st.sampled_from(sr.FRONT_DOORS), request=signed_requests_with_any_text())
def test_any_text_in_a_signed_request_is_queued_never_a_5xx(
    aws: Aws, door: str, request: tuple[bytes, str, Any]
) -> None:
    body, content_type, expected = request
    result = lambda_handler(sr.signed_event(door, body, content_type), None)
    assert result["statusCode"] == 200, result
    (message,) = aws.messages()
    aws.sqs.delete_message(QueueUrl=aws.resources.queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert json.loads(message["Body"])["payload"] == expected
    for value in message["MessageAttributes"].values():
        assert SQS_ALLOWED.fullmatch(value["StringValue"])
