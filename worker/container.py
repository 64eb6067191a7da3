"""What a Lambda container builds once and keeps: settings read from the environment, boto3 clients.

Lambda runs a container's invocations one after another in one process whose environment does not
change, so the worker and the alarm function build what they need on their first invocation and keep
it until the container ends: one Secrets Manager read, one boto3 client per service. Nothing is keyed
on the environment. A process whose environment does change between invocations (the tests point each
test at fresh queues, and some take DynamoDB away mid-way) calls ``reset()``: the next invocation
builds everything again, which is what a new container does. tests/conftest.py resets before every
test; a test that changes the environment mid-way resets itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_kept: list[PerContainer[Any]] = []


class PerContainer(Generic[T]):
    """A value built on first use and kept for the container's life (until ``reset``).

    A build that raises keeps nothing: the next invocation tries again (Secrets Manager was down).
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()  # the batch's threads may ask for it at once
        _kept.append(self)

    def get(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._build()
            return self._value

    def forget(self) -> None:
        with self._lock:
            self._value = None


def reset() -> None:
    """Forget everything built so far: the next use builds it again from the environment, as a new container."""
    for kept in _kept:
        kept.forget()
