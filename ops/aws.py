"""boto3 clients for the SRE commands (boto3's usual credentials, region and ``AWS_ENDPOINT_URL``)."""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config

# Long enough for a 1 s long poll; a few quick retries for throttling and dropped connections.
_PATIENT = Config(connect_timeout=3, read_timeout=20, retries={"mode": "standard", "total_max_attempts": 3})
# For a probe whose failure has a fallback: no retries, so an endpoint without the call answers at once.
_ONCE = Config(connect_timeout=3, read_timeout=20, retries={"mode": "standard", "total_max_attempts": 1})

# The environment a client was built from: a command run twice in one process (tests) with another
# endpoint or other credentials gets a new client.
_ENVIRONMENT = ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID")
_clients: dict[tuple[str, ...], Any] = {}


def client(service: str, *, retries: bool = True) -> Any:
    key = (service, str(retries), *(os.environ.get(name, "") for name in _ENVIRONMENT))
    if key not in _clients:
        # Lambda's AWS_REGION is honoured too (botocore itself reads only AWS_DEFAULT_REGION or the profile).
        region = os.environ.get("AWS_REGION") or None
        _clients[key] = boto3.session.Session().client(
            service, region_name=region, config=_PATIENT if retries else _ONCE
        )
    return _clients[key]
