"""Lambda entry point of the ingest: ``ingest.handler.lambda_handler``.

Thin on purpose: turn the front door's event into an ``HttpRequest``, let ``ingest.app`` decide,
log one line, turn the answer back. The SQS client is built here, at import, once per container.
Neither it nor the Secrets Manager read imports boto3 when credentials are in the environment, as
they are on Lambda (``ingest/aws/client.py`` says why and when boto3 is used instead).
"""

from __future__ import annotations

import time
from typing import Any

from ingest.app import handle, settings_from_env
from ingest.aws.client import get_secret_string
from ingest.http import HttpResponse, from_lambda_event, to_lambda_result
from ingest.metrics import emf_fields
from ingest.queue import WorkQueue
from shared.config import SecretSource
from shared.log import get_logger, log

logger = get_logger("ingest")
queue = WorkQueue()
queue.client()  # at import: Lambda's init phase runs at full CPU and is not billed to the first request


# Deployed functions read the secret from Secrets Manager, once per container.
signing_secret = SecretSource("SLACK_SIGNING_SECRET", get_secret_string)


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    started = time.monotonic()
    request = from_lambda_event(event)
    if not request.request_id:
        request_id = getattr(context, "aws_request_id", "")
        request = request._replace(request_id=request_id if isinstance(request_id, str) else "")
    try:
        outcome = handle(request, settings_from_env(signing_secret.get()), queue, started=started)
    except Exception:
        # A bug or an unreadable secret: 500 keeps the event with Slack, which will deliver it again.
        logger.exception("ingest failed", extra={"fields": {"request_id": request.request_id}})
        return to_lambda_result(HttpResponse.text(500, "internal error"))
    log(
        logger,
        "slack request",
        outcome.level,
        outcome=outcome.outcome,
        status=outcome.response.status,
        ms=round((time.monotonic() - started) * 1000, 1),
        request_id=request.request_id,
        **outcome.fields,
        **emf_fields(outcome.outcome, outcome.response.status),
    )
    return to_lambda_result(outcome.response)
