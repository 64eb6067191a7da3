"""Real Slack payloads through real front-door events, the ingest, SQS (moto server), the worker and the Slack stand-in.

The corpus (``tests/fixtures/slack_corpus``) holds payloads from the test suites of Slack's own SDKs; the
Lambda events start from Powertools' recorded Function URL, HTTP API and REST API events. Whatever Slack may
legitimately send must never get a 5xx from the ingest, nor become a dead letter or a retried record in
the worker: a dead letter pages the on-call.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from ingest.handler import lambda_handler as ingest_handler
from sandbox.poller import LambdaContext
from tests.fixtures import corpus
from tests.support import slack_requests as sr
from tests.support.pipeline import Pipeline

EVENT_TYPES = {  # events an app like this one may be subscribed to (the corpus holds more)
    "app_mention", "app_home_opened", "team_join", "user_change", "user_profile_changed",
    "user_status_changed", "user_huddle_changed", "channel_created", "channel_rename", "group_rename",
    "im_created", "member_joined_channel", "member_left_channel", "reaction_added", "link_shared",
}  # fmt: skip
MESSAGE_SUBTYPES = {None, "file_share", "message_changed", "message_deleted", "channel_join", "bot_message"}
INTERACTION_TYPES = {
    "block_actions", "interactive_message", "view_submission", "view_closed", "shortcut", "message_action",
    "block_suggestion", "dialog_submission", "dialog_cancellation", "dialog_suggestion", "workflow_step_edit",
}  # fmt: skip


def test_the_corpus_covers_every_event_and_interaction_type_the_bot_may_receive() -> None:
    events = [i.payload["event"] for i in corpus.load() if i.kind == "event"]
    assert {e["type"] for e in events} >= EVENT_TYPES
    assert {e.get("subtype") for e in events if e["type"] == "message"} >= MESSAGE_SUBTYPES
    assert {"im"} <= {e.get("channel_type") for e in events if e.get("subtype") == "file_share"}
    assert {i.payload["type"] for i in corpus.load() if i.kind == "interaction"} == INTERACTION_TYPES
    assert all(i.payload["command"].startswith("/") for i in corpus.load() if i.kind == "command")
    assert all(i.source.startswith("slackapi/") for i in corpus.load())  # each names its origin


def _deliver(pipeline: Pipeline, item: corpus.Item, door: str) -> dict[str, Any]:
    """Slack signs and POSTs one corpus payload through ``door``; a fresh event id, as Slack gives each event."""
    body, content_type = item.http_body(
        response_url=pipeline.slack.new_response_url(), event_id=f"Ev{uuid.uuid4().hex[:10].upper()}"
    )
    headers = sr.slack_headers(body, content_type=content_type)
    answer: dict[str, Any] = ingest_handler(
        corpus.front_door_event(door, body, headers), LambdaContext(3.0, "ingest")
    )
    return answer


@pytest.mark.parametrize("door", sr.FRONT_DOORS)
def test_every_real_payload_is_answered_or_ignored_never_a_5xx_nor_a_dead_letter(
    pipeline: Pipeline, door: str
) -> None:
    statuses = {item.name: _deliver(pipeline, item, door)["statusCode"] for item in corpus.load()}
    assert {name: status for name, status in statuses.items() if status >= 500} == {}
    queued = pipeline.depth()
    assert queued > len(corpus.load()) // 2  # most of the corpus did reach the worker

    invocations = pipeline.drain()

    assert [i.result.get("crashed") for i in invocations if "crashed" in i.result] == []
    assert [i.failed for i in invocations if i.failed] == []  # no batch item failure
    assert sum(len(i.records) for i in invocations) == queued  # each record processed once
    assert pipeline.depth(pipeline.dlq_url) == 0
    # Humans talking to the bot were answered (the corpus repeats one DM ts, so not one reply each).
    answered_channels = {r["args"].get("channel") for r in pipeline.replies() if r["kind"] != "response_url"}
    assert {"C111", "D111", "D024BE91L"} <= answered_channels
    assert any(r["kind"] == "response_url" for r in pipeline.replies())  # the slash commands


def test_a_direct_message_with_a_file_gets_its_text_answered(pipeline: Pipeline) -> None:
    item = corpus.item("events/message_im_file_share")
    assert _deliver(pipeline, item, "http_api")["statusCode"] == 200
    (invocation,) = pipeline.drain()
    assert invocation.failed == []
    (reply,) = pipeline.replies()
    assert reply["method"] == "chat.postMessage"
    assert reply["args"]["channel"] == "D111" and reply["args"]["thread_ts"] == "1726133698.626339"
    assert "I don't know `uploaded`" in reply["args"]["text"]  # "uploaded a file": its first word asked


@pytest.mark.parametrize(
    "name",
    [
        "interactions/interactive_message",
        "events/user_change_sample",
        "events/team_join_sample",
        "events/user_profile_changed",
        "events/user_status_changed",
        "events/user_huddle_changed",
        "events/channel_created",
        "events/channel_rename",
        "events/group_rename",
        "events/im_created",
    ],
)
def test_payloads_no_skill_handles_are_acknowledged_and_dropped_not_dead_lettered(
    pipeline: Pipeline, name: str
) -> None:
    assert _deliver(pipeline, corpus.item(name), "function_url")["statusCode"] == 200
    (queued,) = pipeline.receive(wait=0)
    assert json.loads(queued["Body"])["payload"]["type"] in ("event_callback", "interactive_message")
    invocation = pipeline.invoke([queued])
    assert invocation.failed == []
    assert pipeline.depth(pipeline.dlq_url) == 0 and pipeline.depth() == 0
    assert pipeline.replies() == []
