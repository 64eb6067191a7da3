"""Lambda entry point of the worker: ``worker.handler.lambda_handler``, triggered by SQS.

Thin on purpose: take the container's settings (built on its first invocation, see
``worker.container``) and the time left, let ``worker.batch`` process the records, and report the
failed ones as ``batchItemFailures`` (the event source mapping has ``ReportBatchItemFailures``): SQS
deletes the rest and delivers only those again.
"""

from __future__ import annotations

import time
from typing import Any

from shared.config import env, env_int
from shared.log import get_logger, log
from worker import aws, metrics
from worker.batch import WorkerSettings, process_batch
from worker.container import PerContainer
from worker.invocation import remaining_seconds
from worker.state import StateTable

logger = get_logger("worker")
DEFAULT_TIMEOUT_SECONDS = 60.0
SETTLE_SECONDS = 1.0  # kept back from the deadline to report the batch


def settings_from_environment() -> WorkerSettings:
    table = env("STATE_TABLE")
    return WorkerSettings(
        bot_token=aws.secret("SLACK_BOT_TOKEN"),
        dlq_url=env("DLQ_URL"),
        queue_url=env("QUEUE_URL"),
        state=StateTable(table, aws.client("dynamodb")) if table else None,
        sqs=aws.client("sqs"),
        concurrency=max(1, env_int("WORKER_CONCURRENCY", 10)),
    )


container_settings = PerContainer(settings_from_environment)


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    try:
        settings = container_settings.get()
    except Exception:  # e.g. Secrets Manager unreachable: every record is retried
        logger.exception("worker settings unavailable")
        return {"batchItemFailures": [{"itemIdentifier": r.get("messageId", "")} for r in _records(event)]}
    return handle(event, context, settings)


def handle(event: Any, context: Any, settings: WorkerSettings) -> dict[str, Any]:
    """The invocation, given the settings (the bench hands it settings of its own)."""
    started = time.monotonic()
    deadline = started + remaining_seconds(context, DEFAULT_TIMEOUT_SECONDS) - SETTLE_SECONDS
    records = _records(event)
    outcomes = process_batch(records, deadline, settings)
    metrics.emit(outcomes)
    failures = [{"itemIdentifier": o.message_id} for o in outcomes if o.failed]
    log(
        logger,
        "batch",
        records=len(records),
        failed=len(failures),
        outcomes={o.outcome: sum(1 for x in outcomes if x.outcome == o.outcome) for o in outcomes},
        ms=round((time.monotonic() - started) * 1000, 1),
    )
    return {"batchItemFailures": failures}


def _records(event: Any) -> list[dict[str, Any]]:
    records = event.get("Records") if isinstance(event, dict) else None
    return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []
