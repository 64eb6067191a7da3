"""One JSON object per log line, with secrets scrubbed from every line.

CloudWatch Logs Insights can query JSON lines field by field, and one line per request (or per record)
keeps the cost of logging flat. ``redact`` is the last line of defence: code should never log a
secret, but if one slips into an exception message it is masked before it is written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from typing import Any

LOGGER_NAME = "slackbot"

# Slack tokens, Slack request signatures and anything that looks like an AWS secret key.
_SECRET_PATTERNS = re.compile(
    r"xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|v0=[0-9a-fA-F]{16,}|(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"
)
# Variables whose values must never appear in a log line, whatever their shape.
_SECRET_VARIABLES = ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_extra_secrets: set[str] = set()
_configured = False


def register_secret(value: str) -> None:
    """Mask ``value`` in every later log line (for secrets read from Secrets Manager)."""
    for part in value.split(","):
        if len(part.strip()) >= 6:
            _extra_secrets.add(part.strip())


def _known_secrets() -> list[str]:
    values = set(_extra_secrets)
    for name in _SECRET_VARIABLES:
        for part in os.environ.get(name, "").split(","):
            if len(part.strip()) >= 6:
                values.add(part.strip())
    return sorted(values, key=len, reverse=True)


def redact(text: str) -> str:
    for secret in _known_secrets():
        text = text.replace(secret, "[REDACTED]")
    return _SECRET_PATTERNS.sub("[REDACTED]", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(line, default=str, ensure_ascii=False))


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is now (pytest and the sandbox replace it after import)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def get_logger(name: str) -> logging.Logger:
    """A child of the ``slackbot`` logger, which writes JSON lines to stdout (CloudWatch on Lambda)."""
    global _configured
    root = logging.getLogger(LOGGER_NAME)
    if not _configured:  # once: a host such as the sandbox may replace the handler afterwards
        _configured = True
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
        # Lambda's runtime installs its own handler on the root logger: do not print twice.
        root.propagate = False
    return root.getChild(name)


def log(logger: logging.Logger, message: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``message`` with structured ``fields`` merged into its JSON line."""
    logger.log(level, message, extra={"fields": fields})
