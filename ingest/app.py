"""The ingest's decision for one HTTP request, independent of AWS's event shapes.

Order matters: cheap refusals first (method, size), then Slack's unsigned certificate check, then the
signature, and only a genuine request is parsed and queued. The answer is 200 only when the request
is durably in SQS or deliberately ignored; if the queue fails, an event gets 503, which makes Slack
deliver it again, while a slash command or an interaction (which Slack never delivers again) gets a
200 telling the user to try again. Select menus asking for options are answered here, not queued, and
so is a modal submission breaking its declared rules (its field errors must be in the answer).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from ingest import answers, signature
from ingest.classify import Challenge, Enqueue, Ignore, Malformed, Suggest, classify, is_ssl_check
from ingest.http import HttpRequest, HttpResponse
from ingest.queue import MAX_MESSAGE_BYTES, EnqueueFailed, MessageTooLarge, WorkQueue
from shared import envelope
from shared.config import env

NO_RETRY = {"X-Slack-No-Retry": "1"}  # Slack will not send again what can never succeed
DEFAULT_MODAL_COMMANDS = "/incident"


class RequestOutcome:
    """What happened to one request: the HTTP answer and the fields of its log line."""

    __slots__ = ("fields", "level", "outcome", "response")

    def __init__(
        self,
        response: HttpResponse,
        outcome: str,
        fields: dict[str, Any] | None = None,
        level: int = logging.INFO,
    ) -> None:
        self.response = response
        self.outcome = outcome
        self.fields: dict[str, Any] = {} if fields is None else fields
        self.level = level


class IngestSettings(NamedTuple):
    signing_secrets: list[str]
    queue_url: str
    command_ack: str = ""
    suggest: answers.Suggester = answers.no_options
    # Commands whose answer is a modal the worker opens: an ack text would be a stray message.
    modal_commands: frozenset[str] = frozenset({DEFAULT_MODAL_COMMANDS})


def handle(
    request: HttpRequest,
    settings: IngestSettings,
    queue: WorkQueue,
    *,
    now: Callable[[], float] = time.time,
    started: float | None = None,
) -> RequestOutcome:
    started = time.monotonic() if started is None else started
    if not request.method:
        return _bad_request(request.malformed or "no HTTP method in the Lambda event")
    if request.method != "POST":
        return RequestOutcome(
            HttpResponse.text(405, "method not allowed", {"Allow": "POST"}), "rejected_method"
        )
    if request.malformed:
        return _bad_request(request.malformed)
    if len(request.body) > MAX_MESSAGE_BYTES:
        return RequestOutcome(HttpResponse.text(413, "too large", NO_RETRY), "rejected_too_large")
    if is_ssl_check(request.body, request.header("content-type") or ""):
        return RequestOutcome(HttpResponse(200), "ignored_ssl_check")
    if not settings.signing_secrets:
        # Misconfiguration, not the request's fault: 500 so that Slack keeps the event and retries.
        return RequestOutcome(
            HttpResponse.text(500, "not configured"), "error_no_signing_secret", level=logging.ERROR
        )
    refused = signature.check(
        settings.signing_secrets,
        request.header("x-slack-request-timestamp"),
        request.header("x-slack-signature"),
        request.body,
        now(),
    )
    if refused:
        return RequestOutcome(
            HttpResponse.text(401, "invalid signature", NO_RETRY), f"rejected_signature_{refused}"
        )
    try:
        decision = classify(request.body, request.header("content-type") or "")
    except Malformed as error:
        return _bad_request(str(error))
    if isinstance(decision, Challenge):
        return RequestOutcome(HttpResponse.json(200, {"challenge": decision.challenge}), "url_verification")
    kind = decision.kind
    summary = envelope.summary(kind, decision.payload)
    fields: dict[str, Any] = dict(summary)
    key = envelope.dedupe_key(kind, decision.payload)
    if key:  # the same id the worker logs: one search finds a Slack action's whole path
        fields["correlation_id"] = key
    fields.update(_retry_fields(request))
    if isinstance(decision, Ignore):
        return RequestOutcome(HttpResponse(200), f"ignored_{decision.reason}", fields)
    if isinstance(decision, Suggest):
        return RequestOutcome(
            HttpResponse.json(200, settings.suggest(decision.payload)), "answered_suggestion", fields
        )
    field_errors = answers.view_errors(decision.payload) if decision.kind == "interaction" else None
    if field_errors:  # Slack shows them under the inputs; the person corrects them and submits again
        return RequestOutcome(HttpResponse.json(200, field_errors), "rejected_view_errors", fields)
    return _enqueue(decision, summary, request, settings, queue, fields, now(), started)


def _enqueue(
    work: Enqueue,
    summary: dict[str, str],
    request: HttpRequest,
    settings: IngestSettings,
    queue: WorkQueue,
    fields: dict[str, Any],
    received_at: float,
    started: float,
) -> RequestOutcome:
    if not settings.queue_url:
        return _not_queued(work, HttpResponse.text(500, "not configured"), "error_no_queue_url", fields)
    message = envelope.build(
        work.kind,
        work.payload,
        received_at=received_at,
        request_id=request.request_id,
        retry_num=fields.get("retry_num", 0),
        retry_reason=fields.get("retry_reason"),
    )
    try:
        fields["message_id"] = queue.send(
            settings.queue_url,
            envelope.dumps(message),
            envelope.message_attributes(message, summary),
            started,
        )
    except MessageTooLarge as error:
        fields["error"] = str(error)
        return RequestOutcome(HttpResponse.text(413, "too large", NO_RETRY), "rejected_too_large", fields)
    except EnqueueFailed as error:
        fields["error"] = str(error)
        return _not_queued(work, HttpResponse.text(503, "queue unavailable"), "enqueue_failed", fields)
    if work.kind == "command" and settings.command_ack and not _opens_a_modal(work.payload, settings):
        return RequestOutcome(
            HttpResponse.json(200, answers.ephemeral(settings.command_ack)), "queued", fields
        )
    return RequestOutcome(HttpResponse(200), "queued", fields)


def _opens_a_modal(command: dict[str, Any], settings: IngestSettings) -> bool:
    return str(command.get("command", "")).lower() in settings.modal_commands


def _not_queued(
    work: Enqueue, retry_later: HttpResponse, outcome: str, fields: dict[str, Any]
) -> RequestOutcome:
    """The queue did not take ``work``: an error in the log either way, so that alarms see it.

    Slack delivers an event again after a 5xx. It never delivers a slash command or an interaction
    again, and shows a 5xx to the user as a bare "dispatch_failed": those get a 200 that says to retry.
    """
    if work.kind == "event":
        return RequestOutcome(retry_later, outcome, fields, logging.ERROR)
    apology = answers.could_not_queue(work.kind, work.payload)
    return RequestOutcome(HttpResponse.json(200, apology), outcome, fields, logging.ERROR)


def _bad_request(reason: str) -> RequestOutcome:
    return RequestOutcome(
        HttpResponse.text(400, "bad request", NO_RETRY), "rejected_malformed", {"error": reason}
    )


def _retry_fields(request: HttpRequest) -> dict[str, Any]:
    """Slack's retry headers: logged and carried in the envelope; duplicates are the worker's to drop."""
    raw = request.header("x-slack-retry-num") or ""
    fields: dict[str, Any] = {
        "retry_num": int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else 0
    }
    reason = request.header("x-slack-retry-reason")
    if reason:
        fields["retry_reason"] = reason[:64]
    return fields


def settings_from_env(signing_secret: str) -> IngestSettings:
    return IngestSettings(
        signing_secrets=signature.parse_secrets(signing_secret),
        queue_url=env("QUEUE_URL"),
        command_ack=env("SLASH_COMMAND_ACK", "Working on it…"),
        suggest=answers.options_from_settings,
        modal_commands=_names(env("MODAL_COMMANDS", DEFAULT_MODAL_COMMANDS)),
    )


def _names(listed: str) -> frozenset[str]:
    return frozenset(name.strip().lower() for name in listed.split(",") if name.strip())
