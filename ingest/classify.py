"""What a signed Slack request is, and whether the bot should act on it.

``classify`` reads the body of a request whose signature has already been checked and says what to
do with it: answer the URL challenge, answer a select menu's request for options, queue it (an event,
a slash command, an interaction) or ignore it (the bot's own messages, rate-limit notices). Content
that cannot be Slack's is ``Malformed``.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple
from urllib.parse import parse_qs

from shared.envelope import Kind


class Malformed(ValueError):
    """The body is signed but is not a request Slack sends."""


class Challenge(NamedTuple):
    challenge: str


class Ignore(NamedTuple):
    reason: str
    payload: dict[str, Any]
    kind: Kind = "event"


class Suggest(NamedTuple):
    """An external select (``block_suggestion``) or a legacy dialog asking for options: answered, not queued."""

    payload: dict[str, Any]
    kind: Kind = "interaction"


class Enqueue(NamedTuple):
    kind: Kind
    payload: dict[str, Any]


Decision = Challenge | Ignore | Suggest | Enqueue
SUGGESTIONS = frozenset({"block_suggestion", "dialog_suggestion"})


def is_ssl_check(body: bytes, content_type: str = "") -> bool:
    """Slack's periodic certificate check of a slash command URL: a form whose ``ssl_check`` field is 1.

    It is answered before the signature is checked and never queued, so only a real form counts: a
    JSON event whose text happens to contain ``&ssl_check=1&`` is a message for the bot.
    """
    if b"ssl_check" not in body or _is_json(body, content_type):  # the first test only saves parsing
        return False
    try:
        return _form(body).get("ssl_check") == "1"
    except Malformed:
        return False


def _is_json(body: bytes, content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or body.lstrip()[:1] == b"{"


def classify(body: bytes, content_type: str = "") -> Decision:
    if _is_json(body, content_type):
        return _classify_events_api(_json_object(body))
    form = _form(body)
    if "payload" in form:
        return _classify_interaction(_json_object(form["payload"].encode("utf-8")))
    if "command" in form:
        if not form["command"].startswith("/"):
            raise Malformed("a slash command must start with /")
        return Enqueue("command", form)
    raise Malformed("neither an Events API body, a slash command nor an interaction payload")


def _classify_events_api(body: dict[str, Any]) -> Decision:
    kind = body.get("type")
    if kind == "url_verification":
        challenge = body.get("challenge")
        if not isinstance(challenge, str):
            raise Malformed("url_verification without a challenge")
        return Challenge(challenge)
    if kind == "app_rate_limited":
        # Slack tells us it is dropping our events for a minute: nothing to answer, but worth a log line.
        return Ignore("app_rate_limited", body)
    if kind != "event_callback":
        raise Malformed(f"unknown Events API type {kind!r}")
    if not isinstance(body.get("event"), dict):
        raise Malformed("event_callback without an event")
    # Slack always sends an event_id; without one the worker still dedupes a message by (channel, ts).
    reason = _from_a_bot(body)
    return Ignore(reason, body) if reason else Enqueue("event", body)


def _from_a_bot(body: dict[str, Any]) -> str | None:
    """Why an event is a bot's own message (or an edit or deletion of one), or None.

    Answering bots is how a bot ends up talking to itself in a loop: every bot message is dropped here,
    before it costs a queue message.
    """
    event = body["event"]
    if event.get("type") not in {"message", "app_mention"}:
        return None
    if event.get("subtype") == "bot_message" or event.get("bot_id") or event.get("bot_profile"):
        return "bot_message"
    inner = [event.get("message"), event.get("previous_message")]  # message_changed / message_deleted
    for message in (m for m in inner if isinstance(m, dict)):
        if message.get("bot_id") or message.get("subtype") == "bot_message":
            return "bot_message_edit"
    ours = _our_bot_users(body)
    authors = [event.get("user")] + [m.get("user") for m in inner if isinstance(m, dict)]
    if ours and any(author in ours for author in authors if isinstance(author, str)):
        return "own_message"
    return None


def _our_bot_users(body: dict[str, Any]) -> set[str]:
    authorizations = body.get("authorizations")
    if not isinstance(authorizations, list):
        return set()
    return {
        a["user_id"]
        for a in authorizations
        if isinstance(a, dict) and isinstance(a.get("user_id"), str) and a.get("is_bot", True) is not False
    }


def _classify_interaction(payload: dict[str, Any]) -> Decision:
    if not isinstance(payload.get("type"), str):
        raise Malformed("interaction payload without a type")
    if payload["type"] in SUGGESTIONS:
        return Suggest(payload)
    return Enqueue("interaction", payload)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:  # nested too deep: RecursionError
        raise Malformed(f"not JSON: {error.__class__.__name__}") from None
    if not isinstance(value, dict):
        raise Malformed("JSON body is not an object")
    if _SURROGATE_ESCAPE.search(raw):  # rare: only then is the walk worth its cost
        _replace_lone_surrogates(value)
    return value


# The body was valid UTF-8, so a surrogate can only have come from a JSON escape such as \ud83d.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# json.loads joins a valid pair into one character: any surrogate left is half of a pair, alone.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def _replace_lone_surrogates(root: dict[str, Any]) -> None:
    """Replace lone surrogates, which UTF-8 cannot encode, in every key and string, in place.

    Done once, here, so the envelope, its message attributes, the dedupe keys and the log line all
    carry the same text. A loop, not recursion: JSON nested a thousand deep must not raise.
    """
    pending: list[dict[str, Any] | list[Any]] = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            items = list(node.items())
            node.clear()
            for key, value in items:
                node[_LONE_SURROGATE.sub(REPLACEMENT, key)] = value
            keys: list[Any] = list(node)
        else:
            keys = list(range(len(node)))
        for key in keys:
            value = node[key]
            if isinstance(value, str):
                node[key] = _LONE_SURROGATE.sub(REPLACEMENT, value)
            elif isinstance(value, dict | list):
                pending.append(value)


def _form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
        fields = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (UnicodeDecodeError, ValueError) as error:
        raise Malformed(f"not a form: {error.__class__.__name__}") from None
    return {name: values[0] for name, values in fields.items()}
