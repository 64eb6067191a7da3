"""A modal and a Home tab as ``slackbot say`` prints them: what a person would see, as plain lines.

The views come from the Slack stand-in's records (what the bot sent to ``views.open`` or
``views.publish``), so every string in them may quote what someone typed: each is passed through
``printable`` before it reaches the terminal.
"""

from __future__ import annotations

import textwrap
from typing import Any

from ops.render import printable

_ELEMENT_KINDS = {
    "plain_text_input": "text",
    "static_select": "select",
    "external_select": "select, options as you type",
    "multi_static_select": "multi select",
    "multi_external_select": "multi select, options as you type",
    "users_select": "a person",
    "conversations_select": "a conversation",
    "channels_select": "a channel",
    "datepicker": "a date",
    "timepicker": "a time",
    "checkboxes": "checkboxes",
    "radio_buttons": "one choice",
    "number_input": "a number",
    "email_text_input": "an email address",
    "url_text_input": "a URL",
}


def plain(node: Any, *, multiline: bool = False) -> str:
    """The text of a text object (``{"type": "plain_text", "text": …}``), printable; "" if none."""
    text = node.get("text") if isinstance(node, dict) else None
    return printable(text, multiline=multiline) if isinstance(text, str) else ""


def inputs(view: dict[str, Any]) -> list[dict[str, Any]]:
    """The view's input blocks (each with a ``block_id`` and an element), in order."""
    blocks = view.get("blocks")
    return [
        block
        for block in (blocks if isinstance(blocks, list) else [])
        if isinstance(block, dict)
        and block.get("type") == "input"
        and isinstance(block.get("block_id"), str)
        and isinstance(block.get("element"), dict)
    ]


def initial_values(view: dict[str, Any]) -> dict[str, str]:
    """What each input holds before anyone types (``initial_value``, ``initial_option``): submitted as is
    when the person leaves it alone."""
    found: dict[str, str] = {}
    for block in inputs(view):
        element = block["element"]
        option = element.get("initial_option")
        if isinstance(element.get("initial_value"), str):
            found[block["block_id"]] = element["initial_value"]
        elif isinstance(option, dict) and isinstance(option.get("value"), str):
            found[block["block_id"]] = option["value"]
    return found


def modal_lines(view: dict[str, Any]) -> list[str]:
    """The modal's title, callback id and view id, then one line per input, then its buttons."""
    title = plain(view.get("title")) or "(untitled)"
    about = f"callback_id {printable(str(view.get('callback_id') or '-'))}"
    if view.get("id"):
        about += f", view {printable(str(view['id']))}"
    shown = inputs(view)
    width = max([len(printable(b["block_id"])) for b in shown] + [0])
    lines = [f'"{title}" ({about})']
    lines += [f"  {printable(b['block_id']):<{width}}  {describe_input(b)}" for b in shown]
    buttons = [f"[{plain(view.get(key))}]" for key in ("submit", "close") if plain(view.get(key))]
    if buttons:
        lines.append("  " + " ".join(buttons))
    return lines


def describe_input(block: dict[str, Any]) -> str:
    """``Title: text, required, at most 80 characters``; a select lists its option values."""
    element = block["element"]
    kind = str(element.get("type", "?"))
    words = [_ELEMENT_KINDS.get(kind, printable(kind))]
    if kind == "plain_text_input" and element.get("multiline"):
        words[0] = "text, several lines"
    words.append("optional" if block.get("optional") else "required")
    if isinstance(element.get("max_length"), int):
        words.append(f"at most {element['max_length']} characters")
    values = [
        printable(str(option["value"]))
        for option in element.get("options") or []
        if isinstance(option, dict) and "value" in option
    ]
    if values:
        words.append("one of " + ", ".join(values))
    if isinstance(element.get("initial_value"), str) and element["initial_value"]:
        words.append(f'filled in: "{printable(element["initial_value"])}"')
    return f"{plain(block.get('label')) or printable(block['block_id'])}: {', '.join(words)}"


def home_lines(view: dict[str, Any], width: int) -> list[str]:
    """The Home tab's headers, sections (text and fields) and context lines, wrapped to ``width``."""
    lines: list[str] = []
    for block in view.get("blocks") or []:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "header":
            lines += ["", plain(block.get("text")).upper()] if lines else [plain(block.get("text")).upper()]
        elif kind == "divider":
            continue  # the header after it says the same
        elif kind == "section":
            lines += _wrapped(_section_text(block), width, "  ")
        elif kind == "context":
            texts = [plain(e) for e in block.get("elements") or []]
            lines += _wrapped(" ".join(t for t in texts if t), width, "  ")
    return lines


def _section_text(block: dict[str, Any]) -> str:
    text = plain(block.get("text"), multiline=True)
    parts = [text] if text else []
    # A field reads "*Work queue*\n3 (…)": its title and its value on one line.
    parts += [plain(field, multiline=True).replace("\n", ": ", 1) for field in block.get("fields") or []]
    return "\n".join(parts)


def _wrapped(text: str, width: int, indent: str) -> list[str]:
    lines: list[str] = []
    for paragraph in printable(text, multiline=True).split("\n"):
        lines += textwrap.wrap(
            paragraph,
            width=max(20, width),
            initial_indent=indent,
            subsequent_indent=indent + "  ",
            break_on_hyphens=False,
        )
    return lines
