"""The Web API's methods about who and where: auth.test, users.info, conversations.open,
conversations.info."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from sandbox.slack_standin.wire import ApiError
from sandbox.slack_standin.workspace import BOT_ID, BOT_USER_ID, TEAM_ID, Workspace

__all__ = ["METHODS"]

_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")


def _auth_test(s: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": "https://standin.slack.com/",
        "team": "Stand-in",
        "user": "bot",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
    }


def _users_info(s: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user_id = args.get("user")
    if not isinstance(user_id, str) or not user_id:
        raise ApiError("invalid_arguments", details=["missing required field: user"])
    user = s.user(user_id)
    if user is None:
        raise ApiError("user_not_found")
    return {"user": user}


def _conversations_info(s: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    channel = args.get("channel")
    if not isinstance(channel, str) or not _CHANNEL_ID.fullmatch(channel) or channel in s.missing_channels:
        raise ApiError("channel_not_found")
    im, private = channel.startswith("D"), channel.startswith("G")
    return {
        "channel": {
            "id": channel,
            "name": None if im else f"channel-{channel.lower()}",
            "is_channel": not (im or private),
            "is_group": private,
            "is_im": im,
            "is_private": private or im,
            "is_archived": False,
            "is_member": channel not in s.not_in_channels,
            "created": 1_700_000_000,
        }
    }


def _conversations_open(s: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    users = args.get("users")
    if isinstance(users, list):
        users = ",".join(str(u) for u in users)
    if not users:
        channel = args.get("channel")
        if isinstance(channel, str) and channel:
            return {"channel": {"id": channel}}
        raise ApiError("users_list_not_supplied")
    key = ",".join(sorted(u.strip() for u in str(users).split(",") if u.strip()))
    digest = hashlib.sha256(key.encode()).hexdigest()[:10].upper()
    return {"channel": {"id": f"D{digest}"}, "no_op": False, "already_open": False}


METHODS = {
    "auth.test": _auth_test,
    "users.info": _users_info,
    "conversations.open": _conversations_open,
    "conversations.info": _conversations_info,
}
