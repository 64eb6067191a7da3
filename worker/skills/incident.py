"""`incident`: declare an incident in a form, announce it, and resolve it with one click.

- ``/incident [title]``, the global shortcut ``incident:declare`` and the button ``incident:open`` open
  the modal (``views.open`` with the trigger they carry, which Slack honours for 3 s: a trigger that
  has expired is a permanent failure, dead-lettered as ``slack error: expired_trigger_id``);
- ``incident`` in a mention or a DM carries no trigger, so it answers with that button;
- the modal (``callback_id`` ``incident:declare``) asks for a title, a severity, a service (options
  from the ``SERVICES`` setting, offered by the ingest as the person types) and a summary. Its rules
  travel in ``private_metadata`` (``shared.modals``) so that the ingest rejects a bad submission in
  its answer; only valid ones reach ``declare``;
- ``declare`` announces the incident in the channel it was declared in, or in the declarer's DM with
  the bot when it came from a DM, the App Home or a shortcut, or when the bot cannot post in that
  channel (the DM then says why);
- the announcement's ``Resolve`` button (``incident:resolve``) edits it in place: who resolved it and
  how long it was open.

Everything a person typed (title, service, summary) is escaped before it is posted.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from shared import modals
from worker import blockkit
from worker.errors import Permanent
from worker.mrkdwn import escape
from worker.skills import Ask, Reply, Skill
from worker.slack import call

CALLBACK_ID = modals.INCIDENT_CALLBACK_ID
# The form's rules are declared once, in shared.modals (the ingest enforces them in its answer).
RULES: dict[str, modals.Rule] = dict(modals.BUILT_IN[CALLBACK_ID].rules)
TITLE_MAX_LENGTH = RULES["title"]["max_length"]
SUMMARY_MAX_LENGTH = RULES["summary"]["max_length"]
SEVERITIES = {
    "SEV1": "critical: customers cannot use the product",
    "SEV2": "major: a key feature is down or degraded",
    "SEV3": "minor: limited impact, a workaround exists",
    "SEV4": "low: cosmetic or internal only",
}
SERVICES_SETTING = modals.BUILT_IN[CALLBACK_ID].options["service"]  # the ingest answers the picker from it
# Where Slack refuses a post because the bot cannot write there: the announcement goes to the DM.
_CHANNEL_REFUSALS = {
    "not_in_channel": "I am not a member of {channel}: invite me there (`/invite` and my name) to "
    "have incidents announced in it.",
    "channel_not_found": "I cannot see {channel} (a private channel I was not added to, or one that "
    "is gone).",
    "is_archived": "{channel} is archived.",
}
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def run(ask: Ask) -> Reply | None:
    """``/incident`` opens the form at once; a mention or a DM has no trigger, so it offers a button."""
    if ask.trigger_id:
        open_form(ask.slack, ask.trigger_id, channel=declaring_channel(ask), title=ask.text)
        return None
    return Reply(
        text="Declare an incident: press the button to open the form (or use `/incident`).",
        blocks=[
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": ":rotating_light: Declare an incident?"},
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "incident:open",
                        "text": {"type": "plain_text", "text": "Declare an incident"},
                        "style": "danger",
                        "value": "open",
                    }
                ],
            },
        ],
    )


def open_from_button(ask: Ask) -> Reply | None:
    """The ``incident:open`` button: its click carries the trigger that a mention lacked."""
    if not ask.trigger_id:  # Slack always sends one with a click; without it nothing can open
        raise Permanent("incident:open click without a trigger_id")
    open_form(ask.slack, ask.trigger_id, channel=declaring_channel(ask))
    return None


def open_from_shortcut(ask: Ask) -> Reply | None:
    """The global shortcut: no channel to announce in, so the announcement goes to the declarer's DM."""
    if not ask.trigger_id:
        raise Permanent("incident:declare shortcut without a trigger_id")
    open_form(ask.slack, ask.trigger_id, channel="")
    return None


def declaring_channel(ask: Ask) -> str:
    """The channel to announce in; "" for a DM or the App Home (the announcement then goes by DM).

    A slash command can be typed in a DM between two people, where the bot cannot post: a DM is
    answered in the declarer's own DM with the bot instead.
    """
    channel = ask.channel or ""
    return channel if _CHANNEL_ID.match(channel) else ""


def open_form(slack: WebClient, trigger_id: str, *, channel: str, title: str = "") -> None:
    call(slack, "views.open", trigger_id=trigger_id, view=form(channel=channel, title=title))


def form(*, channel: str, title: str = "") -> dict[str, Any]:
    """The modal; each input's ``block_id`` is its ``action_id``, as the ingest's rules name them."""
    title_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "title",
        "max_length": TITLE_MAX_LENGTH,
        "placeholder": _plain("What is broken, in a few words"),
    }
    if title.strip():
        title_input["initial_value"] = title.strip()[:TITLE_MAX_LENGTH]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": _plain("Declare an incident"),
        "submit": _plain("Declare"),
        "close": _plain("Cancel"),
        "private_metadata": modals.private_metadata(
            RULES, context={"channel": channel}, options={"service": SERVICES_SETTING}
        ),
        "blocks": [
            _input("title", "Title", title_input),
            _input(
                "severity",
                "Severity",
                {
                    "type": "static_select",
                    "action_id": "severity",
                    "placeholder": _plain("How bad is it?"),
                    "options": [
                        {"text": _plain(name), "description": _plain(meaning[:75]), "value": name}
                        for name, meaning in SEVERITIES.items()
                    ],
                },
            ),
            _input(
                "service",
                "Service",
                {
                    "type": "external_select",
                    "action_id": "service",
                    "placeholder": _plain("Start typing a service name"),
                    "min_query_length": 0,
                },
                optional=True,
            ),
            _input(
                "summary",
                "Summary",
                {
                    "type": "plain_text_input",
                    "action_id": "summary",
                    "multiline": True,
                    "max_length": SUMMARY_MAX_LENGTH,
                    "placeholder": _plain("What do we know so far?"),
                },
                optional=True,
            ),
        ],
    }


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "optional": optional,
        "element": element,
    }


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


@dataclass(frozen=True)
class Incident:
    title: str
    severity: str
    service: str
    summary: str
    declared_by: str
    declared_at: float  # epoch seconds


def declare(ask: Ask) -> Reply | None:
    """A valid submission (the ingest has held it to ``RULES``): announce it where it was declared."""
    view = ask.payload.get("view")
    values = modals.submitted_values(view)
    metadata = modals.read_private_metadata(view.get("private_metadata") if isinstance(view, dict) else None)
    incident = Incident(
        title=_one(values.get("title")),
        severity=_one(values.get("severity")),
        service=_one(values.get("service")),
        summary=_one(values.get("summary")),
        declared_by=ask.user or "",
        declared_at=ask.received_at or time.time(),
    )
    announcement = announce(incident)
    channel = metadata.context.get("channel", "")
    if not _CHANNEL_ID.match(channel):
        return announcement  # declared from a DM, the App Home or a shortcut: the route DMs the declarer
    post = blockkit.fit(announcement)  # posted here, not by the route: held to Block Kit's limits here
    try:
        call(ask.slack, "chat.postMessage", channel=channel, text=post.text, blocks=post.blocks)
    except Permanent as refused:
        why = _CHANNEL_REFUSALS.get(refused.reason.removeprefix("slack error: "))
        if why is None:
            raise
        return with_note(announcement, why.format(channel=f"<#{channel}>"))
    return None


def announce(incident: Incident) -> Reply:
    """The announcement: what, how bad, where, who, and a button to resolve it."""
    title, severity = escape(incident.title), escape(incident.severity)
    declarer = _mention(incident.declared_by)
    fields = [
        f"*Severity*\n{severity}",
        f"*Service*\n{escape(incident.service) or '_not given_'}",
        f"*Declared by*\n{declarer}",
        f"*Declared*\n{_when(incident.declared_at)}",
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f":rotating_light: *{severity} incident: {title}*"},
        },
        {"type": "section", "fields": [{"type": "mrkdwn", "text": field} for field in fields]},
    ]
    if incident.summary:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*Summary*\n{escape(incident.summary)}"}}
        )
    value = json.dumps({"at": int(incident.declared_at), "by": incident.declared_by}, separators=(",", ":"))
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "incident:resolve",
                    "text": _plain("Resolve"),
                    "style": "primary",
                    "value": value,
                }
            ],
        }
    )
    text = f":rotating_light: {severity} incident declared by {declarer}: {title}"
    return Reply(text=text, blocks=blocks)


def with_note(announcement: Reply, note: str) -> Reply:
    """The announcement sent to the declarer instead, led by why it is not in the channel."""
    lead = {"type": "context", "elements": [{"type": "mrkdwn", "text": f":information_source: {note}"}]}
    return Reply(text=f"{note}\n{announcement.text}", blocks=[lead, *(announcement.blocks or [])])


def resolve(ask: Ask) -> Reply:
    """``Resolve``: the announcement, edited in place, without its button and with who and how long."""
    declared_at = _declared_at(ask.text)
    resolver = _mention(ask.user or "")
    now = time.time()
    line = f":white_check_mark: *Resolved* by {resolver}"
    if declared_at is not None:
        line += f" after {human_duration(now - declared_at)}"
    message = ask.payload.get("message")
    message = message if isinstance(message, dict) else {}
    kept = [b for b in message.get("blocks") or [] if isinstance(b, dict) and b.get("type") != "actions"]
    blocks = [*kept, {"type": "section", "text": {"type": "mrkdwn", "text": line}}]
    original = message.get("text") if isinstance(message.get("text"), str) else ""
    return Reply(text=f"{line}\n{original}".strip(), blocks=blocks)


def human_duration(seconds: float) -> str:
    """``42 s``, ``5 min``, ``2 h 5 min``, ``3 d 4 h``: how long an incident was open."""
    total = max(0, int(seconds))
    if total < 60:
        return f"{total} s"
    minutes = total // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _declared_at(value: str) -> float | None:
    try:
        document = json.loads(value)
    except ValueError:
        return None
    at = document.get("at") if isinstance(document, dict) else None
    return float(at) if isinstance(at, int | float) and not isinstance(at, bool) else None


def _mention(user: str) -> str:
    """``<@U…>`` for a real user id; anything else shown as text."""
    return f"<@{user}>" if _USER_ID.match(user) else escape(user or "someone")


def _when(epoch: float) -> str:
    """A date each reader sees in their own time zone, with a UTC fallback."""
    stamp = int(epoch)
    fallback = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(stamp))
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{fallback}>"


def _one(value: modals.Value) -> str:
    if isinstance(value, list):
        return ", ".join(value)
    return (value or "").strip()


SKILL = Skill(
    name="incident",
    help="declare an incident in a form, announce it in the channel and resolve it with one click",
    run=run,
    actions={"open": open_from_button, "resolve": resolve},
    commands=("/incident",),
    views={"declare": declare},
    shortcuts={"declare": open_from_shortcut},
)
