"""boto3 clients, built once per container (and again only if the endpoint changes: tests, sandbox)."""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(connect_timeout=1, read_timeout=3, retries={"total_max_attempts": 3, "mode": "standard"})
_clients: dict[tuple[str, str, str], Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    # boto3 honours AWS_ENDPOINT_URL and the per-service AWS_ENDPOINT_URL_<SERVICE> (tests, sandbox)
    endpoint = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get("AWS_ENDPOINT_URL", "")
    key = (service, endpoint, region)
    with _lock:  # boto3 client creation is not thread-safe; the clients themselves are
        if key not in _clients:
            _clients[key] = boto3.session.Session().client(service, region_name=region, config=_CONFIG)
        return _clients[key]
