"""The `incident` skill's modal, announcement and resolution, built directly (the pipeline runs them in
tests/integration/test_incident_skill.py)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from shared import modals
from worker.skills import Ask, find
from worker.skills.incident import Incident, announce, declaring_channel, form, human_duration, resolve
from worker.slack import Reply

INPUTS = ("title", "severity", "service", "summary")


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["block_id"]: block for block in view["blocks"] if block["type"] == "input"}


def texts(reply: Reply) -> list[str]:
    """Every text a reader sees: the fallback and each text object in the blocks."""
    found = [reply.text]

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)

    walk(reply.blocks)
    return found


def test_the_skill_claims_its_command_shortcut_view_and_buttons() -> None:
    skill = find("incident")
    assert skill is not None
    assert skill.commands == ("/incident",)
    assert set(skill.views) == {"declare"} and set(skill.shortcuts) == {"declare"}
    assert set(skill.actions) == {"open", "resolve"}


def test_the_modal_has_the_four_inputs_each_block_id_its_action_id() -> None:
    view = form(channel="C0001")
    assert view["type"] == "modal" and view["callback_id"] == "incident:declare"
    assert len(view["title"]["text"]) <= 24 and view["submit"]
    found = inputs(view)
    assert tuple(found) == INPUTS
    for block_id, block in found.items():
        assert block["element"]["action_id"] == block_id
    title, severity, service, summary = (found[name] for name in INPUTS)
    assert title["element"]["type"] == "plain_text_input" and title["element"]["max_length"] == 80
    assert not title["optional"] and not severity["optional"]
    assert severity["element"]["type"] == "static_select"
    assert [o["value"] for o in severity["element"]["options"]] == ["SEV1", "SEV2", "SEV3", "SEV4"]
    assert service["element"]["type"] == "external_select" and service["element"]["min_query_length"] == 0
    assert summary["element"]["type"] == "plain_text_input" and summary["element"]["multiline"] is True
    assert summary["optional"]


def test_the_rules_and_the_declaring_channel_travel_in_private_metadata() -> None:
    metadata = modals.read_private_metadata(form(channel="C0INCIDENTS")["private_metadata"])
    assert metadata.context == {"channel": "C0INCIDENTS"}
    assert metadata.options == {"service": "SERVICES"}
    assert metadata.rules["title"]["required"] and metadata.rules["title"]["max_length"] == 80
    assert metadata.rules["severity"]["required"]
    assert metadata.rules["severity"]["one_of"] == ["SEV1", "SEV2", "SEV3", "SEV4"]
    assert not metadata.rules["summary"].get("required")


def submitted(view: dict[str, Any], **values: str | None) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for block_id, block in inputs(view).items():
        element, value = block["element"], values.get(block_id)
        if element["type"].endswith("select"):
            option = {"text": {"type": "plain_text", "text": value}, "value": value} if value else None
            state[block_id] = {block_id: {"type": element["type"], "selected_option": option}}
        else:
            state[block_id] = {block_id: {"type": element["type"], "value": value}}
    return {**view, "state": {"values": state}}


def test_the_ingest_would_refuse_a_long_title_and_no_severity_and_accept_a_good_one() -> None:
    view = form(channel="C0001")
    bad = modals.errors(submitted(view, title="x" * 81, severity=None))
    assert set(bad) == {"title", "severity"}
    good = submitted(view, title="x" * 80, severity="SEV4", service=None, summary=None)
    assert modals.errors(good) == {}


def test_a_command_s_text_becomes_the_title_it_starts_with() -> None:
    assert inputs(form(channel="", title="  Checkout is down "))["title"]["element"]["initial_value"] == (
        "Checkout is down"
    )
    long = inputs(form(channel="", title="y" * 200))["title"]["element"]["initial_value"]
    assert long == "y" * 80
    assert "initial_value" not in inputs(form(channel=""))["title"]["element"]


@pytest.mark.parametrize(
    ("channel", "expected"),
    [("C0001", "C0001"), ("G0PRIVATE", "G0PRIVATE"), ("D0001", ""), (None, ""), ("", "")],
)
def test_a_dm_or_no_channel_is_announced_by_dm(channel: str | None, expected: str) -> None:
    assert declaring_channel(Ask(text="", channel=channel)) == expected


def test_a_mention_without_a_trigger_gets_a_button_that_opens_the_form() -> None:
    skill = find("incident")
    assert skill is not None
    reply = skill.run(Ask(text="", user="U0HUMAN", channel="C0001"))
    assert reply is not None and reply.blocks
    (button,) = reply.blocks[-1]["elements"]
    assert button["action_id"] == "incident:open"


def test_the_announcement_escapes_what_people_typed() -> None:
    incident = Incident(
        title="<!channel> checkout & <https://evil.example|login>",
        severity="SEV1",
        service="<@U0BOSS>",
        summary="see <!here>",
        declared_by="U0HUMAN",
        declared_at=1_700_000_000,
    )
    reply = announce(incident)
    seen = " ".join(texts(reply))
    for live in ("<!channel>", "<https://evil.example", "<@U0BOSS>", "<!here>"):
        assert live not in seen
    assert "&lt;!channel&gt; checkout &amp; &lt;https://evil.example|login&gt;" in seen
    assert "<@U0HUMAN>" in seen and "SEV1" in seen
    (button,) = reply.blocks[-1]["elements"] if reply.blocks else []
    assert button["action_id"] == "incident:resolve" and button["text"]["text"] == "Resolve"
    assert json.loads(button["value"]) == {"at": 1_700_000_000, "by": "U0HUMAN"}


def test_an_announcement_says_when_no_service_was_given() -> None:
    reply = announce(Incident("Down", "SEV3", "", "", "U0HUMAN", 1_700_000_000))
    assert "_not given_" in " ".join(texts(reply))
    assert all(block["type"] != "section" or "Summary" not in str(block) for block in reply.blocks or [])


def test_resolve_keeps_the_announcement_drops_the_button_and_says_who_and_how_long() -> None:
    declared_at = time.time() - (2 * 3600 + 5 * 60)
    announcement = announce(Incident("Down", "SEV2", "payments", "", "U0HUMAN", declared_at))
    value = announcement.blocks[-1]["elements"][0]["value"] if announcement.blocks else ""
    payload = {"message": {"ts": "1.2", "text": announcement.text, "blocks": announcement.blocks}}
    reply = resolve(Ask(text=value, user="U0OTHER", channel="C0001", payload=payload))
    assert reply.blocks is not None
    assert [b["type"] for b in reply.blocks] == ["section", "section", "section"]
    assert reply.blocks[:2] == (announcement.blocks or [])[:2]
    resolved = reply.blocks[-1]["text"]["text"]
    assert "Resolved* by <@U0OTHER> after 2 h 5 min" in resolved
    assert reply.text.startswith(":white_check_mark:") and "Down" in reply.text


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (-3, "0 s"),
        (42, "42 s"),
        (60, "1 min"),
        (3599, "59 min"),
        (3600, "1 h"),
        (7500, "2 h 5 min"),
        (86_400, "1 d"),
        (3 * 86_400 + 4 * 3600 + 59, "3 d 4 h"),
    ],
)
def test_human_duration(seconds: float, said: str) -> None:
    assert human_duration(seconds) == said
