"""The ingest's CloudWatch metrics, as embedded-metric-format fields of its one log line per request.

EMF needs no library and no API call: the ``_aws`` block tells CloudWatch Logs which fields of the
line are metrics. Powertools would do the same, at the cost of an import the hot path cannot afford.
"""

from __future__ import annotations

import time
from typing import Any

from shared.config import env

NAMESPACE = "SlackbotPipeline"


def emf_fields(outcome: str, status: int) -> dict[str, Any]:
    """``Acked``, ``Rejected`` (by reason), ``EnqueueFailed`` or ``Errors`` for one request."""
    dimensions = ["service", "function"]
    if outcome == "enqueue_failed":  # also when a command or interaction was told to try again (200)
        name = "EnqueueFailed"
    elif outcome.startswith("error_"):
        name = "Errors"
    elif status == 200:
        name = "Acked"
    elif 400 <= status < 500:
        name = "Rejected"
        dimensions = [*dimensions, "reason"]
    else:
        name = "Errors"
    fields: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": env("POWERTOOLS_METRICS_NAMESPACE") or NAMESPACE,
                    "Dimensions": [dimensions],
                    "Metrics": [{"Name": name, "Unit": "Count"}],
                }
            ],
        },
        "service": env("POWERTOOLS_SERVICE_NAME") or "slackbot",
        "function": "ingest",
        name: 1,
    }
    if "reason" in dimensions:
        fields["reason"] = outcome
    return fields
