"""Slack request signatures: ``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{raw body}``.

https://api.slack.com/authentication/verifying-requests-from-slack
The comparison is constant-time (``hmac.compare_digest``) and every configured secret is tried, so a
rotation can accept the old and the new secret at once without leaking which one matched.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

MAX_AGE_SECONDS = 300  # Slack's replay window, applied in both directions


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def check(
    secrets: Sequence[str], timestamp: str | None, signature: str | None, body: bytes, now: float
) -> str | None:
    """Return why the request is refused (``missing``, ``stale``, ``mismatch``) or None if it is genuine."""
    if not timestamp or not signature:
        return "missing"
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return "stale"
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return "stale"
    presented = signature.encode("utf-8", "surrogateescape")
    matched = False
    for secret in secrets:  # no early exit: the time taken does not depend on which secret matched
        matched |= hmac.compare_digest(sign(secret, timestamp, body).encode("ascii"), presented)
    return None if matched else "mismatch"


def parse_secrets(raw: str) -> list[str]:
    """``SLACK_SIGNING_SECRET`` may hold several secrets, comma-separated, during a rotation."""
    return [part.strip() for part in raw.split(",") if part.strip()]
