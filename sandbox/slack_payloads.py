"""What Slack sends: signed requests for a mention, a direct message, a slash command or a click.

Used by ``slackbot say`` (to talk to the local sandbox as Slack would) and by the tests. The signature
is computed here independently of ``ingest.signature``, so tests check the scheme rather than echo it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

BOT_USER = "UBOT"  # the bot user the payloads' ``authorizations`` name
DEV_SIGNING_SECRET = "sandbox-development-signing-secret"  # noqa: S105 (local sandbox only, printed at start)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Independent of ingest.signature, so the scheme is checked, not echoed."""
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return "v0=" + digest.hexdigest()


def slack_headers(
    body: bytes,
    *,
    secret: str,
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


def event_callback(
    event: dict[str, Any], *, event_id: str | None = None, team: str = "T0001", bot_user: str = BOT_USER
) -> bytes:
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
    return _message({"type": "app_mention"}, text, channel, ts, **kw)


def direct_message(text: str = "ping", *, channel: str = "D0001", ts: str | None = None, **kw: Any) -> bytes:
    return _message({"type": "message", "channel_type": "im"}, text, channel, ts, **kw)


def _message(kind: dict[str, Any], text: str, channel: str, ts: str | None, **kw: Any) -> bytes:
    """A human's message event (``extra`` adds or overrides event fields, e.g. ``thread_ts``)."""
    ts = ts or f"{time.time():.6f}"
    event = {**kind, "user": "U0HUMAN", "text": text, "ts": ts, "channel": channel, "event_ts": ts}
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
