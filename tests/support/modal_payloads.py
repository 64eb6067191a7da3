"""Signed-payload shapes of a modal like the incident skill's, with its rules in ``private_metadata``.

The shapes follow what Slack sends: every input block appears in ``view.state.values`` under its
block_id, then its action_id, and an empty input holds ``"value": null`` or ``"selected_option": null``.
"""

from __future__ import annotations

from typing import Any

from shared import modals

SEVERITIES = ["SEV1", "SEV2", "SEV3", "SEV4"]
INCIDENT_RULES: dict[str, modals.Rule] = {
    "title": {"required": True, "max_length": 80},
    "severity": {"required": True, "one_of": SEVERITIES},
    "service": {},
    "summary": {"max_length": 3000},
}


def incident_metadata(**context: str) -> str:
    return modals.private_metadata(
        INCIDENT_RULES, context=context or {"channel": "C0001"}, options={"service": "SERVICES"}
    )


def option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value, "emoji": True}, "value": value}


def incident_view(
    *,
    title: str | None = "Checkout is down",
    severity: str | None = "SEV2",
    service: str | None = "payments",
    summary: str | None = None,
    private_metadata: str | None = None,
) -> dict[str, Any]:
    state = {
        "title": {"title": {"type": "plain_text_input", "value": title}},
        "severity": {
            "severity": {"type": "static_select", "selected_option": option(severity) if severity else None}
        },
        "service": {
            "service": {"type": "external_select", "selected_option": option(service) if service else None}
        },
        "summary": {"summary": {"type": "plain_text_input", "value": summary}},
    }
    elements = {
        "title": "plain_text_input",
        "severity": "static_select",
        "service": "external_select",
        "summary": "plain_text_input",
    }
    return {
        "id": "V0INCIDENT",
        "team_id": "T0001",
        "type": "modal",
        "callback_id": "incident:declare",
        "private_metadata": incident_metadata() if private_metadata is None else private_metadata,
        "title": {"type": "plain_text", "text": "Declare an incident"},
        "blocks": [
            {
                "type": "input",
                "block_id": block_id,
                "label": {"type": "plain_text", "text": block_id.capitalize()},
                "optional": block_id in {"service", "summary"},
                "element": {"type": element, "action_id": block_id},
            }
            for block_id, element in elements.items()
        ],
        "state": {"values": state},
        "hash": "1700000000.abcdef",
        "root_view_id": "V0INCIDENT",
        "app_id": "A0001",
        "bot_id": "B0001",
    }


def view_submission(view: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": "T0001", "domain": "example"},
        "user": {"id": "U0HUMAN", "username": "ada", "team_id": "T0001"},
        "api_app_id": "A0001",
        "trigger_id": "1700000000.1.submission",
        "view": view,
        "response_urls": [],
    }


def block_suggestion(
    typed: str, *, action_id: str = "service", private_metadata: str | None = None
) -> dict[str, Any]:
    view = incident_view(private_metadata=private_metadata)
    view["state"] = {"values": {}}
    return {
        "type": "block_suggestion",
        "user": {"id": "U0HUMAN", "username": "ada", "team_id": "T0001"},
        "team": {"id": "T0001", "domain": "example"},
        "container": {"type": "view", "view_id": view["id"]},
        "api_app_id": "A0001",
        "action_id": action_id,
        "block_id": action_id,
        "value": typed,
        "view": view,
    }
