"""Block Kit's limits, as Slack enforces them on messages, modals and Home tabs.

Slack refuses the whole message when one field is over its limit (HTTP 200 ``invalid_blocks`` with one
line per field under ``errors`` from the Web API; HTTP 400 and the bare code from a response_url). A view
Slack cannot show is answered ``invalid_arguments`` with one line per fault in the same form.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sandbox.slack_standin.wire import ApiError

__all__ = [
    "BLOCKS_TEXT_LIMIT",
    "MAX_BLOCKS",
    "MAX_VIEW_BLOCKS",
    "MESSAGE_TEXT_LIMIT",
    "check_home_view",
    "check_message",
    "check_view",
    "message_refusal",
]

MESSAGE_TEXT_LIMIT = 40_000
MAX_BLOCKS = 50
BLOCKS_TEXT_LIMIT = 12_000
"""All the text in a message's blocks together. Slack does not document this limit
(``msg_blocks_too_long``); reports put it near 12,000 characters."""

_TEXT_OBJECT_LIMIT = 3000
_BLOCK_ID_LIMIT = 255
_TEXT_TYPES = ("plain_text", "mrkdwn")


# -- messages ---------------------------------------------------------------------------------------


def check_message(args: dict[str, Any]) -> None:
    """Raise what Slack answers for a message over a limit: msg_too_long, invalid_blocks…"""
    text = args.get("text")
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_LIMIT:
        raise ApiError("msg_too_long")
    blocks = args.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            raise ApiError("invalid_blocks_format") from None
    if blocks is None:
        return
    if not isinstance(blocks, list):
        raise ApiError("invalid_blocks_format")
    details = list(_block_errors(blocks))
    if details:
        raise ApiError("invalid_blocks", details=details)
    if sum(len(obj["text"]) for obj, _ in _text_objects(blocks, "/blocks")) > BLOCKS_TEXT_LIMIT:
        raise ApiError("msg_blocks_too_long")


def message_refusal(message: dict[str, Any]) -> dict[str, Any] | None:
    """What Slack would answer for ``message`` (``text``, ``blocks``) over a limit; None when it is within."""
    try:
        check_message(message)
    except ApiError as e:
        return e.payload()
    return None


def _block_errors(blocks: list[Any]) -> Iterable[str]:
    if len(blocks) > MAX_BLOCKS:
        yield _too_many(MAX_BLOCKS, "/blocks")
    for index, block in enumerate(blocks):
        at = f"/blocks/{index}"
        if not isinstance(block, dict):
            yield f"expected object [json-pointer:{at}]"
            continue
        yield from _too_long(block.get("block_id"), _BLOCK_ID_LIMIT, f"{at}/block_id")
        kind = block.get("type")
        if kind == "section":
            yield from _text_too_long(block.get("text"), 3000, f"{at}/text")
            yield from _list_errors(block, "fields", 10, 2000, at)
            yield from _element_errors(block.get("accessory"), f"{at}/accessory")
        elif kind == "header":
            yield from _text_too_long(block.get("text"), 150, f"{at}/text")
        elif kind == "context":
            yield from _list_errors(block, "elements", 10, _TEXT_OBJECT_LIMIT, at)
        elif kind == "actions":
            elements = block.get("elements")
            if isinstance(elements, list):
                if len(elements) > 25:
                    yield _too_many(25, f"{at}/elements")
                for number, element in enumerate(elements):
                    yield from _element_errors(element, f"{at}/elements/{number}")
        else:
            for obj, pointer in _text_objects(block, at):
                yield from _text_too_long(obj, _TEXT_OBJECT_LIMIT, pointer)


def _list_errors(block: dict[str, Any], key: str, most: int, text_limit: int, at: str) -> Iterable[str]:
    items = block.get(key)
    if not isinstance(items, list):
        return
    if len(items) > most:
        yield _too_many(most, f"{at}/{key}")
    for number, item in enumerate(items):
        yield from _text_too_long(item, text_limit, f"{at}/{key}/{number}")


def _element_errors(element: Any, at: str) -> Iterable[str]:
    if not isinstance(element, dict):
        return
    if element.get("type") == "button":
        yield from _text_too_long(element.get("text"), 75, f"{at}/text")
        yield from _too_long(element.get("value"), 2000, f"{at}/value")
        yield from _too_long(element.get("url"), 3000, f"{at}/url")
        yield from _too_long(element.get("action_id"), 255, f"{at}/action_id")
        return
    for obj, pointer in _text_objects(element, at):
        yield from _text_too_long(obj, _TEXT_OBJECT_LIMIT, pointer)


def _text_too_long(obj: Any, limit: int, at: str) -> Iterable[str]:
    if isinstance(obj, dict):
        yield from _too_long(obj.get("text"), limit, f"{at}/text")


def _too_long(value: Any, limit: int, at: str) -> Iterable[str]:
    if isinstance(value, str) and len(value) > limit:
        yield f"must be less than {limit + 1} characters [json-pointer:{at}]"


def _too_many(most: int, at: str) -> str:
    return f"must be less than {most + 1} items [json-pointer:{at}]"


def _text_objects(node: Any, at: str) -> Iterable[tuple[dict[str, Any], str]]:
    """Every text object (``plain_text``/``mrkdwn``) under ``node``, with its JSON pointer."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _text_objects(item, f"{at}/{index}")
    elif isinstance(node, dict):
        if node.get("type") in _TEXT_TYPES and isinstance(node.get("text"), str):
            yield node, at
            return
        for key, value in node.items():
            yield from _text_objects(value, f"{at}/{key}")


# -- views (modals and Home tabs) ------------------------------------------------------------------

MAX_VIEW_BLOCKS = 100
"""A Home tab or a modal holds at most 100 blocks (a message 50)."""
_VIEW_TITLE_LIMIT = 24
_VIEW_CALLBACK_ID_LIMIT = 255
_VIEW_PRIVATE_METADATA_LIMIT = 3000
_VIEW_EXTERNAL_ID_LIMIT = 255
_VIEW_BUTTON_LIMIT = 24  # submit and close labels, like the title
_INPUT_LABEL_LIMIT = 2000
_SELECT_OPTIONS_LIMIT = 100
_PLAIN_TEXT_INPUT_MAX = 3000


def check_view(view: dict[str, Any], *, kinds: tuple[str, ...]) -> None:
    details = list(_view_errors(view, kinds))
    if details:
        raise ApiError("invalid_arguments", details=details)


def _view_errors(view: dict[str, Any], kinds: tuple[str, ...]) -> Iterable[str]:
    if view.get("type") not in kinds:
        yield f"must be one of {', '.join(kinds)} [json-pointer:/view/type]"
        return
    if view["type"] == "modal":
        title = view.get("title")
        if not (isinstance(title, dict) and title.get("type") == "plain_text" and title.get("text")):
            yield "must provide a plain_text title [json-pointer:/view/title]"
        yield from _text_too_long(title, _VIEW_TITLE_LIMIT, "/view/title")
        yield from _text_too_long(view.get("submit"), _VIEW_BUTTON_LIMIT, "/view/submit")
        yield from _text_too_long(view.get("close"), _VIEW_BUTTON_LIMIT, "/view/close")
    yield from _too_long(view.get("callback_id"), _VIEW_CALLBACK_ID_LIMIT, "/view/callback_id")
    yield from _too_long(view.get("private_metadata"), _VIEW_PRIVATE_METADATA_LIMIT, "/view/private_metadata")
    yield from _too_long(view.get("external_id"), _VIEW_EXTERNAL_ID_LIMIT, "/view/external_id")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        yield "must provide an array [json-pointer:/view/blocks]"
        return
    if len(blocks) > MAX_VIEW_BLOCKS:
        yield _too_many(MAX_VIEW_BLOCKS, "/view/blocks")
    has_inputs = any(isinstance(block, dict) and block.get("type") == "input" for block in blocks)
    if has_inputs and view["type"] == "modal" and not view.get("submit"):
        yield "must provide submit when the view has input blocks [json-pointer:/view/submit]"
    yield from _view_block_errors(blocks)


def _view_block_errors(blocks: list[Any]) -> Iterable[str]:
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        at = f"/view/blocks/{index}"
        if not isinstance(block, dict):
            yield f"expected object [json-pointer:{at}]"
            continue
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen:
                yield f"duplicate block_id {block_id} [json-pointer:{at}/block_id]"
            seen.add(block_id)
        if block.get("type") == "input":
            yield from _input_errors(block, at)
        else:  # any other block: held to a message's limits
            yield from (line.replace("/blocks/0", at, 1) for line in _block_errors([block]))


def _input_errors(block: dict[str, Any], at: str) -> Iterable[str]:
    label = block.get("label")
    if not (isinstance(label, dict) and label.get("type") == "plain_text" and label.get("text")):
        yield f"must provide a plain_text label [json-pointer:{at}/label]"
    yield from _text_too_long(label, _INPUT_LABEL_LIMIT, f"{at}/label")
    element = block.get("element")
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        yield f"must provide an element [json-pointer:{at}/element]"
        return
    yield from _too_long(element.get("action_id"), 255, f"{at}/element/action_id")
    options = element.get("options")
    if isinstance(options, list) and len(options) > _SELECT_OPTIONS_LIMIT:
        yield _too_many(_SELECT_OPTIONS_LIMIT, f"{at}/element/options")
    max_length = element.get("max_length")
    if isinstance(max_length, int) and not 1 <= max_length <= _PLAIN_TEXT_INPUT_MAX:
        yield f"must be between 1 and {_PLAIN_TEXT_INPUT_MAX} [json-pointer:{at}/element/max_length]"


def check_home_view(view: dict[str, Any]) -> None:
    details = list(_home_view_errors(view))
    if details:
        raise ApiError("invalid_arguments", details=details)


def _home_view_errors(view: dict[str, Any]) -> Iterable[str]:
    if view.get("type") != "home":
        yield "must be home [json-pointer:/view/type]"
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        yield "missing required field: blocks [json-pointer:/view/blocks]"
        return
    if len(blocks) > MAX_VIEW_BLOCKS:
        yield _too_many(MAX_VIEW_BLOCKS, "/view/blocks")
    message_count = _too_many(MAX_BLOCKS, "/blocks")  # a view may hold more blocks than a message
    for line in _block_errors(blocks):
        if line != message_count:
            yield line.replace("[json-pointer:/blocks", "[json-pointer:/view/blocks")
