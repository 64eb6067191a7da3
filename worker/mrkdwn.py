"""Text from outside (URLs, redirect targets, error texts, alarm names) made safe to post as mrkdwn.

Slack reads ``<…>`` as a control sequence: ``<!channel>`` pings everyone, ``<https://a|label>`` is a
link whose label hides its target, ``<@U1>`` mentions a user. Escaping ``&``, ``<`` and ``>`` as Slack
documents turns every one of them into plain text; only the bot's own code may write them live.
"""

from __future__ import annotations

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str) -> str:
    """``text`` as literal characters in a mrkdwn (or plain) message: no mention, no link, no command."""
    return text.translate(_ESCAPES)
