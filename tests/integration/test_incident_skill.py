"""The `incident` skill through the real handlers: ingest → SQS (moto server) → worker → Slack stand-in."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared import modals
from tests.support import slack_requests as sr
from tests.support.pipeline import Pipeline

INPUTS = ("title", "severity", "service", "summary")


def opened_views(pipeline: Pipeline) -> list[dict[str, Any]]:
    calls = pipeline.slack.calls("views.open")
    assert all(call["ok"] for call in calls), calls
    return [call["args"]["view"] for call in calls]


def declaring_channel(view: dict[str, Any]) -> str:
    return modals.read_private_metadata(view["private_metadata"]).context["channel"]


def open_by_command(pipeline: Pipeline, text: str = "", channel: str = "C0001") -> dict[str, Any]:
    pipeline.command(text, command="/incident", channel=channel)
    pipeline.drain()
    (view,) = opened_views(pipeline)
    return view


def declare(pipeline: Pipeline, view: dict[str, Any], **values: str | None) -> dict[str, Any]:
    answer = pipeline.submit(view, {"title": "Checkout is down", "severity": "SEV2", **values})
    pipeline.drain()
    return answer


def test_the_command_opens_the_modal_and_answers_nothing_else(pipeline: Pipeline) -> None:
    answer = pipeline.command("Checkout is down", command="/incident")
    assert answer["statusCode"] == 200 and not answer.get("body")  # no "Working on it…": the modal answers
    pipeline.drain()
    (view,) = opened_views(pipeline)
    assert view["callback_id"] == "incident:declare"
    blocks = {block["block_id"]: block for block in view["blocks"] if block["type"] == "input"}
    assert tuple(blocks) == INPUTS
    assert all(block["element"]["action_id"] == block_id for block_id, block in blocks.items())
    assert blocks["title"]["element"]["initial_value"] == "Checkout is down"
    assert declaring_channel(view) == "C0001"
    assert pipeline.replies() == []  # the modal is the answer
    assert pipeline.dead_letters() == []


def test_a_mention_answers_with_a_button_whose_click_opens_the_modal(pipeline: Pipeline) -> None:
    pipeline.post(sr.mention("<@UBOT> incident", channel="C0INCIDENTS"))
    pipeline.drain()
    (offer,) = pipeline.replies()
    assert offer["args"]["channel"] == "C0INCIDENTS" and opened_views(pipeline) == []
    (button,) = offer["args"]["blocks"][-1]["elements"]
    assert button["action_id"] == "incident:open"

    ts = offer["response"]["ts"]
    click = sr.block_action(
        "incident:open",
        button["value"],
        trigger_id=pipeline.slack.new_trigger_id(),
        container={"type": "message", "message_ts": ts, "channel_id": "C0INCIDENTS"},
        channel={"id": "C0INCIDENTS", "name": "incidents"},
        message={"type": "message", "ts": ts, "text": offer["args"]["text"]},
    )
    pipeline.interact(click)
    pipeline.drain()
    (view,) = opened_views(pipeline)
    assert view["callback_id"] == "incident:declare" and declaring_channel(view) == "C0INCIDENTS"
    assert pipeline.slack.calls("chat.update") == []  # the offer stays, for another try


def test_an_invalid_submission_is_answered_by_the_ingest_with_field_errors_and_queues_nothing(
    pipeline: Pipeline,
) -> None:
    view = open_by_command(pipeline)
    answer = pipeline.submit(view, {"title": "x" * 81, "severity": None})
    assert answer["statusCode"] == 200
    body = json.loads(answer["body"])
    assert body["response_action"] == "errors" and set(body["errors"]) == {"title", "severity"}
    assert pipeline.depth() == 0
    pipeline.drain()
    assert pipeline.replies() == [] and pipeline.dead_letters() == []


def test_the_service_picker_offers_services_matching_what_is_typed(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVICES", "payments, search,Payroll,checkout")
    view = open_by_command(pipeline)
    answer = pipeline.interact(sr.block_suggestion("service", "pay", view=view))
    assert answer["statusCode"] == 200 and pipeline.depth() == 0
    offered = [option["value"] for option in json.loads(answer["body"])["options"]]
    assert offered == ["payments", "Payroll"]
    everything = pipeline.interact(sr.block_suggestion("service", "", view=view))
    assert len(json.loads(everything["body"])["options"]) == 4  # min_query_length 0: all, before typing


def test_a_valid_submission_is_announced_in_the_declaring_channel(pipeline: Pipeline) -> None:
    view = open_by_command(pipeline)
    answer = declare(
        pipeline, view, title="<!channel> checkout & co", severity="SEV1", summary="card <@U0BOSS>"
    )
    assert answer["statusCode"] == 200 and not answer.get("body")  # the modal closes
    (announcement,) = pipeline.replies()
    args = announcement["args"]
    assert announcement["method"] == "chat.postMessage" and args["channel"] == "C0001"
    shown = json.dumps(args["blocks"]) + args["text"]
    assert "<!channel>" not in shown and "<@U0BOSS>" not in shown
    assert "&lt;!channel&gt; checkout &amp; co" in shown and "<@U0HUMAN>" in shown and "SEV1" in shown
    button = args["blocks"][-1]["elements"][0]
    assert button["action_id"] == "incident:resolve"
    assert pipeline.slack.calls("conversations.open") == []


@pytest.mark.parametrize("via", ["dm", "shortcut"])
def test_declared_from_a_dm_or_a_shortcut_the_announcement_goes_to_the_declarer(
    pipeline: Pipeline, via: str
) -> None:
    if via == "dm":
        view = open_by_command(pipeline, channel="D0ELSEWHERE")
    else:
        pipeline.shortcut("incident:declare")
        pipeline.drain()
        (view,) = opened_views(pipeline)
    assert declaring_channel(view) == ""
    declare(pipeline, view)
    (opened,) = pipeline.slack.calls("conversations.open")
    assert opened["args"]["users"] == "U0HUMAN"
    (announcement,) = pipeline.replies()
    assert announcement["args"]["channel"] == opened["response"]["channel"]["id"]
    assert "Checkout is down" in announcement["args"]["text"]


@pytest.mark.parametrize(
    ("refusal", "why"),
    [
        ("not_in_channel", "I am not a member of <#C0001>"),
        ("channel_not_found", "I cannot see <#C0001>"),
        ("is_archived", "<#C0001> is archived"),
    ],
)
def test_when_the_bot_cannot_post_in_the_channel_the_declarer_gets_it_by_dm_with_why(
    pipeline: Pipeline, refusal: str, why: str
) -> None:
    view = open_by_command(pipeline)
    pipeline.slack.add_fault(method="chat.postMessage", status=200, error=refusal)
    declare(pipeline, view)
    (announcement,) = pipeline.replies()
    assert announcement["args"]["channel"].startswith("D")
    assert why in announcement["args"]["text"] and "Checkout is down" in announcement["args"]["text"]
    assert announcement["args"]["blocks"][-1]["elements"][0]["action_id"] == "incident:resolve"
    assert pipeline.dead_letters() == []


def test_resolve_updates_the_announcement_in_place_with_who_and_how_long(pipeline: Pipeline) -> None:
    declare(pipeline, open_by_command(pipeline))
    (announcement,) = pipeline.replies()
    ts, channel = announcement["response"]["ts"], announcement["args"]["channel"]
    button = announcement["args"]["blocks"][-1]["elements"][0]
    click = sr.block_action(
        "incident:resolve",
        button["value"],
        user={"id": "U0RESOLVER", "username": "grace"},
        container={"type": "message", "message_ts": ts, "channel_id": channel},
        message={**announcement["response"]["message"]},
    )
    pipeline.interact(click)
    pipeline.drain()
    (update,) = pipeline.slack.calls("chat.update")
    assert update["ok"] and update["args"]["ts"] == ts and update["args"]["channel"] == channel
    resolved = update["args"]["blocks"][-1]["text"]["text"]
    assert "Resolved* by <@U0RESOLVER> after " in resolved and resolved.rstrip().endswith(" s")
    assert all(block["type"] != "actions" for block in update["args"]["blocks"])  # no second Resolve
    assert "Checkout is down" in json.dumps(update["args"]["blocks"])


def test_an_expired_trigger_is_dead_lettered_at_once_as_permanent(pipeline: Pipeline) -> None:
    pipeline.command("", command="/incident", trigger_id=pipeline.slack.new_trigger_id(age_seconds=4))
    invocations = pipeline.drain()
    assert len(invocations) == 1  # not retried
    (refused,) = pipeline.slack.calls("views.open")
    assert refused["error"] == "expired_trigger_id"
    (dead,) = pipeline.dead_letters()
    attributes = {name: value["StringValue"] for name, value in dead["MessageAttributes"].items()}
    assert attributes["reason"] == "slack error: expired_trigger_id"
    assert attributes["category"] == "permanent"


def test_any_other_refusal_of_the_announcement_is_dead_lettered_not_sent_by_dm(pipeline: Pipeline) -> None:
    view = open_by_command(pipeline)
    pipeline.slack.add_fault(method="chat.postMessage", status=200, error="invalid_auth")
    declare(pipeline, view)
    assert pipeline.replies() == [] and pipeline.slack.calls("conversations.open") == []
    (dead,) = pipeline.dead_letters()
    assert dead["MessageAttributes"]["reason"]["StringValue"] == "slack error: invalid_auth"


def test_the_open_button_in_the_app_home_opens_the_modal_and_the_announcement_goes_by_dm(
    pipeline: Pipeline,
) -> None:
    home = {"type": "view", "view_id": "V0HOME"}  # a Home tab click: no channel, message or response_url
    click = sr.block_action(
        "incident:open", "open", trigger_id=pipeline.slack.new_trigger_id(), container=home
    )
    for key in ("channel", "message", "response_url"):
        click.pop(key)
    click["view"] = {"id": "V0HOME", "type": "home", "callback_id": "", "private_metadata": ""}
    pipeline.interact(click)
    pipeline.drain()
    (view,) = opened_views(pipeline)
    assert declaring_channel(view) == ""
    declare(pipeline, view)
    (announcement,) = pipeline.replies()
    assert (
        announcement["args"]["channel"]
        == pipeline.slack.calls("conversations.open")[0]["response"]["channel"]["id"]
    )
