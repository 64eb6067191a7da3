"""A modal's input rules and option sources, carried in the view itself, so the ingest can answer in time.

Slack wants a modal's field errors and an external select's options in the HTTP answer, within 3 s,
and the ingest loads no skill code. So the skill that opens a modal writes its inputs' rules (and,
for each external select, the setting that lists its options) into the view's ``private_metadata``;
Slack hands that string back untouched inside the signed ``view_submission`` and
``block_suggestion``, where the ingest reads it with this module. Stdlib only: both functions use it
(the worker to build the metadata, the ingest to enforce it), and the ingest's cold start must not grow.

The rules are only as trustworthy as the views the bot itself opened: the signature proves Slack sent
the payload, and only the app that opened a view can set its metadata. Even so, options are read
only from settings named in ``OPTION_SETTINGS`` (and never from one whose name says it is a secret),
so no metadata can make the ingest reflect a secret such as ``SLACK_SIGNING_SECRET``.

The built-in ``incident`` form's rules are also known here by its ``callback_id`` (``BUILT_IN``): a
submission whose ``private_metadata`` was lost or never written (a view built by another client) is
still held to them, and its service picker still answered. The skill declares them from here, once.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

MARKER = "slackbot.modal"  # its value is the format's version
VERSION = 1
MAX_METADATA_CHARS = 3000  # Slack's limit for a view's private_metadata
# Slack documents no limit for a field error's text; two short lines under the input read well.
MAX_ERROR_CHARS = 150
MAX_OPTIONS = 100  # Slack's limit for one block_suggestion answer
MAX_OPTION_TEXT = 75  # an option object's text
MAX_OPTION_VALUE = 150  # an option object's value
DEFAULT_OPTION_SETTINGS = "SERVICES"
# Never a source of options, whatever OPTION_SETTINGS says: a misconfigured allowlist must not put a
# secret into a menu. A pattern string, compiled on first use (re caches it), not while the ingest starts.
_NAMES_OF_SECRETS = r"(?i)SECRET|TOKEN|PASSWORD|PRIVATE|CREDENTIAL|_KEY|_ARN$|^AWS_"


class Rule(TypedDict, total=False):
    """What one input (by block_id) must hold. A list value (multi select, checkboxes) is checked item
    by item for ``pattern``, ``min``, ``max`` and ``one_of``; its lengths count chosen items."""

    required: bool
    min_length: int
    max_length: int
    pattern: str  # Python ``re``, the whole value must match
    min: float
    max: float
    one_of: list[str]
    message: str  # replaces the built-in text for every rule this input breaks


Value = str | list[str] | None


@dataclass(frozen=True)
class Metadata:
    """What a view's private_metadata carries; empty when the view is not one of ours."""

    rules: Mapping[str, Rule] = field(default_factory=dict)
    context: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, str] = field(default_factory=dict)  # external select action_id → setting name


INCIDENT_CALLBACK_ID = "incident:declare"
INCIDENT_SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
# callback_id → the rules and option sources of a modal this bot ships, for a view that lost its metadata.
BUILT_IN: Mapping[str, Metadata] = {
    INCIDENT_CALLBACK_ID: Metadata(
        rules={
            "title": {"required": True, "max_length": 80},
            "severity": {"required": True, "one_of": list(INCIDENT_SEVERITIES)},
            "summary": {"required": False, "max_length": 3000},  # Slack's own ceiling for a text input
        },
        options={"service": DEFAULT_OPTION_SETTINGS},
    )
}


def declared(view: Any) -> tuple[Metadata, bool]:
    """The view's own metadata; else the built-in declaration for its callback_id (and True)."""
    if not isinstance(view, dict):
        return Metadata(), False
    metadata = read_private_metadata(view.get("private_metadata"))
    if metadata.rules or metadata.options:
        return metadata, False
    callback_id = view.get("callback_id")
    built_in = BUILT_IN.get(callback_id) if isinstance(callback_id, str) else None
    return (built_in, True) if built_in is not None else (metadata, False)


class _Invalid(ValueError):
    """A rule or a section of metadata that is not what this module writes."""


def private_metadata(
    rules: Mapping[str, Rule],
    *,
    context: Mapping[str, str] | None = None,
    options: Mapping[str, str] | None = None,
) -> str:
    """The compact JSON a skill puts in its view's ``private_metadata``.

    Raises ``ValueError`` for a malformed rule (caught when the skill is written, not when a person
    submits) or when the result is longer than Slack's 3,000 characters.
    """
    document: dict[str, Any] = {MARKER: VERSION}
    document["rules"] = {_text(block_id): _rule(rule) for block_id, rule in rules.items()}
    if context:
        document["context"] = _strings(context)
    if options:
        document["options"] = _strings(options)
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    if len(text) > MAX_METADATA_CHARS:
        raise ValueError(
            f"private_metadata of {len(text)} characters; Slack keeps at most {MAX_METADATA_CHARS}"
        )
    return text


def read_private_metadata(text: Any) -> Metadata:
    """What ``private_metadata`` wrote; an empty ``Metadata`` for anything else. Never raises."""
    if not isinstance(text, str) or MARKER not in text:  # the test only saves parsing
        return Metadata()
    try:
        document = json.loads(text)
        if not isinstance(document, dict) or not _is_int(document.get(MARKER)) or document[MARKER] != VERSION:
            return Metadata()
        rules = document.get("rules", {})
        if not isinstance(rules, dict):
            return Metadata()
        return Metadata(
            rules={_text(block_id): _rule(rule, strict=False) for block_id, rule in rules.items()},
            context=_strings(document.get("context", {})),
            options=_strings(document.get("options", {})),
        )
    except (ValueError, RecursionError):  # _Invalid and json's errors are ValueErrors
        return Metadata()


def submitted_values(view: Any) -> dict[str, Value]:
    """block_id → what the person submitted in it: a string, a list of strings, or None when empty."""
    state = view.get("state") if isinstance(view, dict) else None
    blocks = state.get("values") if isinstance(state, dict) else None
    if not isinstance(blocks, dict):
        return {}
    return {
        block_id: _element_value(_element(block_id, actions))
        for block_id, actions in blocks.items()
        if isinstance(block_id, str) and isinstance(actions, dict)
    }


def errors(view: Any) -> dict[str, str]:
    """block_id → why its value breaks the view's rules; ``{}`` when valid or when no rules are ours.

    Only inputs that exist in the view are judged: Slack refuses an errors answer naming a block it
    does not show.
    """
    if not isinstance(view, dict):
        return {}
    metadata, built_in = declared(view)
    rules = metadata.rules
    if not rules:
        return {}
    values = submitted_values(view)
    # A built-in form shows every input it declares, whatever the submitted state leaves out.
    present = set(rules) if built_in else set(values) | _input_block_ids(view)
    found: dict[str, str] = {}
    for block_id, rule in rules.items():
        if block_id in present:
            problem = _broken(rule, values.get(block_id))
            if problem:
                found[block_id] = _clip(rule.get("message") or problem, MAX_ERROR_CHARS)
    return found


def suggestions(
    payload: Any, lookup: Callable[[str], str], *, allowed: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """The options of the external select that sent ``payload`` (a ``block_suggestion``).

    Read through ``lookup(setting)`` (a comma-separated list) for the setting the view's metadata names
    for ``payload["action_id"]``, kept to what contains the typed text (any case), at most 100. A
    setting outside ``allowed`` (default: ``OPTION_SETTINGS``) gives no options and is never read.
    """
    if not isinstance(payload, dict):
        return []
    metadata, _ = declared(payload.get("view"))
    action_id = payload.get("action_id")
    setting = metadata.options.get(action_id) if isinstance(action_id, str) else None
    allowlist = option_settings() if allowed is None else frozenset(allowed)
    if not setting or setting not in allowlist or re.search(_NAMES_OF_SECRETS, setting):
        return []
    typed = payload.get("value")
    wanted = typed.strip().casefold() if isinstance(typed, str) else ""
    chosen: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name in lookup(setting).split(","):
        name = name.strip()
        value = name[:MAX_OPTION_VALUE]
        if not name or value in seen or wanted not in name.casefold():
            continue
        seen.add(value)
        chosen.append({"text": {"type": "plain_text", "text": name[:MAX_OPTION_TEXT]}, "value": value})
        if len(chosen) == MAX_OPTIONS:
            break
    return chosen


def option_settings() -> frozenset[str]:
    """The settings external selects may list (``OPTION_SETTINGS``, comma-separated; default SERVICES)."""
    raw = os.environ.get("OPTION_SETTINGS", DEFAULT_OPTION_SETTINGS)
    return frozenset(name.strip() for name in raw.split(",") if name.strip())


# -- reading and checking the metadata ---------------------------------------------------------------


def _rule(raw: Any, *, strict: bool = True) -> Rule:
    """A checked copy of ``raw``. Unknown keys are refused when writing and skipped when reading (a
    newer worker may know more rules than this ingest)."""
    if not isinstance(raw, dict):
        raise _Invalid("a rule must be an object")
    rule: dict[str, Any] = {}
    for key, value in raw.items():
        valid = _RULE_CHECKS.get(key)
        if valid is None and not strict:
            continue
        if valid is None or not valid(value):
            raise _Invalid(f"rule {key!r}: {value!r} is not allowed")
        rule[key] = list(value) if isinstance(value, list) else value
    return rule  # type: ignore[return-value]  # every key and value checked above


def _is_pattern(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        re.compile(value)
    except re.error:
        return False
    return True


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("a name must be a string")
    return value


def _strings(raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping) or not all(isinstance(v, str) for v in raw.values()):
        raise _Invalid("expected an object of strings")
    return {_text(key): value for key, value in raw.items()}


_RULE_CHECKS: dict[str, Callable[[Any], bool]] = {  # one per key of Rule
    "required": lambda v: isinstance(v, bool),
    "min_length": lambda v: _is_int(v) and v >= 0,
    "max_length": lambda v: _is_int(v) and v >= 0,
    "pattern": _is_pattern,
    "min": lambda v: _is_number(v),
    "max": lambda v: _is_number(v),
    "one_of": lambda v: isinstance(v, list) and all(isinstance(item, str) for item in v),
    "message": lambda v: isinstance(v, str),
}


# -- reading a submitted view ------------------------------------------------------------------------


def _element(block_id: str, actions: dict[str, Any]) -> Any:
    """The element's state in an input block: by the same id (our convention), else its only one."""
    if block_id in actions:
        return actions[block_id]
    return next(iter(actions.values()), None)


# An element's state holds exactly one of these, by element type: text, number, email and url inputs
# (``value``), single and multi selects, radio buttons and checkboxes, date and time pickers, and the
# user, conversation and channel pickers.
_ONE_OPTION = "selected_option"
_MANY_OPTIONS = "selected_options"
_SINGLE_KEYS = (
    "value",
    "selected_date",
    "selected_time",
    "selected_date_time",
    "selected_user",
    "selected_conversation",
    "selected_channel",
)
_LIST_KEYS = ("selected_users", "selected_conversations", "selected_channels")


def _element_value(state: Any) -> Value:
    if not isinstance(state, dict):
        return None
    if _ONE_OPTION in state:
        option = state[_ONE_OPTION]
        return _scalar(option.get("value")) if isinstance(option, dict) else None
    if _MANY_OPTIONS in state:
        options = state[_MANY_OPTIONS]
        return [o["value"] for o in _list(options) if isinstance(o, dict) and isinstance(o.get("value"), str)]
    for key in _LIST_KEYS:
        if key in state:
            return [item for item in _list(state[key]) if isinstance(item, str)]
    for key in _SINGLE_KEYS:
        if key in state:
            return _scalar(state[key])
    return None


def _scalar(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if _is_number(value):  # datetimepicker's selected_date_time is epoch seconds
        return str(value)
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _input_block_ids(view: dict[str, Any]) -> set[str]:
    blocks = view.get("blocks")
    return {
        block["block_id"]
        for block in _list(blocks)
        if isinstance(block, dict) and block.get("type") == "input" and isinstance(block.get("block_id"), str)
    }


# -- judging one value -------------------------------------------------------------------------------


def _broken(rule: Rule, value: Value) -> str | None:
    """The first rule ``value`` breaks, in words; None when it keeps them all."""
    if _is_empty(value):
        return "This field is required." if rule.get("required") else None
    assert value is not None  # for mypy: _is_empty covers None
    items = value if isinstance(value, list) else [value]
    return _length_problem(rule, value) or next(
        (problem for item in items if (problem := _item_problem(rule, item))), None
    )


def _is_empty(value: Value) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return not value


def _length_problem(rule: Rule, value: str | list[str]) -> str | None:
    size = len(value)
    unit = "characters" if isinstance(value, str) else "choices"
    low, high = rule.get("min_length"), rule.get("max_length")
    if low is not None and size < low:
        return f"Use at least {low} {unit} (this has {size})."
    if high is not None and size > high:
        return f"Use at most {high} {unit} (this has {size})."
    return None


def _item_problem(rule: Rule, item: str) -> str | None:
    pattern = rule.get("pattern")
    if pattern is not None and not re.fullmatch(pattern, item):
        return "This is not in the expected format."
    choices = rule.get("one_of")
    if choices is not None and item not in choices:
        return "Choose one of: " + ", ".join(choices)  # clipped by the caller
    return _range_problem(rule, item)


def _range_problem(rule: Rule, item: str) -> str | None:
    low, high = rule.get("min"), rule.get("max")
    if low is None and high is None:
        return None
    try:
        number = float(item)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        return "Enter a number."
    if low is not None and number < low:
        return f"Enter a number of at least {low:g}."
    if high is not None and number > high:
        return f"Enter a number of at most {high:g}."
    return None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
