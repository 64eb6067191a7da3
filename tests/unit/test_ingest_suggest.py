"""The seam where a later function producing select-menu options plugs into the ingest."""

from __future__ import annotations

import json
from typing import Any

from ingest.app import IngestSettings, handle
from ingest.http import HttpRequest
from ingest.queue import WorkQueue
from tests.support import slack_requests as sr


class NoQueue(WorkQueue):
    def send(self, *args: Any, **kwargs: Any) -> str:
        raise AssertionError("a suggestion must not be queued")


def signed(body: bytes) -> HttpRequest:
    headers = sr.slack_headers(body, content_type="application/x-www-form-urlencoded")
    return HttpRequest("POST", "/slack/events", {k.lower(): v for k, v in headers.items()}, body)


def test_a_plugged_in_suggester_answers_with_its_options_for_the_typed_value() -> None:
    seen: list[dict[str, Any]] = []

    def services(payload: dict[str, Any]) -> dict[str, Any]:
        seen.append(payload)
        names = [name for name in ("payments", "search") if name.startswith(payload["value"])]
        return {"options": [{"text": {"type": "plain_text", "text": n}, "value": n} for n in names]}

    settings = IngestSettings(signing_secrets=[sr.SECRET], queue_url="https://sqs/q", suggest=services)
    payload = {
        "type": "block_suggestion",
        "action_id": "incident:service",
        "value": "pay",
        "user": {"id": "U1"},
    }
    outcome = handle(signed(sr.interaction(payload)), settings, NoQueue())
    assert outcome.response.status == 200
    assert json.loads(outcome.response.body) == {
        "options": [{"text": {"type": "plain_text", "text": "payments"}, "value": "payments"}]
    }
    assert seen == [payload]
    assert outcome.outcome == "answered_suggestion" and outcome.fields["user"] == "U1"


def test_without_a_suggester_the_answer_is_an_empty_list() -> None:
    settings = IngestSettings(signing_secrets=[sr.SECRET], queue_url="https://sqs/q")
    payload = {"type": "dialog_suggestion", "name": "service", "value": "x", "callback_id": "d"}
    outcome = handle(signed(sr.interaction(payload)), settings, NoQueue())
    assert (outcome.response.status, json.loads(outcome.response.body)) == (200, {"options": []})
