"""Signed Slack requests as the Lambda events a Function URL hands the ingest (or Bolt's adapter)."""

from __future__ import annotations

import itertools
import time
from typing import Any

from bench.env import SIGNING_SECRET
from sandbox.http_front import function_url_event
from sandbox.slack_payloads import mention, slack_headers

_counter = itertools.count(1)


def unique_ts() -> str:
    """A message ``ts`` no other benchmark message has (the worker dedupes on team, channel and ts)."""
    return f"{int(time.time())}.{next(_counter) % 1_000_000:06d}"


def mention_body(text: str = "<@UBOT> ping", channel: str = "C0001", user: str = "U0HUMAN") -> bytes:
    return mention(text, channel=channel, ts=unique_ts(), extra={"user": user})


def signed_mention(
    text: str = "<@UBOT> ping",
    *,
    secret: str = SIGNING_SECRET,
    channel: str = "C0001",
    user: str = "U0HUMAN",
) -> dict[str, Any]:
    """The Function URL event of a signed ``app_mention``, fresh: new event id, ts and timestamp."""
    return signed_request(mention_body(text, channel, user), secret=secret)


def signed_request(
    body: bytes,
    content_type: str = "application/json",
    *,
    secret: str = SIGNING_SECRET,
    retry_num: int | None = None,
) -> dict[str, Any]:
    """The Function URL event of ``body`` as Slack posts it, signed now (``retry_num``: Slack's retry)."""
    headers = slack_headers(body, secret=secret, content_type=content_type, retry_num=retry_num)
    return function_url_event("POST", "/slack/events", "", list(headers.items()), body, "3.3.3.3")
