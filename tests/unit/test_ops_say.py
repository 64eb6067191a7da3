"""``slackbot say --shortcut / --submit / --home``: arguments, the payloads built, and how views are printed.

Sending them to a running sandbox is tests/e2e/test_sandbox_say.py; here the sandbox's routes are
replaced by what they answer.
"""

from __future__ import annotations

import argparse
import json
import urllib.parse
from typing import Any

import pytest

from ops import cli, say, slack_views
from ops.failures import OpsError
from sandbox.slack_standin import BOT_USER_ID, TEAM_ID
from shared import modals
from worker.skills import incident
from worker.skills.home import Health, home_view

BASE = "http://127.0.0.1:1"
MINTED = "7.1700000000.0123456789abcdef0123456789abcdef"


def args(*argv: str) -> argparse.Namespace:
    return cli.parser().parse_args(["say", *argv])


@pytest.fixture
def sandbox_routes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sandbox's minting routes, answering as the stand-in does; the URLs asked, in order."""
    asked: list[str] = []

    def get_json(url: str, method: str = "GET") -> dict[str, Any]:
        asked.append(f"{method} {url}")
        if url.endswith("/sandbox/trigger_id"):
            return {"trigger_id": MINTED}
        return {"response_url": f"{BASE}/response/R1"}

    monkeypatch.setattr(say, "_get_json", get_json)
    return asked


def opened(view: dict[str, Any], seq: int, method: str = "views.open") -> dict[str, Any]:
    """A record of the stand-in: the bot opened ``view``, which the stand-in answered with an id and hash."""
    shown = {**view, "id": f"V{seq:08d}", "hash": f"1700000000.{seq:08x}", "root_view_id": f"V{seq:08d}"}
    return {"seq": seq, "kind": "api", "method": method, "ok": True, "args": {}, "response": {"view": shown}}


def submitted(request: say.Request) -> dict[str, Any]:
    form = dict(urllib.parse.parse_qsl(request.body.decode()))
    return dict(json.loads(form["payload"]))


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (("--home", "hello"), "--home takes no TEXT"),
        (("--shortcut", "incident:declare", "x"), "--shortcut takes no TEXT"),
        ((), "say what?"),
        (("--dm",), "say what?"),
        (("hello", "--field", "title=x"), "--field goes with --submit"),
        (("--submit", "incident:declare", "--field", "title"), "write it as NAME=VALUE"),
        (("--submit", "incident:declare", "--field", "=x"), "write it as NAME=VALUE"),
        (("--submit", "a:b", "--field", "title=x", "--field", "title=y"), "--field title is given twice"),
    ],
)
def test_a_wrong_combination_is_named_in_one_line(argv: tuple[str, ...], problem: str) -> None:
    assert problem in say.usage_problem(args(*argv))


def test_the_kinds_exclude_each_other_and_a_command_may_have_no_text() -> None:
    with pytest.raises(SystemExit) as exited:
        args("--home", "--shortcut", "incident:declare")
    assert exited.value.code == 2
    assert say.usage_problem(args("--command", "/incident")) == ""
    assert say.usage_problem(args("--submit", "incident:declare", "--field", "title=a=b")) == ""
    assert say.fields(["title=a=b", "summary="]) == {"title": "a=b", "summary": None}


def test_a_shortcut_carries_a_freshly_minted_trigger_and_is_matched_by_it(sandbox_routes: list[str]) -> None:
    request = say._request(args("--shortcut", "incident:declare"), BASE, {"messages": []})
    payload = submitted(request)
    assert payload["type"] == "shortcut" and payload["callback_id"] == "incident:declare"
    assert payload["trigger_id"] == MINTED and request.trigger_id == MINTED
    assert (payload["team"]["id"], payload["user"]["id"]) == (TEAM_ID, say.USER)
    assert request.correlation_id == f"interaction:{MINTED}" and request.wants == "modal"
    assert sandbox_routes == [f"POST {BASE}/sandbox/trigger_id"]


def test_a_command_carries_a_minted_trigger_so_that_it_may_open_a_modal(sandbox_routes: list[str]) -> None:
    request = say._request(args("--command", "/incident"), BASE, {"messages": []})
    form = dict(urllib.parse.parse_qsl(request.body.decode(), keep_blank_values=True))
    assert form["trigger_id"] == MINTED and request.trigger_id == MINTED
    assert request.correlation_id == f"command:{MINTED}" and form["text"] == ""


def test_a_submission_is_the_modal_the_bot_opened_last_with_that_callback_id(
    sandbox_routes: list[str],
) -> None:
    older = opened(incident.form(channel="C0OLD"), 3)
    other = opened({"type": "modal", "callback_id": "other:thing", "blocks": []}, 5)
    newer = opened(incident.form(channel="", title="Disk full"), 4, method="views.update")
    records = [older, newer, other, {"seq": 6, "method": "views.open", "ok": False, "response": {}}]
    request = say._request(
        args("--submit", "incident:declare", "--field", "severity=SEV2", "--field", "summary="),
        BASE,
        {"messages": records},
    )
    payload = submitted(request)
    view = payload["view"]
    assert payload["type"] == "view_submission" and payload["trigger_id"] == MINTED
    assert view["id"] == "V00000004" and view["callback_id"] == "incident:declare"
    assert view["private_metadata"] == newer["response"]["view"]["private_metadata"]
    values = modals.submitted_values(view)
    # The title the modal was opened with is submitted as is; an emptied input is submitted empty.
    assert values == {"title": "Disk full", "severity": "SEV2", "service": None, "summary": None}
    assert request.correlation_id == f"interaction:{MINTED}" and request.wants == "message"


def test_a_submission_needs_an_opened_modal_and_inputs_it_has(sandbox_routes: list[str]) -> None:
    with pytest.raises(OpsError) as none_open:
        say._request(args("--submit", "incident:declare"), BASE, {"messages": []})
    assert none_open.value.code == 2 and "slackbot say --shortcut incident:declare" in str(none_open.value)
    records = [opened(incident.form(channel=""), 1)]
    with pytest.raises(OpsError) as unknown:
        say._request(args("--submit", "incident:declare", "--field", "owner=x"), BASE, {"messages": records})
    assert unknown.value.code == 2
    assert "no input 'owner'; its inputs: title, severity, service, summary" in str(unknown.value)
    assert sandbox_routes == [], "nothing minted for a submission that is not sent"


def test_the_home_tab_opening_is_an_app_home_opened_event_matched_by_its_event_id() -> None:
    request = say._request(args("--home"), BASE, {"messages": []})
    body = json.loads(request.body)
    assert body["event"] == {
        "type": "app_home_opened",
        "user": say.USER,
        "channel": say.DM_CHANNEL,
        "tab": "home",
        "event_ts": body["event"]["event_ts"],
    }
    assert body["team_id"] == TEAM_ID and body["authorizations"][0]["user_id"] == BOT_USER_ID
    assert request.correlation_id == f"event:{body['event_id']}" and request.wants == "home"


def test_with_real_slack_the_interactions_are_refused_before_anything_is_sent(
    sandbox_routes: list[str],
) -> None:
    for argv in (("--home",), ("--shortcut", "incident:declare"), ("--submit", "incident:declare")):
        with pytest.raises(OpsError) as refused:
            say._request(args(*argv), BASE, {"mode": "slack", "messages": []})
        assert refused.value.code == 2 and "Slack stand-in" in str(refused.value)
    assert sandbox_routes == []


def test_the_ingest_answer_gives_a_refused_submissions_field_errors() -> None:
    refused = json.dumps({"response_action": "errors", "errors": {"title": "This field is required."}})
    assert say.ingest_answer(refused) == ("the modal's field errors", {"title": "This field is required."})
    assert say.ingest_answer('{"response_type": "ephemeral", "text": "Working on it…"}') == (
        "Working on it…",
        {},
    )
    assert say.ingest_answer("") == ("", {})
    assert say.ingest_answer("\x1b[2Jplain") == ("[2Jplain", {})


def test_the_modal_is_printed_with_its_inputs_their_rules_and_an_initial_title() -> None:
    view = {**incident.form(channel="", title="Disk \x1b[31mfull"), "id": "V00000001"}
    lines = slack_views.modal_lines(view)
    assert lines[0] == '"Declare an incident" (callback_id incident:declare, view V00000001)'
    assert lines[1:] == [
        '  title     Title: text, required, at most 80 characters, filled in: "Disk [31mfull"',
        "  severity  Severity: select, required, one of SEV1, SEV2, SEV3, SEV4",
        "  service   Service: select, options as you type, optional",
        "  summary   Summary: text, several lines, optional, at most 3000 characters",
        "  [Declare] [Cancel]",
    ]


def test_the_home_tab_is_printed_as_headers_and_wrapped_sections() -> None:
    view = home_view([incident.SKILL], Health(work_queue=None, dead_letters=None))
    lines = slack_views.home_lines(view, 60)
    assert lines[0] == "WHAT I CAN DO" and "HOW THE PIPELINE IS DOING" in lines
    assert lines[lines.index("HOW THE PIPELINE IS DOING") - 1] == "", "a blank line before each later header"
    assert "  *Work queue*: unavailable" in lines
    assert all(len(line) <= 60 for line in lines), [line for line in lines if len(line) > 60]
    assert any("`/incident`" in line for line in lines)


def test_a_reply_with_blocks_is_printed_as_its_blocks() -> None:
    announced = {"method": "chat.postMessage", "args": {"channel": "D1", "text": "notify", "blocks": [{}]}}
    assert say.as_shown(announced)["args"] == {"channel": "D1", "text": "", "blocks": [{}]}
    plain = {"method": "chat.postMessage", "args": {"channel": "C1", "text": "pong"}}
    assert say.as_shown(plain) is plain


def test_the_modal_and_home_tab_are_found_among_any_calls_by_trigger_and_user() -> None:
    posted = {"seq": 1, "kind": "response_url", "method": None, "ok": True, "args": {}, "response": "ok"}
    other = {**opened(incident.form(channel=""), 2), "args": {"trigger_id": "someone-else"}}
    ours = {**opened(incident.form(channel=""), 3), "args": {"trigger_id": MINTED}}
    assert say.opened_with([posted, other, ours], MINTED) == ours["response"]["view"]
    assert say.opened_with([posted, other], MINTED) is None
    assert say.opened_with([ours], "") is None, "a request without a minted trigger opened nothing"
    home = {
        "method": "views.publish",
        "ok": True,
        "args": {"user_id": say.USER},
        "response": {"view": {"a": 1}},
    }
    elsewhere = {**home, "args": {"user_id": "U0OTHER"}, "response": {"view": {"b": 2}}}
    assert say.published_home([posted, home, elsewhere], say.USER) == {"a": 1}
    assert say.published_home([posted, elsewhere], say.USER) is None
