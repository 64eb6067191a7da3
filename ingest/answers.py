"""The bodies of the ingest's 200 answers that Slack shows to a person or reads options from.

Slack retries only Events API deliveries. A slash command or an interaction answered 5xx is lost, and
its user sees a bare "dispatch_failed"; so when the queue cannot take one, the ingest answers 200 with
words the user can act on instead. Select menus that load their options from the app
(``block_suggestion``, ``dialog_suggestion``) read them from the answer; ``Suggester`` is the seam where
a function producing options is plugged in (the ingest itself knows no skill). A modal whose submission
breaks the rules its skill wrote into the view (``shared.modals``) is answered with its field errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared import modals
from shared.config import env
from shared.envelope import Kind

COULD_NOT_QUEUE = "could not take this in, please try again"

# Takes the suggestion payload (its ``value`` is what the user typed), returns the whole answer body.
Suggester = Callable[[dict[str, Any]], dict[str, Any]]


def no_options(payload: dict[str, Any]) -> dict[str, Any]:
    """Until something provides options, an empty list: the menu shows "no results", nothing breaks."""
    return {"options": []}


def options_from_settings(payload: dict[str, Any]) -> dict[str, Any]:
    """Options for an external select in one of our modals, from the setting its view names.

    The settings are read only when a menu asks (never on the ack path of anything else), and only
    those ``OPTION_SETTINGS`` allows. A legacy dialog's menu gets no options.
    """
    if payload.get("type") != "block_suggestion":
        return no_options(payload)
    return {"options": modals.suggestions(payload, env)}


def view_errors(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The field errors of a ``view_submission`` breaking its modal's rules, as Slack's answer; else None."""
    if payload.get("type") != "view_submission":
        return None
    found = modals.errors(payload.get("view"))
    return {"response_action": "errors", "errors": found} if found else None


def ephemeral(text: str) -> dict[str, Any]:
    """A message only the user who typed the command sees."""
    return {"response_type": "ephemeral", "text": text}


def could_not_queue(kind: Kind, payload: dict[str, Any]) -> dict[str, Any]:
    """Tell the user the request was not taken, where Slack shows it.

    A modal's submission shows only field errors, so the text goes on its first input; a modal
    without one gets the ephemeral answer like any other interaction.
    """
    if kind == "interaction" and payload.get("type") == "view_submission":
        block_id = first_input_block_id(payload.get("view"))
        if block_id:
            return {"response_action": "errors", "errors": {block_id: COULD_NOT_QUEUE}}
    return ephemeral(COULD_NOT_QUEUE)


def first_input_block_id(view: Any) -> str | None:
    """The first ``input`` block of the submitted view, else the first block in its state, else None."""
    if not isinstance(view, dict):
        return None
    blocks = view.get("blocks")
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, dict) and block.get("type") == "input":
            block_id = block.get("block_id")
            if isinstance(block_id, str) and block_id:
                return block_id
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    if isinstance(values, dict):
        return next((key for key in values if key), None)
    return None
