"""The Web API's message methods (chat.postMessage, chat.update, chat.postEphemeral) and
posts to a ``response_url``, with Slack's required arguments and refusals."""

from __future__ import annotations

import time
from typing import Any

from sandbox.slack_standin.limits import check_message
from sandbox.slack_standin.wire import ApiError, Reply, text_reply
from sandbox.slack_standin.workspace import BOT_ID, BOT_USER_ID, RESPONSE_URL_USES, TEAM_ID, Workspace

__all__ = ["METHODS", "post_to_response_url"]


def _post_message(s: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    channel = s.check_channel(args)
    if not has_content(args):
        raise ApiError("no_text")
    check_message(args)
    ts = s.next_ts()
    message: dict[str, Any] = {
        "type": "message",
        "text": args.get("text") or "",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "team": TEAM_ID,
        "ts": ts,
    }
    for key in ("blocks", "attachments", "thread_ts", "metadata"):
        if args.get(key):
            message[key] = args[key]
    with s.lock:
        s.messages.setdefault(channel, {})[ts] = message
    return {"channel": channel, "ts": ts, "message": dict(message)}


def _update(s: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    channel = s.check_channel(args)
    ts = args.get("ts")
    if not has_content(args):
        raise ApiError("no_text")
    check_message(args)
    with s.lock:
        message = s.messages.get(channel, {}).get(str(ts)) if ts else None
        if message is None:
            raise ApiError("message_not_found")
        message["text"] = args.get("text") or ""
        for key in ("blocks", "attachments"):
            if key in args:
                message[key] = args[key]
        message["edited"] = {"user": BOT_USER_ID, "ts": s.next_ts()}
        snapshot = dict(message)
    return {"channel": channel, "ts": ts, "text": snapshot["text"], "message": snapshot}


def _post_ephemeral(s: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    s.check_channel(args)
    user = args.get("user")
    if not isinstance(user, str) or not user:
        raise ApiError("user_not_found")
    if user in s.users_not_in_channels:
        raise ApiError("user_not_in_channel")
    if not has_content(args):
        raise ApiError("no_text")
    check_message(args)
    return {"message_ts": s.next_ts()}


def post_to_response_url(s: Workspace, response_id: str, body: Any) -> Reply:
    """A post to a minted ``response_url``: Slack answers it in plain text, a refusal with the bare code."""
    with s.lock:
        minted = s.response_urls.get(response_id)
        if minted is None:
            return text_reply("no_service", 404, ok=False, error="no_service")
        if minted.uses >= RESPONSE_URL_USES or time.time() >= minted.expires_at:
            return text_reply("expired_url", 404, ok=False, error="expired_url")
        if not isinstance(body, dict):
            return text_reply("invalid_payload", 400, ok=False, error="invalid_payload")
        if not (has_content(body) or body.get("delete_original")):
            return text_reply("no_text", 400, ok=False, error="no_text")
        try:
            check_message(body)
        except ApiError as e:  # Slack answers a response_url 400 with the bare error code
            return text_reply(e.error, 400, ok=False, error=e.error)
        minted.uses += 1
    return text_reply("ok", 200, ok=True)


def has_content(args: dict[str, Any]) -> bool:
    return any(args.get(key) for key in ("text", "blocks", "attachments"))


METHODS = {
    "chat.postMessage": _post_message,
    "chat.update": _update,
    "chat.postEphemeral": _post_ephemeral,
}
