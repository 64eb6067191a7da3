"""How long Lambda gives this invocation: what each function's deadline is counted from."""

from __future__ import annotations

from typing import Any


def remaining_seconds(context: Any, default: float) -> float:
    """The time left according to Lambda's context; ``default`` (the function's timeout) without one."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        try:
            return float(remaining()) / 1000
        except (TypeError, ValueError):
            pass
    return default
