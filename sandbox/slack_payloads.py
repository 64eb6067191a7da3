"""What Slack sends: signed requests for a mention, a direct message, a slash command, a click, a modal
submission, a global shortcut, an external select asking for options or a Home tab being opened.

A command, a click, a shortcut and a submission carry a ``trigger_id``; pass one minted by the Slack
stand-in (``SlackStandIn.new_trigger_id()``, ``POST /sandbox/trigger_id``) when the bot is to open a
view with it, since the stand-in refuses ids it did not issue, as Slack refuses expired ones.

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
                    "user_id": bot_user,
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


def app_home_opened(*, user: str = "U0HUMAN", channel: str = "D0001", tab: str = "home", **kw: Any) -> bytes:
    """Someone opened the app's Home tab (``tab="messages"``: its Messages tab); ``channel`` is their DM
    with the app. Slack adds the published ``view`` only once the app has published one: left out."""
    event = {"type": "app_home_opened", "user": user, "channel": channel, "tab": tab}
    event["event_ts"] = f"{time.time():.6f}"
    return event_callback(event, **kw)


def slash_command(
    text: str = "ping",
    *,
    command: str = "/ops",
    response_url: str = "https://hooks.slack.com/commands/T0001/1/x",
    trigger_id: str | None = None,
    channel: str = "C0001",
    team: str = "T0001",
) -> bytes:
    return urlencode(
        {
            "token": "verification-token-unused",
            "team_id": team,
            "team_domain": "example",
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else "general",
            "user_id": "U0HUMAN",
            "user_name": "ada",
            "command": command,
            "text": text,
            "api_app_id": "A0001",
            "response_url": response_url,
            "trigger_id": trigger_id or _made_up_trigger_id(),
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
        "trigger_id": _made_up_trigger_id(),
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


def view_submission(
    view: dict[str, Any],
    values: dict[str, str | None],
    *,
    user: str = "U0HUMAN",
    trigger_id: str | None = None,
    team: str = "T0001",
) -> dict[str, Any]:
    """Submitting the modal ``view`` (as the bot opened it) with ``values`` typed or chosen, by block_id.

    Each input block's state has its element's shape: ``value`` for text inputs, ``selected_option``
    for selects; an input left out of ``values`` is submitted empty, as Slack does.
    """
    state: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks") or []:
        element = block.get("element") if block.get("type") == "input" else None
        if isinstance(element, dict):
            chosen = values.get(block["block_id"])
            state[block["block_id"]] = {element["action_id"]: _input_state(element, chosen)}
    submitted: dict[str, Any] = {
        "id": "V0SUBMITTED",
        "team_id": team,
        "type": "modal",
        "title": view.get("title"),
        "blocks": view.get("blocks") or [],
        "private_metadata": view.get("private_metadata") or "",
        "callback_id": view.get("callback_id") or "",
        "external_id": view.get("external_id") or "",
        "hash": "1700000000.abcdef12",
        "app_id": "A0001",
        "bot_id": "B0001",
        **{key: view[key] for key in ("id", "root_view_id", "previous_view_id") if key in view},
        "state": {"values": state},
    }
    return {
        "type": "view_submission",
        "team": {"id": team, "domain": "example"},
        "user": {"id": user, "username": "ada", "name": "ada", "team_id": team},
        "api_app_id": "A0001",
        "token": "verification-token-unused",
        "trigger_id": trigger_id or _made_up_trigger_id(),
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
    }


def _input_state(element: dict[str, Any], chosen: str | None) -> dict[str, Any]:
    kind = element.get("type")
    if kind in ("static_select", "external_select"):
        option = None
        if chosen is not None:
            option = {"text": {"type": "plain_text", "text": chosen, "emoji": True}, "value": chosen}
        return {"type": kind, "selected_option": option}
    return {"type": kind, "value": chosen}


def global_shortcut(
    callback_id: str, *, user: str = "U0HUMAN", trigger_id: str | None = None, team: str = "T0001"
) -> dict[str, Any]:
    """A global shortcut (the lightning-bolt menu): no channel, no message, a trigger to open a modal."""
    return {
        "type": "shortcut",
        "token": "verification-token-unused",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": team, "domain": "example"},
        "user": {"id": user, "username": "ada", "team_id": team},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or _made_up_trigger_id(),
    }


def block_suggestion(
    action_id: str,
    value: str,
    *,
    block_id: str | None = None,
    view: dict[str, Any] | None = None,
    user: str = "U0HUMAN",
    team: str = "T0001",
) -> dict[str, Any]:
    """An external select in ``view`` asking for the options matching what the user typed (``value``)."""
    shown = view or {}
    return {
        "type": "block_suggestion",
        "user": {"id": user, "username": "ada", "team_id": team},
        "container": {"type": "view", "view_id": shown.get("id", "V0SUGGEST")},
        "api_app_id": "A0001",
        "token": "verification-token-unused",
        "action_id": action_id,
        "block_id": block_id or action_id,
        "value": value,
        "team": {"id": team, "domain": "example"},
        "view": {
            "id": shown.get("id", "V0SUGGEST"),
            "type": "modal",
            "callback_id": shown.get("callback_id", ""),
            "private_metadata": shown.get("private_metadata", ""),
            "blocks": shown.get("blocks", []),
            "state": {"values": {}},
        },
    }


def _made_up_trigger_id() -> str:
    """Shaped like Slack's; the stand-in has not issued it, so it cannot open a view there."""
    return f"{uuid.uuid4().int % 10**12}.1.{uuid.uuid4().hex}"
