"""Sending a reply where it belongs, and to the same person another way when its response_url is gone.

Every reply leaves through ``deliver``: fitted to Slack's Block Kit limits whichever skill built it, since
Slack refuses an over-limit message for good (``invalid_blocks``, ``msg_too_long``) and it would dead-letter.

A slash command or a click on an ephemeral message is answered through its ``response_url``, which Slack
takes 5 times within 30 minutes. A record that comes back from SQS late (retries, a redrive from the
dead-letter queue) may find it past use:

1. a ``response_url`` whose envelope was received 30 minutes ago or more (see
   ``shared.envelope.response_url_expired``) is not contacted at all; one Slack answers ``expired_url``,
   ``used_url`` or HTTP 404/410 is given up on;
2. the answer goes to the same user in the same channel with ``chat.postEphemeral`` (only they see it,
   as with the response_url; a ``--public`` answer becomes private: no other way posts as the user's
   command did);
3. when Slack refuses that for good (``channel_not_found``, ``not_in_channel``, ``user_not_in_channel``…),
   to the user by direct message (``conversations.open`` then ``chat.postMessage``), saying why;
4. when that is refused for good too, ``Permanent`` with every reason: the record is dead-lettered, not
   retried for ever. A transient failure on the way (5xx, 429) is retried by SQS as any other.

A forged ``response_url`` is refused before any of this (``Permanent("forged response_url")``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from shared import envelope as schema
from shared.log import get_logger, log
from worker import blockkit, mrkdwn, route, slack
from worker.errors import Permanent, ResponseUrlGone
from worker.slack import Reply

logger = get_logger("worker.replies")


def deliver(
    destination: route.Destination,
    reply: Reply,
    token: str,
    deadline: float,
    *,
    now: Callable[[], float] = time.time,
) -> None:
    """Send ``reply`` to ``destination``; raises ``Permanent`` or ``Transient`` as ``worker.errors`` says."""
    reply = blockkit.fit(reply)
    if isinstance(destination, route.ResponseUrl):
        _answer_through_response_url(destination, reply, token, deadline, now())
        return
    client = _client(token, deadline)
    if isinstance(destination, route.DirectMessage):
        _direct_message(client, destination.user, reply)
        return
    args = _message(reply)
    if isinstance(destination, route.UpdateMessage):
        slack.call(client, "chat.update", channel=destination.channel, ts=destination.ts, **args)
        return
    if destination.thread_ts:
        args["thread_ts"] = destination.thread_ts
    slack.call(client, "chat.postMessage", channel=destination.channel, **args)


def _answer_through_response_url(
    destination: route.ResponseUrl, reply: Reply, token: str, deadline: float, now: float
) -> None:
    # First: a URL the worker does not trust is an attack, not an old answer; it is never contacted, and
    # nothing is posted in its place either.
    if not slack.trusted_response_url(destination.url):
        raise Permanent("forged response_url")
    received_at = destination.received_at
    if received_at is not None and schema.response_url_expired(received_at, now):
        minutes = int((now - received_at) // 60)
        _answer_without_response_url(destination, reply, token, deadline, f"response_url {minutes} min old")
        return
    reply = dataclasses.replace(reply, in_channel=reply.in_channel or destination.in_channel)
    try:
        slack.post_to_response_url(
            destination.url, reply, deadline, replace_original=destination.replace_original
        )
    except ResponseUrlGone as gone:
        _answer_without_response_url(destination, reply, token, deadline, gone.reason)


def _answer_without_response_url(
    destination: route.ResponseUrl, reply: Reply, token: str, deadline: float, why: str
) -> None:
    """``chat.postEphemeral`` to the same user in the same channel, else a direct message to them."""
    if not destination.user:
        raise Permanent(f"{why}, and no user to answer another way")
    client = _client(token, deadline)
    refusals = [why]
    if destination.channel:
        try:
            slack.call(
                client,
                "chat.postEphemeral",
                channel=destination.channel,
                user=destination.user,
                **_message(reply),
            )
        except Permanent as refused:
            refusals.append(f"chat.postEphemeral: {_code(refused)}")
        else:
            _log_fallback("chat.postEphemeral", why)
            return
    try:
        _direct_message(client, destination.user, _say_why(reply, destination.channel))
    except Permanent as refused:
        refusals.append(f"direct message: {_code(refused)}")
        raise Permanent("; ".join(refusals)) from None
    _log_fallback("direct message", why)


def _direct_message(client: WebClient, user: str, reply: Reply) -> None:
    opened = slack.call(client, "conversations.open", users=user)
    channel = opened.get("channel")
    channel_id = channel.get("id") if isinstance(channel, dict) else None
    if not isinstance(channel_id, str) or not channel_id:
        raise Permanent("slack error: conversations.open answered without a channel id")
    slack.call(client, "chat.postMessage", channel=channel_id, **_message(reply))


def _say_why(reply: Reply, channel: str | None) -> Reply:
    """A direct message out of the blue needs a line saying where the question was asked."""
    where = f"in <#{mrkdwn.escape(channel)}>" if channel else "in a channel"
    note = f"I could not answer you {where}, so here it is."
    blocks = reply.blocks or [{"type": "section", "text": {"type": "mrkdwn", "text": reply.text}}]
    context = {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}
    return blockkit.fit(dataclasses.replace(reply, blocks=[*blocks, context]))


def _message(reply: Reply) -> dict[str, Any]:
    args: dict[str, Any] = {"text": reply.text}
    if reply.blocks:
        args["blocks"] = reply.blocks
    return args


def _client(token: str, deadline: float) -> WebClient:
    if not token:
        raise Permanent("slack error: not_authed (SLACK_BOT_TOKEN is not set)")
    return slack.web_client(token, deadline)


def _code(error: Permanent) -> str:
    return error.reason.removeprefix("slack error: ")


def _log_fallback(how: str, why: str) -> None:
    log(logger, "answered without the response_url", how=how, why=why)
