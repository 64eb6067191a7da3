"""The stand-in's people, channels and Home tabs (users.info, conversations.info, views.publish), driven by
the real slack_sdk client over HTTP: the arguments Slack requires and the errors it answers."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.slack_standin import HUMAN_ID, MAX_VIEW_BLOCKS, TEAM_ID, SlackStandIn


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as s:
        yield s


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    return WebClient(token="xoxb-test", base_url=standin.api_url, retry_handlers=[], timeout=5)


def refusal(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as refused:
        call()
    assert refused.value.response.status_code == 200  # Slack's API errors are HTTP 200, ok false
    return dict(refused.value.response.data)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


HOME = {"type": "home", "blocks": [section("*Hello*")]}


# ----- users.info -----------------------------------------------------------------------------------


def test_users_info_answers_registered_people_with_their_names(
    standin: SlackStandIn, client: WebClient
) -> None:
    standin.add_user("U0GRACE", name="grace", real_name="Grace Hopper")
    grace = client.users_info(user="U0GRACE")["user"]
    assert grace["id"] == "U0GRACE" and grace["team_id"] == TEAM_ID and grace["deleted"] is False
    assert grace["real_name"] == "Grace Hopper" and grace["name"] == "grace"
    assert grace["profile"]["real_name"] == "Grace Hopper" and grace["profile"]["display_name"] == "grace"
    assert client.users_info(user=HUMAN_ID)["user"]["real_name"] == "Ada Lovelace"  # who the payloads are
    assert client.users_info(user="U0BOT")["user"]["is_bot"] is True
    assert standin.calls("users.info")[0]["args"] == {"user": "U0GRACE"}


def test_any_well_formed_user_id_is_a_member_unless_missing(standin: SlackStandIn, client: WebClient) -> None:
    someone = client.users_info(user="W0123ABC")["user"]
    assert someone["id"] == "W0123ABC" and someone["real_name"] == "User W0123ABC"
    standin.missing_users.add("U0GONE")
    assert refusal(lambda: client.users_info(user="U0GONE"))["error"] == "user_not_found"
    # A channel id, or no id at all, is a caller's mistake the stand-in catches
    assert refusal(lambda: client.users_info(user="C0001"))["error"] == "user_not_found"
    assert refusal(lambda: client.api_call("users.info", params={}))["error"] == "invalid_arguments"
    standin.reset()
    assert client.users_info(user="U0GONE")["ok"] is True  # reset forgets the missing users


# ----- conversations.info -------------------------------------------------------------------------------


def test_conversations_info_describes_a_channel_and_refuses_unknown_ones(
    standin: SlackStandIn, client: WebClient
) -> None:
    public = client.conversations_info(channel="C0001")["channel"]
    assert public["id"] == "C0001" and public["is_channel"] is True and public["is_member"] is True
    dm = client.conversations_info(channel="D0001")["channel"]
    assert dm["is_im"] is True and dm["is_channel"] is False
    private = client.conversations_info(channel="G0001")["channel"]
    assert private["is_private"] is True and private["is_group"] is True

    standin.not_in_channels.add("C0002")
    assert client.conversations_info(channel="C0002")["channel"]["is_member"] is False
    standin.missing_channels.add("C0404")
    assert refusal(lambda: client.conversations_info(channel="C0404"))["error"] == "channel_not_found"
    assert refusal(lambda: client.conversations_info(channel="U0HUMAN"))["error"] == "channel_not_found"
    assert refusal(lambda: client.api_call("conversations.info", params={}))["error"] == "channel_not_found"


# ----- views.publish ------------------------------------------------------------------------------------


def test_views_publish_stores_the_home_tab_per_user(standin: SlackStandIn, client: WebClient) -> None:
    assert standin.home_view(HUMAN_ID) is None
    first = client.views_publish(user_id=HUMAN_ID, view=HOME)["view"]
    assert first["type"] == "home" and first["team_id"] == TEAM_ID and first["id"].startswith("V")
    assert first["blocks"] == HOME["blocks"] and first["hash"]
    stored = standin.home_view(HUMAN_ID)
    assert stored is not None and stored["blocks"] == HOME["blocks"]
    assert standin.home_view("U0OTHER") is None  # one Home tab per person

    again = {"type": "home", "blocks": [section("*Again*")]}
    second = client.views_publish(user_id=HUMAN_ID, view=again, hash=first["hash"])["view"]
    assert second["id"] == first["id"] and second["hash"] != first["hash"]  # the same view, a new state
    assert standin.home_view(HUMAN_ID)["blocks"] == again["blocks"]  # type: ignore[index]
    stale = refusal(lambda: client.views_publish(user_id=HUMAN_ID, view=HOME, hash=first["hash"]))
    assert stale["error"] == "hash_conflict"
    assert standin.home_view(HUMAN_ID)["blocks"] == again["blocks"]  # type: ignore[index]


def test_views_publish_takes_a_form_encoded_view(standin: SlackStandIn) -> None:
    form = urllib.parse.urlencode({"token": "xoxb-t", "user_id": "U0FORM", "view": json.dumps(HOME)}).encode()
    with urllib.request.urlopen(standin.api_url + "views.publish", data=form, timeout=5) as response:
        assert json.loads(response.read())["ok"] is True
    assert standin.home_view("U0FORM") is not None


@pytest.mark.parametrize(
    ("arguments", "detail"),
    [
        ({"view": HOME}, "missing required field: user_id"),
        ({"user_id": HUMAN_ID}, "missing required field: view"),
        ({"user_id": HUMAN_ID, "view": {**HOME, "type": "modal"}}, "must be home"),
        ({"user_id": HUMAN_ID, "view": {"type": "home"}}, "missing required field: blocks"),
    ],
)
def test_views_publish_needs_a_user_and_a_home_view(
    standin: SlackStandIn, client: WebClient, arguments: dict[str, Any], detail: str
) -> None:
    answer = refusal(lambda: client.api_call("views.publish", json=arguments))
    assert answer["error"] == "invalid_arguments"
    assert any(detail in message for message in answer["response_metadata"]["messages"])
    assert standin.home_view(HUMAN_ID) is None


def test_a_home_tab_holds_100_blocks_each_within_its_limits(standin: SlackStandIn, client: WebClient) -> None:
    full = {"type": "home", "blocks": [section(str(n)) for n in range(MAX_VIEW_BLOCKS)]}
    assert client.views_publish(user_id=HUMAN_ID, view=full)["ok"] is True  # a message takes only 50

    over = {"type": "home", "blocks": [section(str(n)) for n in range(MAX_VIEW_BLOCKS + 1)]}
    answer = refusal(lambda: client.views_publish(user_id=HUMAN_ID, view=over))
    assert answer["error"] == "invalid_arguments"
    assert answer["errors"] == ["must be less than 101 items [json-pointer:/view/blocks]"]

    long_header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    answer = refusal(
        lambda: client.views_publish(user_id=HUMAN_ID, view={"type": "home", "blocks": [long_header]})
    )
    assert answer["errors"] == ["must be less than 151 characters [json-pointer:/view/blocks/0/text/text]"]
    assert len(standin.home_view(HUMAN_ID)["blocks"]) == MAX_VIEW_BLOCKS  # type: ignore[index]


def test_views_publish_for_someone_not_in_the_workspace_or_with_the_home_tab_off(
    standin: SlackStandIn, client: WebClient
) -> None:
    standin.missing_users.add("U0GONE")
    assert refusal(lambda: client.views_publish(user_id="U0GONE", view=HOME))["error"] == "not_found"
    assert refusal(lambda: client.views_publish(user_id="C0001", view=HOME))["error"] == "not_found"
    standin.home_tab_enabled = False
    assert refusal(lambda: client.views_publish(user_id=HUMAN_ID, view=HOME))["error"] == "not_enabled"
    assert standin.home_view(HUMAN_ID) is None and standin.home_view("U0GONE") is None
    assert [c["error"] for c in standin.calls("views.publish")] == ["not_found", "not_found", "not_enabled"]
