"""When each step of a worker record happened: timers wrapped around the worker's own functions.

``HopRecorder.instrument()`` wraps ``worker.batch.process_record`` (which runs in the record's pool
thread, so the SQS message id is known per thread), ``worker.replies.deliver`` (the reply to Slack;
it is called once the skill has produced the reply), and ``StateTable.claim`` / ``complete`` (the
DynamoDB claim and settle). Nothing else changes: the wrapped functions run as they are.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

# step name → (from hop, to hop), in the order a record goes through them
STEPS = {
    "read, route": ("start", "claim_start"),
    "DynamoDB claim": ("claim_start", "claim_end"),
    "skill": ("claim_end", "deliver_start"),
    "reply to Slack": ("deliver_start", "deliver_end"),
    "DynamoDB settle (done)": ("complete_start", "complete_end"),
}


class HopRecorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hops: dict[str, dict[str, float]] = {}  # sqs message id → hop → time.time()
        self._local = threading.local()

    def hop(self, message_id: str, name: str, at: float | None = None) -> None:
        with self.lock:
            self.hops.setdefault(message_id, {})[name] = time.time() if at is None else at

    def of(self, message_id: str) -> dict[str, float]:
        with self.lock:
            return dict(self.hops.get(message_id, {}))

    def clear(self) -> None:
        with self.lock:
            self.hops.clear()

    def instrument(self) -> Callable[[], None]:
        """Wrap the worker's steps; returns the function that unwraps them."""
        import worker.batch
        import worker.replies
        import worker.state

        originals: list[tuple[Any, str, Any]] = []

        def wrap(owner: Any, name: str, hop: str) -> None:
            function = getattr(owner, name)
            originals.append((owner, name, function))

            @functools.wraps(function)
            def timed(*args: Any, **kwargs: Any) -> Any:
                message_id = getattr(self._local, "message_id", "")
                self.hop(message_id, f"{hop}_start")
                try:
                    return function(*args, **kwargs)
                finally:
                    self.hop(message_id, f"{hop}_end")

            setattr(owner, name, timed)

        process_record = worker.batch.process_record
        originals.append((worker.batch, "process_record", process_record))

        @functools.wraps(process_record)
        def record(record: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            message_id = str(record.get("messageId", ""))
            self._local.message_id = message_id
            self.hop(message_id, "start")
            try:
                return process_record(record, *args, **kwargs)
            finally:
                self.hop(message_id, "end")

        worker.batch.process_record = record
        wrap(worker.replies, "deliver", "deliver")
        wrap(worker.state.StateTable, "claim", "claim")
        wrap(worker.state.StateTable, "complete", "complete")

        def undo() -> None:
            for owner, name, function in reversed(originals):
                setattr(owner, name, function)

        return undo
