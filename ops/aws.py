"""boto3 clients for the SRE commands (boto3's usual credentials, region and ``AWS_ENDPOINT_URL``).

One client per service for the length of a command: ``cli.main`` starts each command with none, so a
command run twice in one process (tests) with another endpoint or other credentials builds new ones.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from shared.config import region

# Long enough for a 1 s long poll; a few quick retries for throttling and dropped connections.
_PATIENT = Config(connect_timeout=3, read_timeout=20, retries={"mode": "standard", "total_max_attempts": 3})
# For a probe whose failure has a fallback: no retries, so an endpoint without the call answers at once.
_ONCE = Config(connect_timeout=3, read_timeout=20, retries={"mode": "standard", "total_max_attempts": 1})

_clients: dict[tuple[str, bool], Any] = {}


def client(service: str, *, retries: bool = True) -> Any:
    key = (service, retries)
    if key not in _clients:
        # Lambda's AWS_REGION is honoured too; with neither it nor AWS_DEFAULT_REGION, the profile's region.
        _clients[key] = boto3.session.Session().client(
            service, region_name=region(default="") or None, config=_PATIENT if retries else _ONCE
        )
    return _clients[key]


def forget_clients() -> None:
    """A new command: its clients are built from the environment as it is now."""
    _clients.clear()
