"""What a Lambda container builds once and keeps: settings read from the environment, boto3 clients.

Lambda runs a container's invocations one after another in one process whose environment does not
change, so the worker and the alarm function build what they need on their first invocation and keep
it until the container ends: one Secrets Manager read, one boto3 client per service.

A process that calls the handlers with another environment (a test suite pointing each test at fresh
queues, or taking DynamoDB away mid-way) is, for the handlers, another container: what was built is
built again from the new environment, never used against it. The environment is compared once per
use (a few dozen short strings), which costs microseconds; ``reset()`` forgets everything at once.
"""

from __future__ import annotations

import os
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
        self._built_in: dict[str, str] | None = None  # the environment it was built from
        self._lock = threading.Lock()  # the batch's threads may ask for it at once
        _kept.append(self)

    def get(self) -> T:
        with self._lock:
            environment = dict(os.environ)
            if self._value is None or self._built_in != environment:
                self._value = self._build()
                self._built_in = environment
            return self._value

    def forget(self) -> None:
        with self._lock:
            self._value = None
            self._built_in = None


def reset() -> None:
    """Forget everything built so far: the next use builds it again from the environment, as a new container."""
    for kept in _kept:
        kept.forget()
