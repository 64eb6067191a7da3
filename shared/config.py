"""Settings from the environment, read in one place so every name and default is written once."""

from __future__ import annotations

import os
from collections.abc import Callable

from shared.log import register_secret

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_REGION = "us-east-1"


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = env(name)
    if not raw:
        return default
    return raw.lower() in {"1", "true", "yes", "on"}


def env_float(name: str, default: float) -> float:
    try:
        return float(env(name) or default)
    except ValueError:
        return default


def env_int(name: str, default: int) -> int:
    try:
        return int(env(name) or default)
    except ValueError:
        return default


def region(default: str = DEFAULT_REGION) -> str:
    """The AWS region: Lambda sets ``AWS_REGION``; ``AWS_DEFAULT_REGION`` is the name boto3 itself reads."""
    return env("AWS_REGION") or env("AWS_DEFAULT_REGION") or default


def read_secret(name: str, fetch: Callable[[str], str]) -> str:
    """``NAME`` from the environment or, deployed, the secret that ``NAME_ARN`` points to (``fetch`` reads
    it from Secrets Manager; this package is stdlib only). A fetched secret is masked in every log line."""
    arn = env(f"{name}_ARN")
    if not arn:
        return env(name)
    value = fetch(arn).strip()
    register_secret(value)
    return value


class SecretSource:
    """A secret read from ``NAME`` or, when deployed, from Secrets Manager via ``NAME_ARN``.

    The ARN is fetched once per container (a Secrets Manager call costs tens of milliseconds); the
    plain variable is re-read on every call so that tests and the sandbox may change it. ``fetch``
    turns an ARN into the secret's string and is supplied by the function (this package is stdlib
    only, so it cannot build a boto3 client itself).
    """

    def __init__(self, name: str, fetch: Callable[[str], str]) -> None:
        self.name = name
        self._fetch = fetch
        self._from_arn: tuple[str, str] | None = None  # (arn, value)

    def get(self) -> str:
        arn = env(f"{self.name}_ARN")
        if not arn:
            return env(self.name)
        if self._from_arn is None or self._from_arn[0] != arn:
            self._from_arn = (arn, read_secret(self.name, self._fetch))
        return self._from_arn[1]
