"""Where each Slack action is answered, and by which skill."""

from __future__ import annotations

import json
import time

import pytest

from shared import envelope as schema
from tests.fixtures import corpus
from tests.support import slack_requests as sr
from worker import route, skills
from worker.envelope import QueuedEnvelope


def _envelope(kind: str, payload: dict) -> QueuedEnvelope:
    return QueuedEnvelope.model_validate(schema.build(kind, payload, received_at=time.time(), request_id="r"))  # type: ignore[arg-type]


def _form(body: bytes) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(body.decode()))


DEADLINE = time.monotonic() + 60


def test_a_mention_is_answered_in_its_channel_and_thread() -> None:
    body = json.loads(
        sr.mention("<@UBOT> check <https://example.org|example.org>", extra={"thread_ts": "1.5"})
    )
    job = route.plan(_envelope("event", body), DEADLINE)
    assert job is not None
    assert job.skill == "check" and job.ask.text == "<https://example.org|example.org>"
    assert job.destination == route.PostMessage("C0001", thread_ts="1.5")


def test_a_direct_message_is_answered_in_the_dm() -> None:
    job = route.plan(_envelope("event", json.loads(sr.direct_message("PING"))), DEADLINE)
    assert job is not None and job.skill == "ping"
    assert job.destination == route.PostMessage("D0001", thread_ts=None)


def test_a_direct_message_with_a_file_is_answered_like_any_direct_message() -> None:
    payload = corpus.item("events/message_im_file_share").payload
    assert payload["event"]["subtype"] == "file_share"
    job = route.plan(_envelope("event", payload), DEADLINE)
    assert isinstance(job, route.Job)
    assert (job.skill, job.ask.user) == ("uploaded", "W222")  # its text, "uploaded a file", is answered
    assert job.destination == route.PostMessage("D111", thread_ts="1726133698.626339")


def test_other_events_are_not_handled() -> None:
    edit = json.loads(sr.direct_message("ping", extra={"subtype": "message_changed"}))
    joined = json.loads(sr.direct_message("ping", extra={"subtype": "channel_join"}))
    channel_message = json.loads(sr.direct_message("ping", extra={"channel_type": "channel"}))
    channel_file = json.loads(
        sr.direct_message("ping", extra={"channel_type": "channel", "subtype": "file_share"})
    )
    reaction = json.loads(sr.event_callback({"type": "reaction_added", "user": "U1", "reaction": "+1"}))
    for payload in (edit, joined, channel_message, channel_file, reaction):
        job = route.plan(_envelope("event", payload), DEADLINE)
        assert isinstance(job, route.Ignored) and job.reason.startswith("no skill handles event")


# What the bot answers in the corpus of real payloads; everything else there is ignored.
ANSWERED_IN_THE_CORPUS = {
    "events/app_mention",
    "events/app_mention_enterprise_grid",
    "events/app_mention_from_our_bot_user",  # the ingest drops the bot's own messages before the queue
    "events/app_mention_shared_channel",
    "events/message_im",
    "events/message_im_file_share",
    "events/message_im_from_a_bot",  # likewise dropped by the ingest (it has a bot_id)
    "events/message_im_in_assistant_thread",
    "events/message_im_java",
    "commands/hello_world_enterprise",
    "commands/test",
    # routed to the `home` skill, which publishes the Home tab (and nothing for the Messages tab)
    "events/app_home_opened",
    "events/app_home_opened_home_tab",
    "events/app_home_opened_messages_tab",
    "events/app_home_opened_org_app",
}


def test_the_corpus_is_answered_where_a_human_talks_to_the_bot_and_ignored_elsewhere() -> None:
    planned = {item.name: route.plan(_envelope(item.kind, item.payload), DEADLINE) for item in corpus.load()}
    answered = {name for name, job in planned.items() if isinstance(job, route.Job)}
    assert answered == ANSWERED_IN_THE_CORPUS
    assert isinstance(planned["commands/sample_all_fields"], route.Ignored)  # its response_url is blank


def test_a_slash_command_answers_through_its_response_url_ephemeral_unless_public() -> None:
    private = route.plan(_envelope("command", _form(sr.slash_command("check https://a.example"))), DEADLINE)
    public = route.plan(_envelope("command", _form(sr.slash_command("--public ping"))), DEADLINE)
    assert private is not None and public is not None
    assert private.skill == "check" and private.ask.text == "https://a.example"
    assert isinstance(private.destination, route.ResponseUrl) and not private.destination.in_channel
    assert (
        public.skill == "ping"
        and isinstance(public.destination, route.ResponseUrl)
        and public.destination.in_channel
    )


def test_a_recheck_click_updates_the_message_it_came_from() -> None:
    job = route.plan(
        _envelope("interaction", sr.block_action("check:recheck", "https://a.example")), DEADLINE
    )
    check = skills.find("check")
    assert isinstance(job, route.Job) and check is not None
    assert job.handler is check.actions["recheck"] and job.ask.text == "https://a.example"
    assert job.destination == route.UpdateMessage("C0001", "1700000000.000100")


def test_a_click_on_an_ephemeral_message_replaces_it_through_the_response_url() -> None:
    click = sr.block_action(
        "check:recheck", container={"type": "message", "is_ephemeral": True, "message_ts": "1.1"}
    )
    job = route.plan(_envelope("interaction", click), DEADLINE)
    assert (
        job is not None
        and isinstance(job.destination, route.ResponseUrl)
        and job.destination.replace_original
    )


def test_unknown_clicks_and_modal_submissions_are_not_handled() -> None:
    click = route.plan(_envelope("interaction", sr.block_action("nobody:nothing")), DEADLINE)
    assert click == route.Ignored("no skill handles action nobody:nothing")
    submission = {"type": "view_submission", "user": {"id": "U1"}, "view": {"callback_id": "nobody:x"}}
    assert route.plan(_envelope("interaction", submission), DEADLINE) == route.Ignored(
        "no skill handles view nobody:x"
    )


def test_a_click_with_odd_ids_is_still_routed_without_them() -> None:
    click = sr.block_action("check:recheck", team="T0001", container={"channel_id": 5}, channel=None)
    job = route.plan(_envelope("interaction", click), DEADLINE)
    assert isinstance(job, route.Job) and job.ask.team is None
    assert isinstance(job.destination, route.ResponseUrl)  # no usable channel id: replaced in place


def test_split_words_strips_leading_mentions() -> None:
    assert route.split_words("<@UBOT> Check  <https://x>") == ("check", "<https://x>")
    assert route.split_words("<@UBOT|bot> <@U2>   ping") == ("ping", "")
    assert route.split_words("") == ("", "")


def test_help_lists_every_skill_and_unknown_words_point_to_help() -> None:
    names = set(skills.all_skills())
    assert {"help", "ping", "check"} <= names
    help_text = route.answer("help", skills.Ask(text="")).text
    for skill in skills.all_skills().values():
        assert f"`{skill.name}`" in help_text and skill.help in help_text
    assert "help" in route.answer("dance", skills.Ask(text="")).text
    assert route.answer("", skills.Ask(text="")).text == help_text


def test_ping_reports_latency_from_slack_and_from_the_ingest() -> None:
    now = time.time()
    text = route.answer("ping", skills.Ask(text="", slack_time=now - 1.5, received_at=now - 0.25)).text
    assert text.startswith("pong")
    slack_ms = int(text.split("Slack → answer ")[1].split(" ms")[0])
    ingest_ms = int(text.split("ingest → answer ")[1].split(" ms")[0])
    assert 1500 <= slack_ms < 2500 and 250 <= ingest_ms < 1250


def _said(name: str) -> skills.Handler:
    return lambda ask: skills.Reply(text=f"{name}: {ask.text}")


TOY = skills.Skill(
    name="toy",
    help="a skill for routing tests",
    run=_said("run"),
    commands=("/toy",),
    views={"form": _said("view")},
    shortcuts={"go": _said("shortcut")},
    events={"app_home_opened": _said("home")},
)


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> skills.Skill:
    # The built-in skills, less any that claims an event of TOY's (the `home` skill's app_home_opened).
    others = {n: s for n, s in skills.all_skills().items() if not set(s.events) & set(TOY.events)}
    everything = {**others, "toy": TOY}
    monkeypatch.setattr(skills, "all_skills", lambda: everything)
    return TOY


def test_a_claimed_command_goes_to_its_skill_with_its_whole_text(toy: skills.Skill) -> None:
    payload = _form(sr.slash_command("prod now", command="/toy"))
    job = route.plan(_envelope("command", payload), DEADLINE)
    assert isinstance(job, route.Job) and job.skill == "toy" and job.handler is toy.run
    assert job.ask.text == "prod now" and job.ask.command == "/toy"
    assert job.ask.trigger_id == payload["trigger_id"]
    reply = job.run()
    assert reply is not None and reply.text == "run: prod now"


def test_an_unclaimed_command_is_still_routed_by_its_first_word(toy: skills.Skill) -> None:
    job = route.plan(_envelope("command", _form(sr.slash_command("toy --public hello"))), DEADLINE)
    assert isinstance(job, route.Job) and job.skill == "toy" and job.handler is None
    assert job.ask.text == "hello" and job.ask.command == "/ops"
    assert isinstance(job.destination, route.ResponseUrl) and job.destination.in_channel


def test_a_modal_submission_goes_to_the_skills_view_and_answers_by_dm(toy: skills.Skill) -> None:
    submission = {
        "type": "view_submission",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "trigger_id": "1.2.3",
        "view": {"callback_id": "toy:form", "state": {"values": {}}},
    }
    job = route.plan(_envelope("interaction", submission), DEADLINE)
    assert isinstance(job, route.Job) and job.handler is toy.views["form"]
    assert job.destination == route.DirectMessage("U1")
    assert job.ask.payload["view"]["callback_id"] == "toy:form" and job.ask.trigger_id == "1.2.3"


def test_shortcuts_go_to_the_skill_global_by_dm_message_through_its_response_url(toy: skills.Skill) -> None:
    shortcut = {"type": "shortcut", "callback_id": "toy:go", "trigger_id": "9.9", "user": {"id": "U2"}}
    job = route.plan(_envelope("interaction", shortcut), DEADLINE)
    assert isinstance(job, route.Job) and job.handler is toy.shortcuts["go"]
    assert job.destination == route.DirectMessage("U2") and job.ask.trigger_id == "9.9"
    on_a_message = {
        **shortcut,
        "type": "message_action",
        "channel": {"id": "C9"},
        "message": {"text": "the words"},
        "response_url": "https://hooks.slack.com/app/T1/2/x",
    }
    job = route.plan(_envelope("interaction", on_a_message), DEADLINE)
    assert isinstance(job, route.Job) and job.ask.channel == "C9" and job.ask.text == "the words"
    assert isinstance(job.destination, route.ResponseUrl)
    assert job.destination.url == "https://hooks.slack.com/app/T1/2/x"
    assert (job.destination.channel, job.destination.user) == ("C9", "U2")
    unknown = {**shortcut, "callback_id": "toy:nothing"}
    assert route.plan(_envelope("interaction", unknown), DEADLINE) == route.Ignored(
        "no skill handles shortcut toy:nothing"
    )


def test_an_events_api_type_goes_to_the_skill_that_declares_it(toy: skills.Skill) -> None:
    opened = {
        "type": "event_callback",
        "team_id": "T1",
        "event_id": "Ev1",
        "event": {"type": "app_home_opened", "user": "U3", "channel": "D3", "tab": "home"},
    }
    job = route.plan(_envelope("event", opened), DEADLINE)
    assert isinstance(job, route.Job) and job.handler is toy.events["app_home_opened"]
    assert job.ask.user == "U3" and job.destination == route.PostMessage("D3")


def test_two_skills_may_not_claim_one_command() -> None:
    with pytest.raises(RuntimeError, match="both claim command /toy"):
        skills._refuse_shared_claims(
            [TOY, skills.Skill(name="other", help="", run=_said("x"), commands=("/toy",))]
        )
