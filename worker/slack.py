"""Talking to Slack: a WebClient whose retries fit in the time left, and where each answer goes.

slack_sdk's built-in retry handlers sleep as long as Slack asks, however little time the Lambda has
left. Here every retry first checks the deadline: a ``Retry-After`` that does not fit makes the call
fail as ``Transient`` and the record comes back later from SQS instead of being cut off mid-sleep.
"""

from __future__ import annotations

import random
import socket
import ssl
import time
from dataclasses import dataclass
from http.client import RemoteDisconnected
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest as RetryRequest
from slack_sdk.http_retry.response import HttpResponse as RetryResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookClient

from shared.config import DEFAULT_SLACK_API_URL, env
from worker.errors import PERMANENT_SLACK_ERRORS, Permanent, ResponseUrlGone, Transient

SLACK_HOOKS_ORIGIN = ("https", "hooks.slack.com", 443)  # where Slack's own response_urls point
DEFAULT_PORTS = {"https": 443, "http": 80}
# What Slack answers a response_url past its 30 minutes or its 5 posts: the answer goes another way.
RESPONSE_URL_GONE = frozenset({"expired_url", "used_url"})
MAX_CALL_SECONDS = 10.0  # one HTTP call to Slack
SAFETY_SECONDS = 0.5  # left for settling the record after the last retry


@dataclass(frozen=True)
class Reply:
    """What a skill answers: text (always: notifications and fallbacks use it) and optional Block Kit."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    in_channel: bool = False  # slash commands: visible to the channel rather than only the user


class _DeadlineRetry(RetryHandler):
    """Retry rate limits (after ``Retry-After``), server errors and dropped connections, within a deadline."""

    def __init__(self, deadline: float, max_retry_count: int = 3) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.deadline = deadline
        self._wait = 0.0

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: RetryRequest,
        response: RetryResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            self._wait = _retry_after(response.headers) + random.random() * 0.2  # noqa: S311 (jitter, not crypto)
        elif response is not None and response.status_code >= 500:
            self._wait = 0.2 * 2**state.current_attempt
        elif error is not None and isinstance(
            error, URLError | ConnectionError | RemoteDisconnected | TimeoutError
        ):
            if isinstance(error, URLError) and response is not None:
                return False
            self._wait = 0.2 * 2**state.current_attempt
        else:
            return False
        # Another attempt needs the wait, the call itself and time to settle the record afterwards.
        return time.monotonic() + self._wait + 1.0 + SAFETY_SECONDS < self.deadline

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: RetryRequest,
        response: RetryResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        time.sleep(self._wait)  # honouring Slack's Retry-After / backoff, not synchronising threads
        state.increment_current_attempt()


def _retry_after(headers: dict[str, Any]) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return 1.0
    return 1.0


def _timeout(deadline: float) -> int:
    left = deadline - time.monotonic() - SAFETY_SECONDS
    return max(1, int(min(MAX_CALL_SECONDS, left)))


def web_client(token: str | None, deadline: float) -> WebClient:
    base_url = env("SLACK_API_URL") or DEFAULT_SLACK_API_URL
    if not base_url.endswith("/"):
        base_url += "/"
    return WebClient(
        token=token, base_url=base_url, timeout=_timeout(deadline), retry_handlers=[_DeadlineRetry(deadline)]
    )


def call(client: WebClient, method: str, **kwargs: Any) -> dict[str, Any]:
    """One Web API call with Slack's failures sorted into ``Permanent`` and ``Transient``."""
    try:
        response = client.api_call(method, json=kwargs)
    except SlackApiError as error:
        code = str(error.response.get("error", "")) if isinstance(error.response.data, dict) else ""
        status = error.response.status_code
        if status == 429:
            raise Transient(
                f"slack {method}: rate limited (Retry-After did not fit in the time left)",
                retry_after=_retry_after(dict(error.response.headers or {})),
            ) from None
        if code in PERMANENT_SLACK_ERRORS:
            raise Permanent(f"slack error: {code}") from None
        raise Transient(f"slack {method}: HTTP {status} {code}".strip()) from None
    except (SlackRequestError, URLError, OSError) as error:  # timeouts and connection errors are OSErrors
        raise Transient(f"slack {method}: {unreachable(error, client.base_url)}") from None
    return dict(response.data) if isinstance(response.data, dict) else {}


def unreachable(error: BaseException, url: str) -> str:
    """Why a request got no HTTP answer, in words an operator can act on (DNS, TLS, refused, timed out).

    Names the host only: a ``response_url``'s path is a credential of sorts.
    """
    host = urlsplit(url).hostname or "the server"
    if isinstance(error, HTTPError):  # urllib's own answer to a status, where slack_sdk lets one through
        return f"HTTP {error.code} from {host}"
    cause: BaseException = (
        error.reason if isinstance(error, URLError) and isinstance(error.reason, BaseException) else error
    )
    if isinstance(cause, socket.gaierror):
        return f"DNS lookup of {host} failed ({cause.strerror or cause})"
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"TLS certificate of {host} not trusted ({cause.verify_message or cause.reason})"
    if isinstance(cause, ssl.SSLError):
        return f"TLS handshake with {host} failed ({cause.reason or cause})"
    if isinstance(cause, TimeoutError):
        return f"{host} did not answer in time"
    if isinstance(cause, ConnectionRefusedError):
        return f"{host} refused the connection"
    if isinstance(cause, RemoteDisconnected | ConnectionResetError):
        return f"{host} closed the connection without answering"
    if isinstance(cause, OSError) and cause.strerror:
        return f"cannot reach {host} ({cause.strerror})"
    detail = str(cause).strip()
    return f"cannot reach {host} ({cause.__class__.__name__}{': ' + detail if detail else ''})"


def post_to_response_url(url: str, reply: Reply, deadline: float, *, replace_original: bool = False) -> None:
    """Answer a slash command or an interaction through its ``response_url`` (5 uses in 30 minutes).

    Raises ``ResponseUrlGone`` when Slack says the URL is past use, so the caller can answer another way.
    """
    if not trusted_response_url(url):
        raise Permanent("forged response_url")
    client = WebhookClient(url=url, timeout=_timeout(deadline), retry_handlers=[_DeadlineRetry(deadline)])
    body: dict[str, Any] = {
        "text": reply.text,
        "response_type": "in_channel" if reply.in_channel else "ephemeral",
    }
    if reply.blocks:
        body["blocks"] = reply.blocks
    if replace_original:
        body["replace_original"] = True
    try:
        response = client.send_dict(body)
    except (URLError, OSError) as error:
        raise Transient(f"response_url: {unreachable(error, url)}") from None
    if 200 <= response.status_code < 300:
        return
    text = (response.body or "").strip()
    if response.status_code == 429:
        raise Transient("response_url: HTTP 429", retry_after=_retry_after(dict(response.headers or {})))
    if response.status_code >= 500:
        raise Transient(f"response_url: HTTP {response.status_code}")
    if text in RESPONSE_URL_GONE or response.status_code in (404, 410):
        raise ResponseUrlGone(f"response_url error: {text or response.status_code}")
    if text in PERMANENT_SLACK_ERRORS or response.status_code in (400, 403, 404, 410):
        raise Permanent(f"response_url error: {text or response.status_code}")
    raise Transient(f"response_url: HTTP {response.status_code} {text}".strip())


def trusted_response_url(url: str) -> bool:
    """Whether ``url`` may be posted to: Slack's hooks host, or the origin of a non-Slack ``SLACK_API_URL``.

    A ``response_url`` arrives in the payload, so whoever can get a payload queued chooses it; posting
    to any URL would make the worker a proxy into its own network. Only the exact origin (scheme, host,
    port) counts: userinfo (``https://hooks.slack.com@evil.example/``), another port, ``http``, a
    trailing dot or a look-alike host are all refused. The sandbox and the tests answer on the origin of
    their stand-in's ``SLACK_API_URL``; with Slack's own API URL only ``https://hooks.slack.com`` is trusted.
    """
    origin = _origin(url)
    if origin is None:
        return False
    trusted = {SLACK_HOOKS_ORIGIN}
    api_origin = _origin(env("SLACK_API_URL") or DEFAULT_SLACK_API_URL)
    if api_origin is not None and api_origin != _origin(DEFAULT_SLACK_API_URL):
        trusted.add(api_origin)
    return origin in trusted


def _origin(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of a plain ``http(s)://host[:port]/…`` URL; None for anything unusual."""
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        return None  # whitespace and controls: parsers and HTTP clients disagree about them
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None
    return parts.scheme, parts.hostname, port if port is not None else DEFAULT_PORTS[parts.scheme]
