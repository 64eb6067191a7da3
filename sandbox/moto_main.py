"""moto's server, with DynamoDB's item writes made atomic as they are in AWS.

DynamoDB applies a conditional write to one item atomically: of two concurrent ``UpdateItem`` calls
with ``attribute_not_exists(id)``, exactly one succeeds. moto's server handles requests in threads and
checks the condition and writes the item in two steps, so both can succeed; the worker's claims (and so
"exactly one answer") rely on the real service's guarantee. One lock around moto's item writes gives
it back. Werkzeug's per-request log line is silenced too: it costs moto time under load.

Run as ``python -m sandbox.moto_main -H 127.0.0.1 -p PORT`` (the arguments of ``moto.server``).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_item_writes = threading.RLock()
WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


def _atomic(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _item_writes:
            return method(*args, **kwargs)

    return locked


def make_item_writes_atomic() -> None:
    for name in WRITES:
        if hasattr(DynamoDBBackend, name):
            setattr(DynamoDBBackend, name, _atomic(getattr(DynamoDBBackend, name)))


if __name__ == "__main__":
    make_item_writes_atomic()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    main()
