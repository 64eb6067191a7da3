"""The fake Slack workspace's state: what was called, the messages posted, the people, the views.

``Workspace`` is the part of ``SlackStandIn`` that the Web API methods (``methods_*.py``) read and
change, always under ``lock``; it knows nothing of HTTP. Tests read it through ``calls()``,
``replies()`` and ``wait_for()`` and shape it through its public attributes (a channel the bot is
not in, a user who does not exist…).
"""

from __future__ import annotations

import copy
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.slack_standin.printing import summary
from sandbox.slack_standin.wire import ApiError, Record

__all__ = [
    "BOT_ID",
    "BOT_USER_ID",
    "HUMAN_ID",
    "RESPONSE_URL_SECONDS",
    "RESPONSE_URL_USES",
    "TEAM_ID",
    "TRIGGER_TTL_SECONDS",
    "ResponseUrl",
    "ViewStore",
    "Workspace",
    "is_reply",
]

TEAM_ID = "T0STANDIN"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
HUMAN_ID = "U0HUMAN"
"""Who ``slackbot say`` and the test payloads speak as (``sandbox.slack_payloads``): Ada Lovelace."""

RESPONSE_URL_USES = 5
"""How many times Slack accepts a post to one ``response_url``."""
RESPONSE_URL_SECONDS = 30 * 60
"""How long after it was minted Slack accepts posts to a ``response_url``."""

TRIGGER_TTL_SECONDS = 3.0
"""How long a ``trigger_id`` can open a view after Slack issued it."""

_REPLY_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})
_FIRST_TS_MICROS = 1_700_000_000_000_100
_TS_STEP_MICROS = 100
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")

_log = logging.getLogger(__name__)


def is_reply(record: Record) -> bool:
    """A successful chat.postMessage/postEphemeral/update or response_url post: a visible answer."""
    return bool(record["ok"]) and (record["kind"] == "response_url" or record["method"] in _REPLY_METHODS)


@dataclass
class ResponseUrl:
    """A minted ``response_url``: how often it was posted to, and until when it answers."""

    expires_at: float  # time.time()
    uses: int = 0


class Workspace:
    """The stand-in's Slack workspace. Everything here is guarded by ``lock``."""

    def __init__(
        self, *, valid_tokens: set[str] | None = None, on_record: Callable[[Record], None] | None = None
    ) -> None:
        self.valid_tokens = valid_tokens
        """Tokens the Web API accepts; None: any ``xoxb-…``."""
        self.on_record = on_record
        """Called with a copy of each record, from the thread that served the call."""
        self.missing_channels: set[str] = set()
        """Channels that answer ``channel_not_found``."""
        self.not_in_channels: set[str] = set()
        """Channels that answer ``not_in_channel``."""
        self.users_not_in_channels: set[str] = set()
        """Users that ``chat.postEphemeral`` says are not members of the channel (``user_not_in_channel``)."""
        self.missing_users: set[str] = set()
        """Users who answer ``user_not_found`` (``users.info``) and ``not_found`` (``views.publish``)."""
        self.home_tab_enabled = True
        """False: publishing a Home tab answers ``not_enabled``, as when the app's Home tab is turned off."""

        self.lock = threading.Condition(threading.RLock())
        self.messages: dict[str, dict[str, dict[str, Any]]] = {}
        """Posted messages by channel, then by ``ts``."""
        self.response_urls: dict[str, ResponseUrl] = {}
        """Minted response URLs by their id (the last part of the path)."""
        self.view_store = ViewStore()
        self.home_views: dict[str, dict[str, Any]] = {}
        """The Home tab last published for each user."""
        self._records: list[Record] = []
        self._seq = 0
        self._ts_micros = _FIRST_TS_MICROS - _TS_STEP_MICROS
        self._next_response_id = 0
        self._users: dict[str, dict[str, Any]] = {
            BOT_USER_ID: person(BOT_USER_ID, "bot", "Stand-in bot", is_bot=True),
            HUMAN_ID: person(HUMAN_ID, "ada", "Ada Lovelace"),
        }

    # -- records -----------------------------------------------------------------------------------

    def record(self, record: Record) -> None:
        """Number ``record``, keep it, wake the waiters and tell ``on_record``."""
        with self.lock:
            self._seq += 1
            record["seq"] = self._seq
            self._records.append(record)
            self.lock.notify_all()
        callback = self.on_record
        if callback is not None:
            try:
                callback(dict(record))
            except Exception:
                _log.exception("on_record callback failed")

    def calls(self, method: str | None = None, kind: str | None = None) -> list[Record]:
        """Copies of the recorded calls, oldest first, optionally filtered by method and kind."""
        with self.lock:
            return [
                dict(r)
                for r in self._records
                if (method is None or r["method"] == method) and (kind is None or r["kind"] == kind)
            ]

    def replies(self) -> list[Record]:
        """The bot's visible answers: successful chat.postMessage/postEphemeral/update, response_url posts."""
        with self.lock:
            return [dict(r) for r in self._records if is_reply(r)]

    def reset(self) -> None:
        """Forget the records and the channel and user errors.

        Sequence numbers keep counting so that ``?since=`` pollers never miss a record; minted
        response URLs and posted messages stay valid.
        """
        with self.lock:
            self._records.clear()
            self.missing_channels.clear()
            self.not_in_channels.clear()
            self.users_not_in_channels.clear()
            self.missing_users.clear()
            self.home_tab_enabled = True
            self.lock.notify_all()

    def wait_for(self, predicate: Callable[[list[Record]], bool], timeout: float = 10.0) -> list[Record]:
        """Block until ``predicate(records)`` holds and return those records; ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                records = [dict(r) for r in self._records]
                if predicate(records):
                    return records
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(summary(f"condition not met within {timeout:g} s", records))
                self.lock.wait(remaining)

    def wait_for_replies(self, n: int, timeout: float = 10.0) -> list[Record]:
        """Block until at least ``n`` replies (see ``replies()``) were recorded; return all replies."""
        try:
            records = self.wait_for(lambda rs: sum(1 for r in rs if is_reply(r)) >= n, timeout)
        except TimeoutError as e:
            raise TimeoutError(f"waiting for {n} replies: {e}") from None
        return [r for r in records if is_reply(r)]

    # -- what the methods share ----------------------------------------------------------------------

    def next_ts(self) -> str:
        """A message timestamp later than every one given before."""
        with self.lock:
            self._ts_micros += _TS_STEP_MICROS
            micros = self._ts_micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def check_token(self, token: str | None) -> None:
        if not token:
            raise ApiError("not_authed")
        valid = token in self.valid_tokens if self.valid_tokens is not None else token.startswith("xoxb-")
        if not valid:
            raise ApiError("invalid_auth")

    def check_channel(self, args: dict[str, Any]) -> str:
        """The ``channel`` argument, if the bot may post there."""
        channel = args.get("channel")
        if not isinstance(channel, str) or not channel or channel in self.missing_channels:
            raise ApiError("channel_not_found")
        if channel in self.not_in_channels:
            raise ApiError("not_in_channel")
        return channel

    # -- response URLs and trigger ids -------------------------------------------------------------

    def mint_response_id(self) -> str:
        """A new ``response_url`` id that accepts 5 posts within 30 minutes, like Slack's."""
        with self.lock:
            self._next_response_id += 1
            response_id = f"R{self._next_response_id:06d}"
            self.response_urls[response_id] = ResponseUrl(expires_at=time.time() + RESPONSE_URL_SECONDS)
        return response_id

    def expire_response_id(self, response_id: str) -> bool:
        """Make a minted ``response_url`` answer ``expired_url`` from now on; False if it was never minted."""
        with self.lock:
            minted = self.response_urls.get(response_id)
            if minted is None:
                return False
            minted.expires_at = time.time()
        return True

    def new_trigger_id(self, *, age_seconds: float = 0.0) -> str:
        """Mint a ``trigger_id`` as Slack puts one in a command or a click: one view, within 3 s.

        ``age_seconds`` mints one issued that long ago (an expired trigger, without waiting for it).
        """
        with self.lock:
            return self.view_store.mint_trigger(time.monotonic() - age_seconds)

    def views(self) -> dict[str, dict[str, Any]]:
        """Copies of the views opened, pushed or updated so far, by view id."""
        with self.lock:
            return {view_id: dict(view) for view_id, view in self.view_store.by_id.items()}

    # -- people and their Home tabs ----------------------------------------------------------------

    def add_user(
        self, user_id: str, *, name: str | None = None, real_name: str | None = None, is_bot: bool = False
    ) -> dict[str, Any]:
        """Make ``user_id`` a member of the stand-in's workspace with these names; returns its user object."""
        user = person(user_id, name or user_id.lower(), real_name or f"User {user_id}", is_bot=is_bot)
        with self.lock:
            self._users[user_id] = user
        return copy.deepcopy(user)

    def user(self, user_id: str) -> dict[str, Any] | None:
        """The user object ``users.info`` answers for ``user_id``; None for someone not in the workspace.

        Slack's ids are opaque, so any well-formed user id (``U…``, ``W…``) is a member, with names made
        from its id, unless it is in ``missing_users``; ``add_user`` gives it real names.
        """
        with self.lock:
            if user_id in self.missing_users:
                return None
            known = self._users.get(user_id)
            if known is not None:
                return copy.deepcopy(known)
        if not _USER_ID.fullmatch(user_id):
            return None
        return person(user_id, user_id.lower(), f"User {user_id}")

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab last published for ``user_id`` (``views.publish``), as Slack stored it; None if none."""
        with self.lock:
            view = self.home_views.get(user_id)
            return copy.deepcopy(view)


def person(user_id: str, name: str, real_name: str, *, is_bot: bool = False) -> dict[str, Any]:
    """A user object shaped like ``users.info``'s (the fields a bot commonly reads)."""
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "deleted": False,
        "real_name": real_name,
        "tz": "Europe/London",
        "tz_label": "Greenwich Mean Time",
        "tz_offset": 0,
        "is_admin": False,
        "is_owner": False,
        "is_bot": is_bot,
        "is_app_user": False,
        "updated": 1_700_000_000,
        "profile": {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": name,
            "display_name_normalized": name,
            "team": TEAM_ID,
        },
    }


# -- views (modals) ----------------------------------------------------------------------------------
# views.open and views.push exchange a trigger_id: one view per trigger, within 3 s of the click that
# carried it; the stand-in only knows the ones it minted (``new_trigger_id``), so a made-up one fails
# like an expired one. views.update names the view by view_id or external_id.


class ViewStore:
    """Trigger ids the stand-in issued and the views it shows; guarded by the workspace's lock."""

    def __init__(self) -> None:
        self.triggers: dict[str, float] = {}  # trigger_id → monotonic time it was issued
        self.exchanged: set[str] = set()
        self.by_id: dict[str, dict[str, Any]] = {}
        self.by_external_id: dict[str, str] = {}
        self._count = 0

    def mint_trigger(self, issued: float) -> str:
        self._count += 1
        trigger_id = f"{self._count}.{int(time.time())}.{secrets.token_hex(16)}"
        self.triggers[trigger_id] = issued
        return trigger_id

    def exchange(self, trigger_id: str, now: float) -> None:
        """Use up ``trigger_id``. Unknown, reused or older than 3 s: ``expired_trigger_id`` (issue 13 asks
        for that answer for a reused one too, where Slack itself says ``exchanged_trigger_id``)."""
        issued = self.triggers.get(trigger_id)
        if issued is None or trigger_id in self.exchanged or now - issued > TRIGGER_TTL_SECONDS:
            raise ApiError("expired_trigger_id")
        self.exchanged.add(trigger_id)

    def show(self, view: dict[str, Any]) -> dict[str, Any]:
        """Store a new view as Slack describes it back (id, hash, state…) and return a copy."""
        external_id = view.get("external_id") or ""
        if external_id and external_id in self.by_external_id:
            raise ApiError("duplicate_external_id")
        self._count += 1
        view_id = f"V{self._count:08d}"
        shown = self._describe(view, view_id, root=view_id)
        shown["previous_view_id"] = None
        self.by_id[view_id] = shown
        if external_id:
            self.by_external_id[external_id] = view_id
        return dict(shown)

    def replace(self, args: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id") or self.by_external_id.get(str(args.get("external_id") or ""))
        current = self.by_id.get(str(view_id)) if view_id else None
        if current is None:
            raise ApiError("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        if view.get("type") != current["type"]:
            raise ApiError(
                "invalid_arguments", details=[f"must be {current['type']} [json-pointer:/view/type]"]
            )
        updated = self._describe(view, current["id"], root=current["root_view_id"])
        updated["previous_view_id"] = current["previous_view_id"]
        updated["external_id"] = current["external_id"] or updated["external_id"]
        self.by_id[current["id"]] = updated
        return dict(updated)

    @staticmethod
    def _describe(view: dict[str, Any], view_id: str, *, root: str) -> dict[str, Any]:
        return {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view.get("type"),
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": view.get("blocks") or [],
            "private_metadata": view.get("private_metadata") or "",
            "callback_id": view.get("callback_id") or "",
            "external_id": view.get("external_id") or "",
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close")),
            "notify_on_close": bool(view.get("notify_on_close")),
            "root_view_id": root,
            "app_id": "A0STANDIN",
            "bot_id": BOT_ID,
        }
