"""CloudWatch embedded metrics for each batch, with Powertools' ``Metrics`` (EMF: one JSON log line).

Processed, answered, failed, deduplicated and dead-lettered records, and the latency from Slack's event
to the answer. No CloudWatch API call is made: Lambda's log pipeline turns the line into metrics.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from shared.config import env
from worker.batch import RecordOutcome

NAMESPACE = "SlackbotPipeline"

_COUNTS = {
    "Processed": ("answered", "duplicate", "ignored", "dead_lettered"),
    "Answered": ("answered",),
    "Failed": ("failed", "not_started"),
    "Deduplicated": ("duplicate",),
    "DeadLettered": ("dead_lettered",),
}


def emit(outcomes: Sequence[RecordOutcome]) -> None:
    if not outcomes:
        return
    metrics = Metrics(
        namespace=env("POWERTOOLS_METRICS_NAMESPACE") or NAMESPACE,
        service=env("POWERTOOLS_SERVICE_NAME") or "slackbot",
    )
    metrics.add_dimension(name="function", value="worker")
    for name, kinds in _COUNTS.items():
        metrics.add_metric(
            name=name, unit=MetricUnit.Count, value=sum(1 for o in outcomes if o.outcome in kinds)
        )
    for outcome in outcomes:
        if outcome.latency_ms is not None:
            metrics.add_metric(
                name="AnswerLatency", unit=MetricUnit.Milliseconds, value=round(outcome.latency_ms, 1)
            )
    metrics.flush_metrics()
