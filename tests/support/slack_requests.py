"""Builders that turn a Slack request into the real Lambda events of the ingest's three front doors.

Shapes follow AWS's documented payloads: Function URL and HTTP API (payload format 2.0: lowercase
header names, form bodies base64-encoded, ``cookies``), and REST API (payload format 1.0: header names
as sent, ``multiValueHeaders``, ``isBase64Encoded`` possibly absent).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FRONT_DOORS = ("function_url", "http_api", "rest_api")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Independent of ingest.signature, so the scheme is checked, not echoed."""
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return "v0=" + digest.hexdigest()


def slack_headers(
    body: bytes,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    content_type: str = "application/json",
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": content_type,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(secret, ts, body),
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    return headers


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


# ----- Slack payloads ----------------------------------------------------------------------------


def event_callback(event: dict[str, Any], *, event_id: str | None = None, team: str = "T0001") -> bytes:
    return json.dumps(
        {
            "token": "verification-token-unused",
            "team_id": team,
            "api_app_id": "A0001",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team,
                    "user_id": "UBOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
        }
    ).encode()


def mention(text: str = "<@UBOT> ping", *, channel: str = "C0001", ts: str | None = None, **kw: Any) -> bytes:
    ts = ts or f"{time.time():.6f}"
    event = {
        "type": "app_mention",
        "user": "U0HUMAN",
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    event.update(kw.pop("extra", {}))
    return event_callback(event, **kw)


def direct_message(text: str = "ping", *, channel: str = "D0001", ts: str | None = None, **kw: Any) -> bytes:
    ts = ts or f"{time.time():.6f}"
    event = {
        "type": "message",
        "channel_type": "im",
        "user": "U0HUMAN",
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    event.update(kw.pop("extra", {}))
    return event_callback(event, **kw)


def slash_command(
    text: str = "ping",
    *,
    command: str = "/ops",
    response_url: str = "https://hooks.slack.com/commands/T0001/1/x",
) -> bytes:
    return urlencode(
        {
            "token": "verification-token-unused",
            "team_id": "T0001",
            "team_domain": "example",
            "channel_id": "C0001",
            "channel_name": "general",
            "user_id": "U0HUMAN",
            "user_name": "ada",
            "command": command,
            "text": text,
            "api_app_id": "A0001",
            "response_url": response_url,
            "trigger_id": f"{uuid.uuid4().int % 10**12}.1.{uuid.uuid4().hex}",
        }
    ).encode()


def interaction(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def block_action(
    action_id: str = "recheck", value: str = "https://example.org", **extra: Any
) -> dict[str, Any]:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0001", "domain": "example"},
        "user": {"id": "U0HUMAN", "username": "ada"},
        "api_app_id": "A0001",
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0001"},
        "trigger_id": f"{uuid.uuid4().int % 10**12}.1.{uuid.uuid4().hex}",
        "channel": {"id": "C0001", "name": "general"},
        "message": {"type": "message", "ts": "1700000000.000100", "text": "check"},
        "response_url": "https://hooks.slack.com/actions/T0001/1/x",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "type": "button",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    payload.update(extra)
    return payload
