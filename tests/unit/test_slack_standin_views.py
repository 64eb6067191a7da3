"""The stand-in's views.open, views.push and views.update, driven by the real slack_sdk client over HTTP."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.slack_standin import TRIGGER_TTL_SECONDS, SlackStandIn


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as s:
        yield s


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    return WebClient(token="xoxb-test", base_url=standin.api_url, retry_handlers=[], timeout=5)


def modal(**changes: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "incident:declare",
        "title": {"type": "plain_text", "text": "Declare an incident"},
        "submit": {"type": "plain_text", "text": "Declare"},
        "private_metadata": "{}",
        "blocks": [
            {
                "type": "input",
                "block_id": "title",
                "label": {"type": "plain_text", "text": "Title"},
                "element": {"type": "plain_text_input", "action_id": "title", "max_length": 80},
            }
        ],
    }
    view.update(changes)
    return view


def refusal(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as refused:
        call()
    data = refused.value.response.data
    assert isinstance(data, dict)
    return data


def test_a_minted_trigger_opens_a_modal_once_and_the_call_is_recorded(
    standin: SlackStandIn, client: WebClient
) -> None:
    trigger_id = standin.new_trigger_id()
    opened = client.views_open(trigger_id=trigger_id, view=modal())
    view = opened["view"]
    assert view["id"].startswith("V") and view["callback_id"] == "incident:declare"
    assert view["state"] == {"values": {}} and view["root_view_id"] == view["id"] and view["hash"]
    (record,) = standin.calls("views.open")
    assert record["ok"] and record["args"]["trigger_id"] == trigger_id
    assert record["args"]["view"]["callback_id"] == "incident:declare"  # decoded, whatever the encoding
    assert standin.views()[view["id"]]["blocks"][0]["block_id"] == "title"

    again = refusal(lambda: client.views_open(trigger_id=trigger_id, view=modal()))
    assert again["error"] == "expired_trigger_id"  # a trigger opens one view (issue 13's answer for reuse)


@pytest.mark.parametrize(
    "trigger",
    [
        pytest.param(lambda s: "12345.98765.abcd2358fdea", id="not issued by the stand-in"),
        pytest.param(lambda s: s.new_trigger_id(age_seconds=TRIGGER_TTL_SECONDS + 0.5), id="older than 3 s"),
    ],
)
def test_an_unknown_or_expired_trigger_is_refused(
    standin: SlackStandIn, client: WebClient, trigger: Any
) -> None:
    answer = refusal(lambda: client.views_open(trigger_id=trigger(standin), view=modal()))
    assert answer["error"] == "expired_trigger_id"
    assert standin.views() == {}


def test_a_trigger_just_inside_its_3_seconds_still_opens(standin: SlackStandIn, client: WebClient) -> None:
    trigger_id = standin.new_trigger_id(age_seconds=TRIGGER_TTL_SECONDS - 1.0)
    assert client.views_open(trigger_id=trigger_id, view=modal())["ok"]


def test_views_open_and_push_require_a_trigger_and_a_view(standin: SlackStandIn, client: WebClient) -> None:
    for method in ("views.open", "views.push"):
        no_trigger = refusal(lambda m=method: client.api_call(m, json={"view": modal()}))
        assert no_trigger["error"] == "invalid_arguments"
        assert "trigger_id" in " ".join(no_trigger["response_metadata"]["messages"])
        no_view = refusal(lambda m=method: client.api_call(m, json={"trigger_id": standin.new_trigger_id()}))
        assert no_view["error"] == "invalid_arguments"


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"title": {"type": "plain_text", "text": "x" * 25}}, "/view/title/text"),
        ({"title": None}, "/view/title"),
        ({"type": "home"}, "/view/type"),
        ({"callback_id": "c" * 256}, "/view/callback_id"),
        ({"private_metadata": "m" * 3001}, "/view/private_metadata"),
        ({"submit": None}, "/view/submit"),
        ({"blocks": [{"type": "divider"}] * 101}, "/view/blocks"),
        ({"blocks": [modal()["blocks"][0], modal()["blocks"][0]]}, "/view/blocks/1/block_id"),
        (
            {"blocks": [{"type": "input", "block_id": "x", "label": {"type": "plain_text", "text": "X"}}]},
            "/view/blocks/0/element",
        ),
    ],
)
def test_a_view_slack_would_refuse_is_invalid_arguments_and_keeps_the_trigger(
    standin: SlackStandIn, client: WebClient, changes: dict[str, Any], pointer: str
) -> None:
    trigger_id = standin.new_trigger_id()
    answer = refusal(lambda: client.views_open(trigger_id=trigger_id, view=modal(**changes)))
    assert answer["error"] == "invalid_arguments"
    assert any(f"[json-pointer:{pointer}]" in line for line in answer["response_metadata"]["messages"])
    assert client.views_open(trigger_id=trigger_id, view=modal())["ok"]  # the refusal did not use it up


def test_the_limits_themselves_are_accepted(standin: SlackStandIn, client: WebClient) -> None:
    view = modal(
        title={"type": "plain_text", "text": "t" * 24},
        callback_id="c" * 255,
        private_metadata="m" * 3000,
        blocks=[modal()["blocks"][0]] + [{"type": "divider"} for _ in range(99)],
    )
    assert client.views_open(trigger_id=standin.new_trigger_id(), view=view)["ok"]


def test_views_update_by_view_id_or_external_id(standin: SlackStandIn, client: WebClient) -> None:
    opened = client.views_open(trigger_id=standin.new_trigger_id(), view=modal(external_id="decl-1"))["view"]
    renamed = modal(title={"type": "plain_text", "text": "Declared"}, blocks=[])
    by_id = client.views_update(view_id=opened["id"], view=renamed, hash=opened["hash"])["view"]
    assert by_id["id"] == opened["id"] and by_id["title"]["text"] == "Declared"
    by_external = client.views_update(external_id="decl-1", view=modal())["view"]
    assert by_external["id"] == opened["id"] and by_external["hash"]
    assert standin.views()[opened["id"]]["title"]["text"] == "Declare an incident"


def test_views_update_errors(standin: SlackStandIn, client: WebClient) -> None:
    opened = client.views_open(trigger_id=standin.new_trigger_id(), view=modal())["view"]
    neither = refusal(lambda: client.api_call("views.update", json={"view": modal()}))
    assert neither["error"] == "invalid_arguments"
    missing = refusal(lambda: client.views_update(view_id="V0NOSUCH", view=modal()))
    assert missing["error"] == "not_found"
    stale = refusal(lambda: client.views_update(view_id=opened["id"], view=modal(), hash="1.stale"))
    assert stale["error"] == "hash_conflict"
    too_long = refusal(
        lambda: client.views_update(view_id=opened["id"], view=modal(private_metadata="m" * 3001))
    )
    assert too_long["error"] == "invalid_arguments"


def test_an_external_id_names_one_view(standin: SlackStandIn, client: WebClient) -> None:
    client.views_open(trigger_id=standin.new_trigger_id(), view=modal(external_id="same"))
    twice = refusal(
        lambda: client.views_open(trigger_id=standin.new_trigger_id(), view=modal(external_id="same"))
    )
    assert twice["error"] == "duplicate_external_id"


def test_views_push_exchanges_its_trigger(standin: SlackStandIn, client: WebClient) -> None:
    trigger_id = standin.new_trigger_id()
    pushed = client.views_push(trigger_id=trigger_id, view=modal(callback_id="incident:more"))["view"]
    assert pushed["callback_id"] == "incident:more"
    assert (
        refusal(lambda: client.views_push(trigger_id=trigger_id, view=modal()))["error"]
        == "expired_trigger_id"
    )


def test_the_sandbox_control_api_mints_trigger_ids(standin: SlackStandIn, client: WebClient) -> None:
    request = urllib.request.Request(standin.base_url + "sandbox/trigger_id", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        trigger_id = json.loads(response.read())["trigger_id"]
    assert client.views_open(trigger_id=trigger_id, view=modal())["ok"]
