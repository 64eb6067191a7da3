"""The Web API's view methods: views.open, views.push and views.update for modals, views.publish for
Home tabs. A view Slack cannot show is refused ``invalid_arguments`` (see ``limits``)."""

from __future__ import annotations

import copy
import hashlib
import json
import time
from typing import Any

from sandbox.slack_standin.limits import check_home_view, check_view
from sandbox.slack_standin.wire import ApiError
from sandbox.slack_standin.workspace import BOT_ID, TEAM_ID, Workspace

__all__ = ["METHODS"]


def _views_open(s: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    """views.open, and views.push too: the stand-in keeps no stack of modals, so both show a new view."""
    trigger_id, view = _trigger_arg(args), _view_arg(args)
    check_view(view, kinds=("modal",))
    with s.lock:
        s.view_store.exchange(trigger_id, time.monotonic())
        return {"view": s.view_store.show(view)}


def _views_update(s: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    if not (args.get("view_id") or args.get("external_id")):
        raise ApiError("invalid_arguments", details=["either view_id or external_id is required"])
    view = _view_arg(args)
    check_view(view, kinds=("modal", "home"))
    with s.lock:
        return {"view": s.view_store.replace(args, view)}


def _trigger_arg(args: dict[str, Any]) -> str:
    trigger_id = args.get("trigger_id") or args.get("interactivity_pointer")
    if not isinstance(trigger_id, str) or not trigger_id:
        raise ApiError("invalid_arguments", details=["missing required field: trigger_id"])
    return trigger_id


def _view_arg(args: dict[str, Any]) -> dict[str, Any]:
    """The ``view`` argument as an object (slack_sdk sends it JSON-encoded), put back so the record has it."""
    view = args.get("view")
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            raise ApiError("invalid_arguments", details=["view must be a JSON object"]) from None
    if not isinstance(view, dict):
        raise ApiError("invalid_arguments", details=["missing required field: view"])
    args["view"] = view
    return view


def _views_publish(s: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user_id = args.get("user_id")
    view = _json_argument(args.get("view"))
    if not isinstance(user_id, str) or not user_id:
        raise ApiError("invalid_arguments", details=["missing required field: user_id"])
    if not isinstance(view, dict):
        raise ApiError("invalid_arguments", details=["missing required field: view"])
    check_home_view(view)
    if s.user(user_id) is None:
        raise ApiError("not_found")
    if not s.home_tab_enabled:
        raise ApiError("not_enabled")
    with s.lock:
        current = s.home_views.get(user_id)
        wanted_hash = args.get("hash")
        if wanted_hash and (current is None or current["hash"] != wanted_hash):
            raise ApiError("hash_conflict")
        view_id = current["id"] if current is not None else f"V{len(s.home_views) + 1:010d}"
        stored = {
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "state": {"values": {}},
            "hash": f"{s.next_ts()}.{hashlib.sha256(json.dumps(view).encode()).hexdigest()[:8]}",
            "root_view_id": view_id,
            "bot_id": BOT_ID,
        }
        s.home_views[user_id] = stored
        return {"view": copy.deepcopy(stored)}


def _json_argument(value: Any) -> Any:
    """A JSON argument sent form-encoded arrives as a string."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


METHODS = {
    "views.open": _views_open,
    "views.push": _views_open,
    "views.update": _views_update,
    "views.publish": _views_publish,
}
