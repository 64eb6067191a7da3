"""Builders that turn a Slack request into the real Lambda events of the ingest's three front doors.

Shapes follow AWS's documented payloads: Function URL and HTTP API (payload format 2.0: lowercase
header names, form bodies base64-encoded, ``cookies``), and REST API (payload format 1.0: header names
as sent, ``multiValueHeaders``, ``isBase64Encoded`` possibly absent).
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from sandbox.slack_payloads import (  # noqa: F401 (re-exported for the tests)
    block_action,
    block_suggestion,
    direct_message,
    event_callback,
    global_shortcut,
    interaction,
    mention,
    sign,
    slash_command,
    view_submission,
)
from sandbox.slack_payloads import slack_headers as _slack_headers

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FRONT_DOORS = ("function_url", "http_api", "rest_api")


def slack_headers(body: bytes, *, secret: str = SECRET, **kw: Any) -> dict[str, str]:
    return _slack_headers(body, secret=secret, **kw)


def lambda_event(
    door: str,
    body: bytes | None,
    headers: dict[str, str],
    *,
    method: str = "POST",
    base64_body: bool | None = None,
) -> dict[str, Any]:
    """The event ``door`` would hand the ingest for this HTTP request."""
    form = headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
    encode = form if base64_body is None else base64_body
    text: str | None = None
    if body is not None:
        text = base64.b64encode(body).decode() if encode else body.decode("utf-8", "surrogateescape")
    request_id = str(uuid.uuid4())
    if door == "rest_api":
        event: dict[str, Any] = {
            "resource": "/slack/events",
            "path": "/slack/events",
            "httpMethod": method,
            "headers": dict(headers),
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "queryStringParameters": None,
            "requestContext": {"requestId": request_id, "httpMethod": method, "stage": "prod"},
            "body": text,
        }
        if encode:  # REST APIs leave the flag out unless binary media types apply
            event["isBase64Encoded"] = True
        return event
    lowered = {name.lower(): value for name, value in headers.items()}
    event = {
        "version": "2.0",
        "routeKey": "$default" if door == "function_url" else "POST /slack/events",
        "rawPath": "/slack/events",
        "rawQueryString": "",
        "cookies": ["session=abc"],
        "headers": lowered,
        "requestContext": {
            "requestId": request_id,
            "domainName": "abc.lambda-url.us-east-1.on.aws"
            if door == "function_url"
            else "abc.execute-api.us-east-1.amazonaws.com",
            "http": {
                "method": method,
                "path": "/slack/events",
                "protocol": "HTTP/1.1",
                "sourceIp": "3.3.3.3",
            },
        },
        "body": text,
        "isBase64Encoded": encode,
    }
    return event


def signed_event(door: str, body: bytes, content_type: str = "application/json", **kw: Any) -> dict[str, Any]:
    secret = kw.pop("secret", SECRET)
    headers = slack_headers(body, secret=secret, content_type=content_type, **kw)
    return lambda_event(door, body, headers)
