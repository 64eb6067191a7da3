"""How the worker and the alarm function reach AWS: one boto3 client per service, kept for the container's life.

Each client is made on first use (the alarm function never needs CloudWatch) in the region and with the
endpoint of the environment at that moment (boto3 honours ``AWS_ENDPOINT_URL`` and
``AWS_ENDPOINT_URL_<SERVICE>``: moto in tests and the sandbox). See ``worker.container`` for why that is
once per container and how tests start a new one.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from shared.config import read_secret, region
from worker.container import PerContainer

_CONFIG = Config(connect_timeout=1, read_timeout=3, retries={"total_max_attempts": 3, "mode": "standard"})


class Clients:
    def __init__(self) -> None:
        self._region = region()
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, service: str) -> Any:
        with self._lock:  # boto3 client creation is not thread-safe; the clients themselves are
            if service not in self._made:
                self._made[service] = boto3.session.Session().client(
                    service, region_name=self._region, config=_CONFIG
                )
            return self._made[service]


_clients = PerContainer(Clients)


def client(service: str) -> Any:
    return _clients.get().get(service)


def secret(name: str) -> str:
    """``NAME`` from the environment or, deployed, the Secrets Manager secret that ``NAME_ARN`` points to.

    A handler reads it once per container, when it builds its settings (a Secrets Manager call costs
    tens of milliseconds); it is masked in every log line from then on.
    """
    return read_secret(
        name, lambda arn: str(client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
    )
