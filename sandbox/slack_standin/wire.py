"""What goes over the wire: an answer (``Reply``), Slack's refusals (``ApiError``), and the record of a call."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["ApiError", "Record", "Reply", "decoded", "json_reply", "text_reply"]

Record = dict[str, Any]
"""One call the stand-in served: ``seq``, ``kind``, ``method``, ``path``, ``args``, ``status``, ``ok``, ``error``,
``at``, ``response``."""


class ApiError(Exception):
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


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    ok: bool = True
    error: str | None = None


def decoded(reply: Reply) -> Any:
    """What the stand-in answered, for tests that need it (the ``ts`` of a posted message)."""
    if reply.content_type.startswith("application/json"):
        try:
            return json.loads(reply.body)
        except ValueError:
            return None
    return reply.body.decode("utf-8", "replace")


def json_reply(
    payload: dict[str, Any], status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> Reply:
    ok = bool(payload.get("ok", False))
    error = payload.get("error")
    return Reply(
        status=status,
        body=json.dumps(payload).encode(),
        content_type="application/json; charset=utf-8",
        headers=headers,
        ok=ok and status == 200,
        error=str(error) if error is not None else None,
    )


def text_reply(text: str, status: int, *, ok: bool, error: str | None = None) -> Reply:
    return Reply(
        status=status, body=text.encode(), content_type="text/plain; charset=utf-8", ok=ok, error=error
    )
