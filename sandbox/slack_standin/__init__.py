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

Where things are: ``workspace.py`` (the fake workspace's state: records, messages, people, views),
``methods_chat.py`` / ``methods_views.py`` / ``methods_people.py`` (the Web API methods by family, and
``response_url`` posts), ``limits.py`` (Block Kit's limits), ``faults.py`` (fault injection),
``server.py`` (``SlackStandIn``: the HTTP routes and the control API), ``printing.py`` (records as
readable lines), ``wire.py`` (answers and refusals), ``__main__.py`` (``python -m sandbox.slack_standin``).
"""

from sandbox.slack_standin.limits import MAX_VIEW_BLOCKS, message_refusal
from sandbox.slack_standin.printing import format_reply
from sandbox.slack_standin.server import SlackStandIn
from sandbox.slack_standin.wire import Record
from sandbox.slack_standin.workspace import (
    BOT_ID,
    BOT_USER_ID,
    HUMAN_ID,
    TEAM_ID,
    TRIGGER_TTL_SECONDS,
    is_reply,
)

__all__ = [
    "BOT_ID",
    "BOT_USER_ID",
    "HUMAN_ID",
    "MAX_VIEW_BLOCKS",
    "TEAM_ID",
    "TRIGGER_TTL_SECONDS",
    "Record",
    "SlackStandIn",
    "format_reply",
    "is_reply",
    "message_refusal",
]
