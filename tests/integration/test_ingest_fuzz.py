"""Hypothesis against the whole ingest handler: no exception, no 5xx, nothing queued unsigned."""

from __future__ import annotations

import base64
import json
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from ingest.handler import lambda_handler
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
