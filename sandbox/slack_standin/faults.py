"""Making the stand-in fail as Slack does: rate limits, 5xx, ``{"ok": false}`` answers, a slow Slack.

``FaultInjection`` is mixed into ``SlackStandIn``; its HTTP server asks ``take_fault`` before each
Web API call and each ``response_url`` post.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from sandbox.slack_standin.wire import ApiError, Reply, json_reply

__all__ = ["FaultInjection", "check_status"]


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


class FaultInjection:
    """Faults waiting for the calls they apply to, and the latency added to every Web API call."""

    def __init__(self) -> None:
        self.delay_seconds: float = 0.0
        """Latency added before answering each Web API call (a slow Slack)."""
        self._faults_lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._every: list[_EveryFault] = []

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
        check_status(status)
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._faults_lock:
            self._faults.append(_Fault(method, status, retry_after, error, times))

    def fail_every(self, n: int, status: int = 500, method: str | None = None) -> None:
        """Make every ``n``-th matching call (counted from now) fail with ``status`` until cleared."""
        check_status(status)
        if n < 1:
            raise ValueError("n must be at least 1")
        with self._faults_lock:
            self._every.append(_EveryFault(method, status, n))

    def clear_faults(self) -> None:
        with self._faults_lock:
            self._faults.clear()
            self._every.clear()

    def take_fault(self, method: str | None) -> Reply | None:
        """Consume the fault (if any) that applies to this call and answer as it says."""
        with self._faults_lock:
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

    def configure_faults(self, body: dict[str, Any]) -> None:
        """Apply a ``POST /sandbox/faults`` body: ``{"clear": true}``, ``{"every": N, …}`` or one fault."""
        method = body.get("method")
        if method is not None and not isinstance(method, str):
            raise ApiError("invalid_method", 400)
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
            raise ApiError(f"invalid_fault: {e}", 400) from None


def check_status(status: int) -> None:
    if not 100 <= status <= 599:
        raise ValueError(f"not an HTTP status: {status}")


def _fault_reply(status: int, retry_after: int | None, error: str | None, *, plain: bool) -> Reply:
    headers: tuple[tuple[str, str], ...] = ()
    if status == 429 or retry_after is not None:
        headers = (("Retry-After", str(retry_after if retry_after is not None else 1)),)
    if status >= 500:
        reason = error or _reason(status)
        return Reply(status, reason.encode(), "text/plain; charset=utf-8", headers, ok=False, error=reason)
    default = "ratelimited" if status == 429 else "fault_injected"
    if plain:
        text = error or ("rate_limited" if status == 429 else default)
        return Reply(status, text.encode(), "text/plain; charset=utf-8", headers, ok=False, error=text)
    return json_reply({"ok": False, "error": error or default}, status=status, headers=headers)


def _reason(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Error"
