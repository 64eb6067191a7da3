"""A stand-in for the Slack Web API and for ``response_url``: a real HTTP server on loopback.

Tests, the local sandbox and the benchmarks point slack_sdk at it instead of slack.com::

    with SlackStandIn() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        client.chat_postMessage(channel="C1", text="pong")
        slack.wait_for_replies(1)

It answers like Slack does (HTTP 200 with ``{"ok": false, "error": ...}`` for API errors, 404 for an
unknown method, 429 with ``Retry-After`` when rate limited), refuses messages over Block Kit's limits as
Slack does (``invalid_blocks`` with the offending fields, ``msg_too_long``; a response_url answers 400
with the bare code), records every call, and can inject faults.
When it runs in another process (the sandbox), the ``/sandbox/...`` control API exposes the same
features over HTTP. Stdlib only.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import json
import logging
import re
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.serving import BackgroundServer, LoopbackServer, QuietHandler

__all__ = [
    "BOT_ID",
    "BOT_USER_ID",
    "TEAM_ID",
    "Record",
    "SlackStandIn",
    "format_reply",
    "is_reply",
    "message_refusal",
]

Record = dict[str, Any]

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
_JSON_FORM_FIELDS = ("blocks", "attachments", "metadata")
_MAX_BODY = 10 * 1024 * 1024
_FIRST_TS_MICROS = 1_700_000_000_000_100
_TS_STEP_MICROS = 100

_log = logging.getLogger(__name__)


class _ApiError(Exception):
    """An answer other than ``ok``; ``status`` is the HTTP status Slack uses for it."""

    def __init__(self, error: str, status: int = 200, details: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.details = details or []
        """What Slack lists under ``errors`` for ``invalid_blocks``: one line per field over its limit."""

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.details:
            body["errors"] = list(self.details)
            body["response_metadata"] = {"messages": [f"[ERROR] {line}" for line in self.details]}
        return body


@dataclass
class _Fault:
    method: str | None
    status: int
    retry_after: int | None
    error: str | None
    remaining: int

    def matches(self, method: str | None) -> bool:
        return _fault_matches(self.method, method)


@dataclass
class _EveryFault:
    method: str | None
    status: int
    every: int
    seen: int = 0

    def matches(self, method: str | None) -> bool:
        return _fault_matches(self.method, method)


def _fault_matches(wanted: str | None, method: str | None) -> bool:
    """``None`` matches any Web API call; ``"response_url"`` matches response_url posts."""
    if wanted is None:
        return method != "response_url"
    return wanted == method


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    ok: bool = True
    error: str | None = None


def _decoded(reply: _Reply) -> Any:
    """What the stand-in answered, for tests that need it (the ``ts`` of a posted message)."""
    if reply.content_type.startswith("application/json"):
        try:
            return json.loads(reply.body)
        except ValueError:
            return None
    return reply.body.decode("utf-8", "replace")


def _json_reply(
    payload: dict[str, Any], status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> _Reply:
    ok = bool(payload.get("ok", False))
    error = payload.get("error")
    return _Reply(
        status=status,
        body=json.dumps(payload).encode(),
        content_type="application/json; charset=utf-8",
        headers=headers,
        ok=ok and status == 200,
        error=str(error) if error is not None else None,
    )


def _text_reply(text: str, status: int, *, ok: bool, error: str | None = None) -> _Reply:
    return _Reply(
        status=status, body=text.encode(), content_type="text/plain; charset=utf-8", ok=ok, error=error
    )


class SlackStandIn(BackgroundServer):
    """The Slack Web API and ``response_url`` endpoints, served from a daemon thread on loopback.

    The socket is bound in the constructor (``port=0`` picks a free port), so ``port`` and the URLs are
    known before ``start()``. A stopped stand-in cannot be started again. ``start()``, ``stop()`` and
    ``with`` come from ``BackgroundServer``.
    """

    thread_name = "slack-standin"
    poll_interval = 0.02

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        valid_tokens: set[str] | None = None,
        on_record: Callable[[Record], None] | None = None,
    ) -> None:
        self.valid_tokens = valid_tokens
        self.on_record = on_record
        self.missing_channels: set[str] = set()
        """Channels that answer ``channel_not_found``."""
        self.not_in_channels: set[str] = set()
        """Channels that answer ``not_in_channel``."""
        self.users_not_in_channels: set[str] = set()
        """Users that ``chat.postEphemeral`` says are not members of the channel (``user_not_in_channel``)."""
        self.delay_seconds: float = 0.0
        """Latency added before answering each Web API call (a slow Slack)."""
        self.missing_users: set[str] = set()
        """Users who answer ``user_not_found`` (``users.info``) and ``not_found`` (``views.publish``)."""
        self.home_tab_enabled = True
        """False: publishing a Home tab answers ``not_enabled``, as when the app's Home tab is turned off."""

        self._cond = threading.Condition(threading.RLock())
        self._records: list[Record] = []
        self._seq = 0
        self._faults: list[_Fault] = []
        self._every: list[_EveryFault] = []
        self._ts_micros = _FIRST_TS_MICROS - _TS_STEP_MICROS
        self._messages: dict[str, dict[str, dict[str, Any]]] = {}
        self._response_ids: dict[str, int] = {}
        self._response_expiry: dict[str, float] = {}  # response id → time.time() after which it is expired
        self._next_response_id = 0
        self._views = _Views()
        self._users: dict[str, dict[str, Any]] = {
            BOT_USER_ID: _person(BOT_USER_ID, "bot", "Stand-in bot", is_bot=True),
            HUMAN_ID: _person(HUMAN_ID, "ada", "Ada Lovelace"),
        }
        self._home_views: dict[str, dict[str, Any]] = {}

        super().__init__(host, port, _Handler)

    # -- addresses ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/``."""
        return self.url + "/"

    @property
    def api_url(self) -> str:
        """What ``WebClient(base_url=...)`` gets: ``base_url + "api/"``."""
        return self.base_url + "api/"

    def new_response_url(self) -> str:
        """Mint a ``response_url`` that accepts 5 posts within 30 minutes, like Slack's."""
        with self._cond:
            self._next_response_id += 1
            response_id = f"R{self._next_response_id:06d}"
            self._response_ids[response_id] = 0
            self._response_expiry[response_id] = time.time() + RESPONSE_URL_SECONDS
        return f"{self.base_url}response/{response_id}"

    def expire_response_url(self, url: str) -> None:
        """Make a minted ``response_url`` answer ``expired_url`` from now on, as if its 30 minutes were up."""
        response_id = urlsplit(url).path.removeprefix("/response/").strip("/")
        with self._cond:
            if response_id not in self._response_ids:
                raise ValueError(f"not a response_url of this stand-in: {url}")
            self._response_expiry[response_id] = time.time()

    def new_trigger_id(self, *, age_seconds: float = 0.0) -> str:
        """Mint a ``trigger_id`` as Slack puts one in a command or a click: one view, within 3 s.

        ``age_seconds`` mints one issued that long ago (an expired trigger, without waiting for it).
        """
        with self._cond:
            return self._views.mint_trigger(time.monotonic() - age_seconds)

    def views(self) -> dict[str, dict[str, Any]]:
        """Copies of the views opened, pushed or updated so far, by view id."""
        with self._cond:
            return {view_id: dict(view) for view_id, view in self._views.by_id.items()}

    # -- records -----------------------------------------------------------------------------------

    def calls(self, method: str | None = None, kind: str | None = None) -> list[Record]:
        """Copies of the recorded calls, oldest first, optionally filtered by method and kind."""
        with self._cond:
            return [
                dict(r)
                for r in self._records
                if (method is None or r["method"] == method) and (kind is None or r["kind"] == kind)
            ]

    def replies(self) -> list[Record]:
        """The bot's visible answers: successful chat.postMessage/postEphemeral/update, response_url posts."""
        with self._cond:
            return [dict(r) for r in self._records if is_reply(r)]

    def reset(self) -> None:
        """Forget the records and every fault (injected faults, channel errors, delay).

        Sequence numbers keep counting so that ``?since=`` pollers never miss a record; minted
        response URLs and posted messages stay valid.
        """
        with self._cond:
            self._records.clear()
            self._faults.clear()
            self._every.clear()
            self.missing_channels.clear()
            self.not_in_channels.clear()
            self.users_not_in_channels.clear()
            self.delay_seconds = 0.0
            self.missing_users.clear()
            self.home_tab_enabled = True
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[Record]], bool], timeout: float = 10.0) -> list[Record]:
        """Block until ``predicate(records)`` holds and return those records; ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                records = [dict(r) for r in self._records]
                if predicate(records):
                    return records
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(_summary(f"condition not met within {timeout:g} s", records))
                self._cond.wait(remaining)

    def wait_for_replies(self, n: int, timeout: float = 10.0) -> list[Record]:
        """Block until at least ``n`` replies (see ``replies()``) were recorded; return all replies."""
        try:
            records = self.wait_for(lambda rs: sum(1 for r in rs if is_reply(r)) >= n, timeout)
        except TimeoutError as e:
            raise TimeoutError(f"waiting for {n} replies: {e}") from None
        return [r for r in records if is_reply(r)]

    # -- faults ------------------------------------------------------------------------------------

    def add_fault(
        self,
        *,
        method: str | None = None,
        status: int = 429,
        retry_after: int | None = None,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` matching calls fail with HTTP ``status``.

        ``method=None`` matches any Web API call, ``method="response_url"`` matches response_url posts.
        429 carries ``Retry-After`` (``retry_after`` or 1); 5xx answers a plain-text body; 200 answers
        ``{"ok": false, "error": error}``.
        """
        _check_status(status)
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._cond:
            self._faults.append(_Fault(method, status, retry_after, error, times))

    def fail_every(self, n: int, status: int = 500, method: str | None = None) -> None:
        """Make every ``n``-th matching call (counted from now) fail with ``status`` until cleared."""
        _check_status(status)
        if n < 1:
            raise ValueError("n must be at least 1")
        with self._cond:
            self._every.append(_EveryFault(method, status, n))

    def clear_faults(self) -> None:
        with self._cond:
            self._faults.clear()
            self._every.clear()

    # -- people and their Home tabs ----------------------------------------------------------------

    def add_user(
        self, user_id: str, *, name: str | None = None, real_name: str | None = None, is_bot: bool = False
    ) -> dict[str, Any]:
        """Make ``user_id`` a member of the stand-in's workspace with these names; returns its user object."""
        user = _person(user_id, name or user_id.lower(), real_name or f"User {user_id}", is_bot=is_bot)
        with self._cond:
            self._users[user_id] = user
        return copy.deepcopy(user)

    def user(self, user_id: str) -> dict[str, Any] | None:
        """The user object ``users.info`` answers for ``user_id``; None for someone not in the workspace.

        Slack's ids are opaque, so any well-formed user id (``U…``, ``W…``) is a member, with names made
        from its id, unless it is in ``missing_users``; ``add_user`` gives it real names.
        """
        with self._cond:
            if user_id in self.missing_users:
                return None
            known = self._users.get(user_id)
            if known is not None:
                return copy.deepcopy(known)
        if not _USER_ID.fullmatch(user_id):
            return None
        return _person(user_id, user_id.lower(), f"User {user_id}")

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab last published for ``user_id`` (``views.publish``), as Slack stored it; None if none."""
        with self._cond:
            view = self._home_views.get(user_id)
            return copy.deepcopy(view)

    # -- internals (called from handler threads) ---------------------------------------------------

    def _take_fault(self, method: str | None) -> _Reply | None:
        """Consume the fault (if any) that applies to this call, under the lock."""
        with self._cond:
            chosen: tuple[int, int | None, str | None] | None = None
            for fault in self._faults:
                if fault.matches(method):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    chosen = (fault.status, fault.retry_after, fault.error)
                    break
            for every in self._every:
                if every.matches(method):
                    every.seen += 1
                    if chosen is None and every.seen % every.every == 0:
                        chosen = (every.status, None, None)
        if chosen is None:
            return None
        return _fault_reply(*chosen, plain=method == "response_url")

    def _record(self, record: Record) -> None:
        with self._cond:
            self._seq += 1
            record["seq"] = self._seq
            self._records.append(record)
            self._cond.notify_all()
        callback = self.on_record
        if callback is not None:
            try:
                callback(dict(record))
            except Exception:
                _log.exception("on_record callback failed")

    def _next_ts(self) -> str:
        with self._cond:
            self._ts_micros += _TS_STEP_MICROS
            micros = self._ts_micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _handle_api(self, method: str, args: dict[str, Any], token: str | None) -> _Reply:
        handler = _METHODS.get(method)
        if handler is None:
            return _json_reply({"ok": False, "error": "unknown_method"}, status=404)
        try:
            self._check_token(token)
            return _json_reply({"ok": True, **handler(self, args)})
        except _ApiError as e:
            return _json_reply(e.payload(), status=e.status)

    def _check_token(self, token: str | None) -> None:
        if not token:
            raise _ApiError("not_authed")
        valid = token in self.valid_tokens if self.valid_tokens is not None else token.startswith("xoxb-")
        if not valid:
            raise _ApiError("invalid_auth")

    def _check_channel(self, args: dict[str, Any]) -> str:
        channel = args.get("channel")
        if not isinstance(channel, str) or not channel or channel in self.missing_channels:
            raise _ApiError("channel_not_found")
        if channel in self.not_in_channels:
            raise _ApiError("not_in_channel")
        return channel

    def _handle_response_url(self, response_id: str, body: Any) -> _Reply:
        with self._cond:
            uses = self._response_ids.get(response_id)
            if uses is None:
                return _text_reply("no_service", 404, ok=False, error="no_service")
            if uses >= RESPONSE_URL_USES or time.time() >= self._response_expiry[response_id]:
                return _text_reply("expired_url", 404, ok=False, error="expired_url")
            if not isinstance(body, dict):
                return _text_reply("invalid_payload", 400, ok=False, error="invalid_payload")
            if not (_has_content(body) or body.get("delete_original")):
                return _text_reply("no_text", 400, ok=False, error="no_text")
            try:
                _check_message(body)
            except _ApiError as e:  # Slack answers a response_url 400 with the bare error code
                return _text_reply(e.error, 400, ok=False, error=e.error)
            self._response_ids[response_id] = uses + 1
        return _text_reply("ok", 200, ok=True)

    # -- control API -------------------------------------------------------------------------------

    def _control(self, verb: str, name: str, query: dict[str, str], body: Any) -> _Reply:
        if verb == "GET" and name == "messages":
            since = int(query.get("since", "0") or 0)
            return _json_reply({"ok": True, "messages": [r for r in self.calls() if r["seq"] > since]})
        if verb == "GET" and name == "health":
            return _json_reply({"ok": True, "api_url": self.api_url})
        if verb == "GET" and name == "channels":
            return _json_reply(
                {
                    "ok": True,
                    "missing": sorted(self.missing_channels),
                    "not_in": sorted(self.not_in_channels),
                    "users_not_in": sorted(self.users_not_in_channels),
                }
            )
        if verb == "POST" and name == "reset":
            self.reset()
            return _json_reply({"ok": True})
        if verb == "POST" and name == "response_url":
            if isinstance(body, dict) and isinstance(body.get("expire"), str):
                self.expire_response_url(body["expire"])  # ValueError: 400 invalid_argument
                return _json_reply({"ok": True})
            return _json_reply({"ok": True, "response_url": self.new_response_url()})
        if verb == "POST" and name == "trigger_id":
            return _json_reply({"ok": True, "trigger_id": self.new_trigger_id()})
        if verb == "POST" and name in ("faults", "channels", "delay"):
            if not isinstance(body, dict):
                raise _ApiError("invalid_json", 400)
            if name == "faults":
                self._control_faults(body)
            elif name == "channels":
                if "missing" in body:
                    self.missing_channels = set(_str_list(body["missing"]))
                if "not_in" in body:
                    self.not_in_channels = set(_str_list(body["not_in"]))
                if "users_not_in" in body:
                    self.users_not_in_channels = set(_str_list(body["users_not_in"]))
            else:
                self.delay_seconds = float(body.get("seconds", 0))
            return _json_reply({"ok": True})
        raise _ApiError("unknown_control", 404)

    def _control_faults(self, body: dict[str, Any]) -> None:
        method = body.get("method")
        if method is not None and not isinstance(method, str):
            raise _ApiError("invalid_method", 400)
        try:
            if body.get("clear"):
                self.clear_faults()
            elif "every" in body:
                self.fail_every(int(body["every"]), status=int(body.get("status", 500)), method=method)
            else:
                retry_after = body.get("retry_after")
                error = body.get("error")
                self.add_fault(
                    method=method,
                    status=int(body.get("status", 429)),
                    retry_after=int(retry_after) if retry_after is not None else None,
                    error=str(error) if error is not None else None,
                    times=int(body.get("times", 1)),
                )
        except (TypeError, ValueError) as e:
            raise _ApiError(f"invalid_fault: {e}", 400) from None


# -- Web API methods -------------------------------------------------------------------------------


def _auth_test(s: SlackStandIn, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": "https://standin.slack.com/",
        "team": "Stand-in",
        "user": "bot",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
    }


def _post_message(s: SlackStandIn, args: dict[str, Any]) -> dict[str, Any]:
    channel = s._check_channel(args)
    if not _has_content(args):
        raise _ApiError("no_text")
    _check_message(args)
    ts = s._next_ts()
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
    with s._cond:
        s._messages.setdefault(channel, {})[ts] = message
    return {"channel": channel, "ts": ts, "message": dict(message)}


def _update(s: SlackStandIn, args: dict[str, Any]) -> dict[str, Any]:
    channel = s._check_channel(args)
    ts = args.get("ts")
    if not _has_content(args):
        raise _ApiError("no_text")
    _check_message(args)
    with s._cond:
        message = s._messages.get(channel, {}).get(str(ts)) if ts else None
        if message is None:
            raise _ApiError("message_not_found")
        message["text"] = args.get("text") or ""
        for key in ("blocks", "attachments"):
            if key in args:
                message[key] = args[key]
        message["edited"] = {"user": BOT_USER_ID, "ts": s._next_ts()}
        snapshot = dict(message)
    return {"channel": channel, "ts": ts, "text": snapshot["text"], "message": snapshot}


def _post_ephemeral(s: SlackStandIn, args: dict[str, Any]) -> dict[str, Any]:
    s._check_channel(args)
    user = args.get("user")
    if not isinstance(user, str) or not user:
        raise _ApiError("user_not_found")
    if user in s.users_not_in_channels:
        raise _ApiError("user_not_in_channel")
    if not _has_content(args):
        raise _ApiError("no_text")
    _check_message(args)
    return {"message_ts": s._next_ts()}


def _conversations_open(s: SlackStandIn, args: dict[str, Any]) -> dict[str, Any]:
    users = args.get("users")
    if isinstance(users, list):
        users = ",".join(str(u) for u in users)
    if not users:
        channel = args.get("channel")
        if isinstance(channel, str) and channel:
            return {"channel": {"id": channel}}
        raise _ApiError("users_list_not_supplied")
    key = ",".join(sorted(u.strip() for u in str(users).split(",") if u.strip()))
    digest = hashlib.sha256(key.encode()).hexdigest()[:10].upper()
    return {"channel": {"id": f"D{digest}"}, "no_op": False, "already_open": False}


def _reactions_add(s: SlackStandIn, args: dict[str, Any]) -> dict[str, Any]:
    s._check_channel(args)
    if not args.get("name"):
        raise _ApiError("invalid_name")
    return {}


_METHODS: dict[str, Callable[[SlackStandIn, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": _auth_test,
    "chat.postMessage": _post_message,
    "chat.update": _update,
    "chat.postEphemeral": _post_ephemeral,
    "conversations.open": _conversations_open,
    "reactions.add": _reactions_add,
}


# -- views (modals) ----------------------------------------------------------------------------------
# views.open and views.push exchange a trigger_id: one view per trigger, within 3 s of the click that
# carried it; the stand-in only knows the ones it minted (``new_trigger_id``), so a made-up one fails
# like an expired one. views.update names the view by view_id or external_id. A view Slack cannot show
# is answered ``invalid_arguments`` with one line per fault, as for a message's ``invalid_blocks``.

VIEW_TITLE_LIMIT = 24
VIEW_BLOCKS_LIMIT = 100
VIEW_CALLBACK_ID_LIMIT = 255
VIEW_PRIVATE_METADATA_LIMIT = 3000
VIEW_EXTERNAL_ID_LIMIT = 255
_VIEW_BUTTON_LIMIT = 24  # submit and close labels, like the title
_INPUT_LABEL_LIMIT = 2000
_SELECT_OPTIONS_LIMIT = 100
_PLAIN_TEXT_INPUT_MAX = 3000


class _Views:
    """Trigger ids the stand-in issued and the views it shows; guarded by the stand-in's lock."""

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
            raise _ApiError("expired_trigger_id")
        self.exchanged.add(trigger_id)

    def show(self, view: dict[str, Any]) -> dict[str, Any]:
        """Store a new view as Slack describes it back (id, hash, state…) and return a copy."""
        external_id = view.get("external_id") or ""
        if external_id and external_id in self.by_external_id:
            raise _ApiError("duplicate_external_id")
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
            raise _ApiError("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            raise _ApiError("hash_conflict")
        if view.get("type") != current["type"]:
            raise _ApiError(
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


def _views_open(s: SlackStandIn, args: dict[str, Any]) -> dict[str, Any]:
    trigger_id, view = _trigger_arg(args), _view_arg(args)
    _check_view(view, kinds=("modal",))
    with s._cond:
        s._views.exchange(trigger_id, time.monotonic())
        return {"view": s._views.show(view)}


def _views_push(s: SlackStandIn, args: dict[str, Any]) -> dict[str, Any]:
    trigger_id, view = _trigger_arg(args), _view_arg(args)
    _check_view(view, kinds=("modal",))
    with s._cond:
        s._views.exchange(trigger_id, time.monotonic())
        return {"view": s._views.show(view)}


def _views_update(s: SlackStandIn, args: dict[str, Any]) -> dict[str, Any]:
    if not (args.get("view_id") or args.get("external_id")):
        raise _ApiError("invalid_arguments", details=["either view_id or external_id is required"])
    view = _view_arg(args)
    _check_view(view, kinds=("modal", "home"))
    with s._cond:
        return {"view": s._views.replace(args, view)}


def _trigger_arg(args: dict[str, Any]) -> str:
    trigger_id = args.get("trigger_id") or args.get("interactivity_pointer")
    if not isinstance(trigger_id, str) or not trigger_id:
        raise _ApiError("invalid_arguments", details=["missing required field: trigger_id"])
    return trigger_id


def _view_arg(args: dict[str, Any]) -> dict[str, Any]:
    """The ``view`` argument as an object (slack_sdk sends it JSON-encoded), put back so the record has it."""
    view = args.get("view")
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            raise _ApiError("invalid_arguments", details=["view must be a JSON object"]) from None
    if not isinstance(view, dict):
        raise _ApiError("invalid_arguments", details=["missing required field: view"])
    args["view"] = view
    return view


def _check_view(view: dict[str, Any], *, kinds: tuple[str, ...]) -> None:
    details = list(_view_errors(view, kinds))
    if details:
        raise _ApiError("invalid_arguments", details=details)


def _view_errors(view: dict[str, Any], kinds: tuple[str, ...]) -> Iterable[str]:
    if view.get("type") not in kinds:
        yield f"must be one of {', '.join(kinds)} [json-pointer:/view/type]"
        return
    if view["type"] == "modal":
        title = view.get("title")
        if not (isinstance(title, dict) and title.get("type") == "plain_text" and title.get("text")):
            yield "must provide a plain_text title [json-pointer:/view/title]"
        yield from _text_too_long(title, VIEW_TITLE_LIMIT, "/view/title")
        yield from _text_too_long(view.get("submit"), _VIEW_BUTTON_LIMIT, "/view/submit")
        yield from _text_too_long(view.get("close"), _VIEW_BUTTON_LIMIT, "/view/close")
    yield from _too_long(view.get("callback_id"), VIEW_CALLBACK_ID_LIMIT, "/view/callback_id")
    yield from _too_long(view.get("private_metadata"), VIEW_PRIVATE_METADATA_LIMIT, "/view/private_metadata")
    yield from _too_long(view.get("external_id"), VIEW_EXTERNAL_ID_LIMIT, "/view/external_id")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        yield "must provide an array [json-pointer:/view/blocks]"
        return
    if len(blocks) > VIEW_BLOCKS_LIMIT:
        yield _too_many(VIEW_BLOCKS_LIMIT, "/view/blocks")
    has_inputs = any(isinstance(block, dict) and block.get("type") == "input" for block in blocks)
    if has_inputs and view["type"] == "modal" and not view.get("submit"):
        yield "must provide submit when the view has input blocks [json-pointer:/view/submit]"
    yield from _view_block_errors(blocks)


def _view_block_errors(blocks: list[Any]) -> Iterable[str]:
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        at = f"/view/blocks/{index}"
        if not isinstance(block, dict):
            yield f"expected object [json-pointer:{at}]"
            continue
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen:
                yield f"duplicate block_id {block_id} [json-pointer:{at}/block_id]"
            seen.add(block_id)
        if block.get("type") == "input":
            yield from _input_errors(block, at)
        else:  # any other block: held to a message's limits
            yield from (line.replace("/blocks/0", at, 1) for line in _block_errors([block]))


def _input_errors(block: dict[str, Any], at: str) -> Iterable[str]:
    label = block.get("label")
    if not (isinstance(label, dict) and label.get("type") == "plain_text" and label.get("text")):
        yield f"must provide a plain_text label [json-pointer:{at}/label]"
    yield from _text_too_long(label, _INPUT_LABEL_LIMIT, f"{at}/label")
    element = block.get("element")
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        yield f"must provide an element [json-pointer:{at}/element]"
        return
    yield from _too_long(element.get("action_id"), 255, f"{at}/element/action_id")
    options = element.get("options")
    if isinstance(options, list) and len(options) > _SELECT_OPTIONS_LIMIT:
        yield _too_many(_SELECT_OPTIONS_LIMIT, f"{at}/element/options")
    max_length = element.get("max_length")
    if isinstance(max_length, int) and not 1 <= max_length <= _PLAIN_TEXT_INPUT_MAX:
        yield f"must be between 1 and {_PLAIN_TEXT_INPUT_MAX} [json-pointer:{at}/element/max_length]"


_METHODS.update({"views.open": _views_open, "views.push": _views_push, "views.update": _views_update})


# -- people, channels and the Home tab: users.info, conversations.info, views.publish -----------------

MAX_VIEW_BLOCKS = 100
"""A Home tab or a modal holds at most 100 blocks (a message 50)."""
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")


def _person(user_id: str, name: str, real_name: str, *, is_bot: bool = False) -> dict[str, Any]:
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


def _users_info(s: SlackStandIn, args: dict[str, Any]) -> dict[str, Any]:
    user_id = args.get("user")
    if not isinstance(user_id, str) or not user_id:
        raise _ApiError("invalid_arguments", details=["missing required field: user"])
    user = s.user(user_id)
    if user is None:
        raise _ApiError("user_not_found")
    return {"user": user}


def _conversations_info(s: SlackStandIn, args: dict[str, Any]) -> dict[str, Any]:
    channel = args.get("channel")
    if not isinstance(channel, str) or not _CHANNEL_ID.fullmatch(channel) or channel in s.missing_channels:
        raise _ApiError("channel_not_found")
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


def _views_publish(s: SlackStandIn, args: dict[str, Any]) -> dict[str, Any]:
    user_id = args.get("user_id")
    view = _json_argument(args.get("view"))
    if not isinstance(user_id, str) or not user_id:
        raise _ApiError("invalid_arguments", details=["missing required field: user_id"])
    if not isinstance(view, dict):
        raise _ApiError("invalid_arguments", details=["missing required field: view"])
    details = list(_home_view_errors(view))
    if details:
        raise _ApiError("invalid_arguments", details=details)
    if s.user(user_id) is None:
        raise _ApiError("not_found")
    if not s.home_tab_enabled:
        raise _ApiError("not_enabled")
    with s._cond:
        current = s._home_views.get(user_id)
        wanted_hash = args.get("hash")
        if wanted_hash and (current is None or current["hash"] != wanted_hash):
            raise _ApiError("hash_conflict")
        view_id = current["id"] if current is not None else f"V{len(s._home_views) + 1:010d}"
        stored = {
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "state": {"values": {}},
            "hash": f"{s._next_ts()}.{hashlib.sha256(json.dumps(view).encode()).hexdigest()[:8]}",
            "root_view_id": view_id,
            "bot_id": BOT_ID,
        }
        s._home_views[user_id] = stored
        return {"view": copy.deepcopy(stored)}


def _home_view_errors(view: dict[str, Any]) -> Iterable[str]:
    if view.get("type") != "home":
        yield "must be home [json-pointer:/view/type]"
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        yield "missing required field: blocks [json-pointer:/view/blocks]"
        return
    if len(blocks) > MAX_VIEW_BLOCKS:
        yield _too_many(MAX_VIEW_BLOCKS, "/view/blocks")
    message_count = _too_many(MAX_BLOCKS, "/blocks")  # a view may hold more blocks than a message
    for line in _block_errors(blocks):
        if line != message_count:
            yield line.replace("[json-pointer:/blocks", "[json-pointer:/view/blocks")


def _json_argument(value: Any) -> Any:
    """A JSON argument sent form-encoded arrives as a string."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


_METHODS.update(
    {
        "users.info": _users_info,
        "conversations.info": _conversations_info,
        "views.publish": _views_publish,
    }
)


# -- Block Kit limits --------------------------------------------------------------------------------
# Slack refuses the whole message when one field is over its limit (HTTP 200 ``invalid_blocks`` with one
# line per field under ``errors`` from the Web API; HTTP 400 and the bare code from a response_url).

MESSAGE_TEXT_LIMIT = 40_000
MAX_BLOCKS = 50
BLOCKS_TEXT_LIMIT = 12_000
"""All the text in a message's blocks together. Slack does not document this limit
(``msg_blocks_too_long``); reports put it near 12,000 characters."""

_TEXT_OBJECT_LIMIT = 3000
_BLOCK_ID_LIMIT = 255
_TEXT_TYPES = ("plain_text", "mrkdwn")


def _check_message(args: dict[str, Any]) -> None:
    """Raise what Slack answers for a message over a limit: msg_too_long, invalid_blocks…"""
    text = args.get("text")
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_LIMIT:
        raise _ApiError("msg_too_long")
    blocks = args.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            raise _ApiError("invalid_blocks_format") from None
    if blocks is None:
        return
    if not isinstance(blocks, list):
        raise _ApiError("invalid_blocks_format")
    details = list(_block_errors(blocks))
    if details:
        raise _ApiError("invalid_blocks", details=details)
    if sum(len(obj["text"]) for obj, _ in _text_objects(blocks, "/blocks")) > BLOCKS_TEXT_LIMIT:
        raise _ApiError("msg_blocks_too_long")


def message_refusal(message: dict[str, Any]) -> dict[str, Any] | None:
    """What Slack would answer for ``message`` (``text``, ``blocks``) over a limit; None when it is within."""
    try:
        _check_message(message)
    except _ApiError as e:
        return e.payload()
    return None


def _block_errors(blocks: list[Any]) -> Iterable[str]:
    if len(blocks) > MAX_BLOCKS:
        yield _too_many(MAX_BLOCKS, "/blocks")
    for index, block in enumerate(blocks):
        at = f"/blocks/{index}"
        if not isinstance(block, dict):
            yield f"expected object [json-pointer:{at}]"
            continue
        yield from _too_long(block.get("block_id"), _BLOCK_ID_LIMIT, f"{at}/block_id")
        kind = block.get("type")
        if kind == "section":
            yield from _text_too_long(block.get("text"), 3000, f"{at}/text")
            yield from _list_errors(block, "fields", 10, 2000, at)
            yield from _element_errors(block.get("accessory"), f"{at}/accessory")
        elif kind == "header":
            yield from _text_too_long(block.get("text"), 150, f"{at}/text")
        elif kind == "context":
            yield from _list_errors(block, "elements", 10, _TEXT_OBJECT_LIMIT, at)
        elif kind == "actions":
            elements = block.get("elements")
            if isinstance(elements, list):
                if len(elements) > 25:
                    yield _too_many(25, f"{at}/elements")
                for number, element in enumerate(elements):
                    yield from _element_errors(element, f"{at}/elements/{number}")
        else:
            for obj, pointer in _text_objects(block, at):
                yield from _text_too_long(obj, _TEXT_OBJECT_LIMIT, pointer)


def _list_errors(block: dict[str, Any], key: str, most: int, text_limit: int, at: str) -> Iterable[str]:
    items = block.get(key)
    if not isinstance(items, list):
        return
    if len(items) > most:
        yield _too_many(most, f"{at}/{key}")
    for number, item in enumerate(items):
        yield from _text_too_long(item, text_limit, f"{at}/{key}/{number}")


def _element_errors(element: Any, at: str) -> Iterable[str]:
    if not isinstance(element, dict):
        return
    if element.get("type") == "button":
        yield from _text_too_long(element.get("text"), 75, f"{at}/text")
        yield from _too_long(element.get("value"), 2000, f"{at}/value")
        yield from _too_long(element.get("url"), 3000, f"{at}/url")
        yield from _too_long(element.get("action_id"), 255, f"{at}/action_id")
        return
    for obj, pointer in _text_objects(element, at):
        yield from _text_too_long(obj, _TEXT_OBJECT_LIMIT, pointer)


def _text_too_long(obj: Any, limit: int, at: str) -> Iterable[str]:
    if isinstance(obj, dict):
        yield from _too_long(obj.get("text"), limit, f"{at}/text")


def _too_long(value: Any, limit: int, at: str) -> Iterable[str]:
    if isinstance(value, str) and len(value) > limit:
        yield f"must be less than {limit + 1} characters [json-pointer:{at}]"


def _too_many(most: int, at: str) -> str:
    return f"must be less than {most + 1} items [json-pointer:{at}]"


def _text_objects(node: Any, at: str) -> Iterable[tuple[dict[str, Any], str]]:
    """Every text object (``plain_text``/``mrkdwn``) under ``node``, with its JSON pointer."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _text_objects(item, f"{at}/{index}")
    elif isinstance(node, dict):
        if node.get("type") in _TEXT_TYPES and isinstance(node.get("text"), str):
            yield node, at
            return
        for key, value in node.items():
            yield from _text_objects(value, f"{at}/{key}")


# -- helpers ---------------------------------------------------------------------------------------


def _has_content(args: dict[str, Any]) -> bool:
    return any(args.get(key) for key in ("text", "blocks", "attachments"))


def is_reply(record: Record) -> bool:
    """A successful chat.postMessage/postEphemeral/update or response_url post: a visible answer."""
    return bool(record["ok"]) and (record["kind"] == "response_url" or record["method"] in _REPLY_METHODS)


def _check_status(status: int) -> None:
    if not 100 <= status <= 599:
        raise ValueError(f"not an HTTP status: {status}")


def _str_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _ApiError("invalid_channels", 400)
    return list(value)


def _fault_reply(status: int, retry_after: int | None, error: str | None, *, plain: bool) -> _Reply:
    headers: tuple[tuple[str, str], ...] = ()
    if status == 429 or retry_after is not None:
        headers = (("Retry-After", str(retry_after if retry_after is not None else 1)),)
    if status >= 500:
        reason = error or _reason(status)
        return _Reply(status, reason.encode(), "text/plain; charset=utf-8", headers, ok=False, error=reason)
    default = "ratelimited" if status == 429 else "fault_injected"
    if plain:
        text = error or ("rate_limited" if status == 429 else default)
        return _Reply(status, text.encode(), "text/plain; charset=utf-8", headers, ok=False, error=text)
    return _json_reply({"ok": False, "error": error or default}, status=status, headers=headers)


def _reason(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Error"


def _decode_form(raw: str) -> dict[str, Any]:
    args: dict[str, Any] = dict(parse_qsl(raw, keep_blank_values=True))
    for key in _JSON_FORM_FIELDS:
        value = args.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ⏎ ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _block_texts(node: Any) -> Iterable[str]:
    """The human-readable strings in a Block Kit structure, in order."""
    if isinstance(node, list):
        for item in node:
            yield from _block_texts(item)
    elif isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text", "text") and isinstance(node.get("text"), str):
            yield node["text"]
            return
        for key, value in node.items():
            if key not in ("type", "block_id", "action_id", "url", "value", "image_url"):
                yield from _block_texts(value)


def _summary(headline: str, records: list[Record], limit: int = 20) -> str:
    lines = [f"{headline}; {len(records)} record(s):"]
    for r in records[-limit:]:
        outcome = "ok" if r["ok"] else f"error={r['error']}"
        args = json.dumps(r["args"], default=str)
        if len(args) > 200:
            args = args[:199] + "…"
        lines.append(
            f"  #{r['seq']} {r['kind']} {r['method'] or r['path']} -> {r['status']} {outcome} {args}"
        )
    if len(records) > limit:
        lines.insert(1, f"  ... {len(records) - limit} earlier record(s) omitted")
    return "\n".join(lines)


def format_reply(record: Record) -> str:
    """A readable one-liner for a record, e.g. ``#C123 ← pong (thread 1700000000.000100)``."""
    args = record.get("args") or {}
    text = args.get("text") if isinstance(args.get("text"), str) else ""
    if not text and args.get("blocks"):
        text = " | ".join(_block_texts(args["blocks"]))
    text = _one_line(text or "")
    failure = "" if record.get("ok") else f"  [{record.get('status')} {record.get('error')}]"
    if record.get("kind") == "response_url":
        tags = [args["response_type"]] if isinstance(args.get("response_type"), str) else []
        if args.get("replace_original"):
            tags.append("replace")
        if args.get("delete_original"):
            tags.append("delete")
        tag = f" ({', '.join(tags)})" if tags else ""
        return f"response_url ← {text}{tag}{failure}"
    method = record.get("method")
    channel = args.get("channel", "?")
    if method == "chat.postMessage":
        thread = f" (thread {args['thread_ts']})" if args.get("thread_ts") else ""
        return f"#{channel} ← {text}{thread}{failure}"
    if method == "chat.postEphemeral":
        return f"#{channel} ← (only {args.get('user', '?')}) {text}{failure}"
    if method == "chat.update":
        return f"#{channel} ← (edit {args.get('ts', '?')}) {text}{failure}"
    outcome = "ok" if record.get("ok") else f"{record.get('status')} {record.get('error')}"
    return f"{method or record.get('path')} → {outcome}"


# -- HTTP plumbing ---------------------------------------------------------------------------------


class _Handler(QuietHandler):
    server_version = "SlackStandIn/1.0"
    server: LoopbackServer[SlackStandIn]

    # -- verbs -------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def _dispatch(self, verb: str) -> None:
        standin = self.server.owner
        parts = urlsplit(self.path)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        try:
            raw = self._read_body()
        except ValueError as e:
            self._send(_text_reply(str(e), 400, ok=False))
            return
        if path.startswith("/api/") and verb in ("GET", "POST"):
            self._api(standin, path, query, raw)
        elif path.startswith("/response/") and verb == "POST":
            self._response_url(standin, path, raw)
        elif path == "/sandbox/slow" and verb in ("GET", "HEAD", "POST"):
            self._slow(query, head=verb == "HEAD")
        elif path.startswith("/sandbox/") and verb in ("GET", "POST"):
            body: Any = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
            try:
                reply = standin._control(verb, path.removeprefix("/sandbox/").strip("/"), query, body)
            except _ApiError as e:
                reply = _json_reply({"ok": False, "error": e.error}, status=e.status)
            except ValueError as e:
                reply = _json_reply({"ok": False, "error": f"invalid_argument: {e}"}, status=400)
            self._send(reply)
        elif path.startswith(("/api/", "/response/", "/sandbox/")):
            self._send(_text_reply("method_not_allowed", 405, ok=False))
        else:
            self._send(_text_reply("not_found", 404, ok=False), head=verb == "HEAD")

    # -- endpoints ---------------------------------------------------------------------------------

    def _api(self, standin: SlackStandIn, path: str, query: dict[str, str], raw: bytes) -> None:
        method = path.removeprefix("/api/").strip("/")
        args: dict[str, Any] = dict(query)
        reply: _Reply | None = None
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if raw:
            if content_type == "application/json":
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                if isinstance(body, dict):
                    args.update(body)
                else:
                    reply = _json_reply({"ok": False, "error": "invalid_json"})
            elif content_type in ("application/x-www-form-urlencoded", ""):
                args.update(_decode_form(raw.decode("utf-8", "replace")))
            else:
                reply = _json_reply({"ok": False, "error": "invalid_form_data"})
        token = _bearer(self.headers.get("Authorization")) or _str_or_none(args.pop("token", None))
        if standin.delay_seconds > 0:
            time.sleep(standin.delay_seconds)
        if reply is None:
            reply = standin._take_fault(method)
        if reply is None:
            reply = standin._handle_api(method, args, token)
        self._finish("api", method, path, args, reply)

    def _response_url(self, standin: SlackStandIn, path: str, raw: bytes) -> None:
        response_id = path.removeprefix("/response/").strip("/")
        body: Any
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if body is None and raw:
            decoded = _decode_form(raw.decode("utf-8", "replace"))
            payload = decoded.get("payload")
            if isinstance(payload, str):
                try:
                    body = json.loads(payload)
                except ValueError:
                    body = None
        args = dict(body) if isinstance(body, dict) else {}
        reply = standin._take_fault("response_url") or standin._handle_response_url(response_id, body)
        self._finish("response_url", None, path, args, reply)

    def _slow(self, query: dict[str, str], *, head: bool) -> None:
        try:
            ms = min(max(int(query.get("ms", "0") or 0), 0), 120_000)
            status = int(query.get("status", "200") or 200)
            _check_status(status)
        except ValueError as e:
            self._send(_text_reply(f"bad query: {e}", 400, ok=False))
            return
        if ms:
            time.sleep(ms / 1000)
        self._send(_text_reply(f"slow {ms} ms", status, ok=status < 400), head=head)

    # -- I/O ---------------------------------------------------------------------------------------

    def _finish(self, kind: str, method: str | None, path: str, args: dict[str, Any], reply: _Reply) -> None:
        record: Record = {
            "seq": 0,
            "kind": kind,
            "method": method,
            "path": path,
            "args": args,
            "status": reply.status,
            "ok": reply.ok,
            "error": reply.error,
            "at": time.time(),
            "response": _decoded(reply),
        }
        # Record before answering: once the client has its answer, the record is visible.
        self.server.owner._record(record)
        self._send(reply)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self.read_chunked(_MAX_BODY)  # over the limit: ValueError("body too large")
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > _MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _send(self, reply: _Reply, *, head: bool = False) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            if not head:
                self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# -- standalone ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``python -m sandbox.slack_standin --port 4000``: serve until Ctrl-C (or SIGTERM)."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.slack_standin", description="A stand-in for the Slack Web API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4000)
    parser.add_argument("--token", action="append", help="accept only these tokens (default: any xoxb-...)")
    options = parser.parse_args(argv)

    def show(record: Record) -> None:
        print(format_reply(record), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    tokens = set(options.token) if options.token else None
    with SlackStandIn(options.host, options.port, valid_tokens=tokens, on_record=show) as standin:
        print(f"Slack stand-in listening: SLACK_API_URL={standin.api_url}", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    print("Slack stand-in stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
