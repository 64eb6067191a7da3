"""Slack's Block Kit limits, held by every reply before it leaves the worker.

Slack refuses a whole message when one field is over its limit (``invalid_blocks``, ``msg_too_long``),
and a refusal is permanent: the record is dead-lettered and the on-call is paged. One 3,100-character
URL in a ``check`` reply was enough. ``fit`` trims a reply to what Slack accepts, so that no skill
has to know the limits: over-long texts end with ``…`` (never cutting an ``&amp;``-style entity or a
``<…>`` link in half), extra blocks are replaced by a note saying how many were left out, button
values are cut. A reply already within the limits comes back unchanged.

The limits are Slack's Block Kit reference (docs.slack.dev/reference/block-kit), except
``BLOCKS_TEXT_TOTAL``: Slack also refuses messages whose blocks hold too much text in all
(``msg_blocks_too_long``), at a limit it does not document (reports put it near 12,000 characters,
some rejected at 11,341), so the blocks' texts together are kept under a margin below that.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # worker.slack imports this module: no import cycle at run time
    from worker.slack import Reply

MESSAGE_TEXT = 40_000
MAX_BLOCKS = 50
SECTION_TEXT = 3000
SECTION_FIELDS = 10
SECTION_FIELD_TEXT = 2000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
TEXT_OBJECT = 3000  # any other text object (context elements, unknown blocks…)
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
BUTTON_URL = 3000
BLOCKS_TEXT_TOTAL = 10_000

ELLIPSIS = "…"
_TEXT_TYPES = ("plain_text", "mrkdwn")
# HTML-style entities as Slack writes them (&amp; &lt; &gt;) and numeric ones; the longest is short.
_ENTITY = re.compile(r"&(?:#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[a-zA-Z][a-zA-Z0-9]{0,31});")
_ENTITY_LONGEST = 34


def fit(reply: Reply) -> Reply:
    """``reply`` within every limit above; the same object when it already was."""
    text = truncate(reply.text, MESSAGE_TEXT)
    blocks = fit_blocks(reply.blocks) if reply.blocks else reply.blocks
    if text == reply.text and blocks == reply.blocks:
        return reply
    return dataclasses.replace(reply, text=text, blocks=blocks)


def truncate(text: str, limit: int, *, mrkdwn: bool = True) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and ``…``, in ``limit`` at most.

    The cut never splits an entity (``&amp;`` would show as ``&am…``) and, in mrkdwn, never leaves a
    ``<…>`` control sequence (link, mention) open: it moves back before either.
    """
    if len(text) <= limit:
        return text
    if limit < len(ELLIPSIS):
        return ""
    cut = _before_entity(text, limit - len(ELLIPSIS))
    if mrkdwn:
        cut = _before_open_control(text, cut)
    return text[:cut] + ELLIPSIS


def _before_entity(text: str, cut: int) -> int:
    # An entity holds no "&", so only the last "&" before the cut can start one that spans it.
    amp = text.rfind("&", max(0, cut - _ENTITY_LONGEST), cut)
    if amp >= 0:
        entity = _ENTITY.match(text, amp)
        if entity is not None and entity.end() > cut:
            return amp
    return cut


def _before_open_control(text: str, cut: int) -> int:
    if text.find(">", cut) < 0:
        return cut  # nothing after the cut closes a "<": no sequence is open across it
    # Repeated: in "<<https://x>" the cut before the second "<" still leaves the first one open.
    while (opening := text.rfind("<", 0, cut)) >= 0 and text.find(">", opening, cut) < 0:
        cut = opening
    return cut


def fit_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of ``blocks`` within the limits (the input is left as it was)."""
    fitted = copy.deepcopy(blocks)
    if len(fitted) > MAX_BLOCKS:
        left_out = len(fitted) - (MAX_BLOCKS - 1)
        fitted = [*fitted[: MAX_BLOCKS - 1], _left_out_note(left_out)]
    for block in fitted:
        _fit_block(block)
    _share_total(fitted)
    return fitted


def _left_out_note(count: int) -> dict[str, Any]:
    noun = "block" if count == 1 else "blocks"
    text = f"… {count} more {noun} left out: Slack shows at most {MAX_BLOCKS} in one message."
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _fit_block(block: Any) -> None:
    if not isinstance(block, dict):
        return
    kind = block.get("type")
    if kind == "section":
        _fit_text(block.get("text"), SECTION_TEXT)
        fields = block.get("fields")
        if isinstance(fields, list):
            del fields[SECTION_FIELDS:]
            for item in fields:
                _fit_text(item, SECTION_FIELD_TEXT)
        _fit_element(block.get("accessory"))
    elif kind == "header":
        _fit_text(block.get("text"), HEADER_TEXT)
    elif kind == "context":
        _cap_list(block, "elements", CONTEXT_ELEMENTS)
        for element in block.get("elements") or []:
            _fit_text(element, TEXT_OBJECT)
    elif kind == "actions":
        _cap_list(block, "elements", ACTIONS_ELEMENTS)
        for element in block.get("elements") or []:
            _fit_element(element)
    else:
        _fit_nested_texts(block)


def _fit_element(element: Any) -> None:
    if not isinstance(element, dict):
        return
    if element.get("type") == "button":
        _fit_text(element.get("text"), BUTTON_TEXT)
        value = element.get("value")
        if isinstance(value, str) and len(value) > BUTTON_VALUE:
            element["value"] = value[:BUTTON_VALUE]  # data for the click handler, not for people: no "…"
        url = element.get("url")
        if isinstance(url, str) and len(url) > BUTTON_URL:
            del element["url"]  # a cut URL leads somewhere else: better no link than a wrong one
    _fit_nested_texts(element)


def _fit_nested_texts(node: Any) -> None:
    """Every text object anywhere under ``node`` within the general text-object limit."""
    for obj in _text_objects(node):
        _fit_text(obj, TEXT_OBJECT)


def _fit_text(obj: Any, limit: int) -> None:
    if isinstance(obj, dict) and obj.get("type") in _TEXT_TYPES and isinstance(obj.get("text"), str):
        obj["text"] = truncate(obj["text"], limit, mrkdwn=obj["type"] == "mrkdwn")


def _cap_list(block: dict[str, Any], key: str, limit: int) -> None:
    items = block.get(key)
    if isinstance(items, list):
        del items[limit:]


def _text_objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _text_objects(item)
    elif isinstance(node, dict):
        if node.get("type") in _TEXT_TYPES and isinstance(node.get("text"), str):
            yield node
            return
        for value in node.values():
            yield from _text_objects(value)


def blocks_text_length(blocks: list[dict[str, Any]]) -> int:
    """All the text in ``blocks``' text objects, as ``BLOCKS_TEXT_TOTAL`` counts it."""
    return sum(len(obj["text"]) for obj in _text_objects(blocks))


def _share_total(blocks: list[dict[str, Any]]) -> None:
    """Cut the longest texts first, to one common length, until all together fit the total.

    Short texts (buttons, headings, the summary line) stay whole; only the texts longer than the
    common length are cut.
    """
    objects = list(_text_objects(blocks))
    lengths = [len(obj["text"]) for obj in objects]
    if sum(lengths) <= BLOCKS_TEXT_TOTAL:
        return
    level = _common_length(lengths, BLOCKS_TEXT_TOTAL)
    for obj in objects:
        _fit_text(obj, level)


def _common_length(lengths: list[int], total: int) -> int:
    """The largest ``n`` with ``sum(min(length, n)) <= total``."""
    left = total
    ordered = sorted(lengths)
    for index, length in enumerate(ordered):
        remaining = len(ordered) - index
        if length * remaining > left:
            return left // remaining
        left -= length
    return ordered[-1] if ordered else 0
