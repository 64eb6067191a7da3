"""Replies over Slack's Block Kit limits are fitted, answered, never dead-lettered.

Slack refuses a message with one field over its limit (``invalid_blocks``, ``msg_too_long``) and the
worker treats that as permanent: before the replies were fitted, one long URL put the record in the
DLQ and paged the on-call. Each test goes through the real handlers (ingest → SQS on moto server →
worker) to the Slack stand-in over HTTP, which refuses over-limit messages as Slack does.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from sandbox.slack_standin import SlackStandIn, message_refusal
from tests.support import slack_requests as sr
from tests.support.pipeline import Pipeline
from worker import replies, route
from worker.skills import Skill
from worker.skills import help as help_skill
from worker.slack import Reply

LONG_PATH = "p" * 3100


def long_url(slack: SlackStandIn) -> str:
    """A loopback URL (the stand-in answers it 404) whose reply line is over a section's 3000."""
    return f"{slack.base_url}{LONG_PATH}"


def assert_answered_within_limits(pipeline: Pipeline, kind: str) -> dict[str, Any]:
    """Every invocation succeeded, nothing was dead-lettered, one reply within Slack's limits arrived."""
    assert all(invocation.failed == [] for invocation in pipeline.invocations)
    assert pipeline.dead_letters() == []
    assert [call["error"] for call in pipeline.slack.calls() if not call["ok"]] == []
    (reply,) = pipeline.replies()
    assert reply["kind"] == kind
    assert message_refusal(reply["args"]) is None
    return reply


def test_a_check_of_a_3100_character_url_is_answered_not_dead_lettered(pipeline: Pipeline) -> None:
    url = long_url(pipeline.slack)
    pipeline.post(sr.mention(f"<@UBOT> check <{url}>"))
    pipeline.drain()
    reply = assert_answered_within_limits(pipeline, "api")
    args = reply["args"]
    assert reply["method"] == "chat.postMessage"
    assert url in args["text"] and "HTTP 404" in args["text"]  # the fallback text has room for it all
    line = args["blocks"][1]["text"]["text"]
    assert len(line) <= 3000 and line.endswith("…") and LONG_PATH[:2000] in line
    # A Re-check button carries whole URLs only (a value holds 2000 characters): none for this one.
    assert all(block["type"] != "actions" for block in args["blocks"])


def test_a_slash_command_check_of_a_long_url_is_answered_through_its_response_url(
    pipeline: Pipeline,
) -> None:
    url = long_url(pipeline.slack)
    assert pipeline.command(f"check {url}")["statusCode"] == 200
    pipeline.drain()
    reply = assert_answered_within_limits(pipeline, "response_url")
    assert reply["args"]["response_type"] == "ephemeral"
    assert reply["args"]["blocks"][1]["text"]["text"].endswith("…")


def test_an_unknown_40000_character_word_gets_its_pointer_to_help(pipeline: Pipeline) -> None:
    word = "w" * 40_000  # as long as Slack lets a message be: the answer quotes it, and more
    pipeline.post(sr.mention(f"<@UBOT> {word}"))
    pipeline.drain()
    reply = assert_answered_within_limits(pipeline, "api")
    text = reply["args"]["text"]
    assert len(text) == 40_000 and text.startswith("I don't know `www") and text.endswith("…")


@pytest.fixture
def a_skill_with_a_long_help(monkeypatch: pytest.MonkeyPatch) -> str:
    """``help`` lists one more skill, whose one line of help is longer than a message may be."""
    line = "does a great many things, " * 1800  # 46,800 characters
    skills = {**help_skill.all_skills(), "verbose": Skill(name="verbose", help=line, run=help_skill.run)}
    monkeypatch.setattr(help_skill, "all_skills", lambda: skills)
    return line


def test_help_longer_than_a_message_is_cut_to_40000_characters(
    pipeline: Pipeline, a_skill_with_a_long_help: str
) -> None:
    pipeline.post(sr.direct_message("help", channel="D0777"))
    pipeline.drain()
    reply = assert_answered_within_limits(pipeline, "api")
    text = reply["args"]["text"]
    assert len(text) == 40_000 and text.endswith("…")
    assert text.startswith("Here is what I can do:\n• `check`: ")


def test_help_longer_than_a_message_through_a_slash_command(
    pipeline: Pipeline, a_skill_with_a_long_help: str
) -> None:
    assert pipeline.command("help")["statusCode"] == 200
    pipeline.drain()
    reply = assert_answered_within_limits(pipeline, "response_url")
    assert len(reply["args"]["text"]) == 40_000


OVER_EVERY_LIMIT = Reply(
    text="t" * 41_000,
    blocks=[
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 200}},
        *({"type": "section", "text": {"type": "mrkdwn", "text": "&amp;" * 700}} for _ in range(59)),
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "check:recheck",
                    "text": {"type": "plain_text", "text": "b" * 80},
                    "value": "v" * 2500,
                }
            ],
        },
    ],
)


@pytest.mark.parametrize("where", ["chat.postMessage", "chat.update", "response_url", "chat.postEphemeral"])
def test_deliver_fits_a_reply_over_every_limit_on_each_way_out(
    slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    assert message_refusal({"text": OVER_EVERY_LIMIT.text, "blocks": OVER_EVERY_LIMIT.blocks}) is not None
    destination: route.Destination
    if where == "chat.update":
        replies.deliver(route.PostMessage("C1"), Reply(text="first"), "xoxb-t", time.monotonic() + 20)
        ts = slack.calls("chat.postMessage")[0]["response"]["ts"]
        destination = route.UpdateMessage("C1", ts)
    elif where == "response_url":
        destination = route.ResponseUrl(slack.new_response_url())
    elif where == "chat.postEphemeral":  # a response_url past its 30 minutes: the fallback is fitted too
        old = time.time() - 31 * 60
        destination = route.ResponseUrl(slack.new_response_url(), received_at=old, channel="C1", user="U1")
    else:
        destination = route.PostMessage("C1")

    replies.deliver(destination, OVER_EVERY_LIMIT, "xoxb-t", time.monotonic() + 20)

    last = slack.calls()[-1]
    assert last["ok"], last["error"]
    assert (last["method"] or "response_url") == where
    blocks = last["args"]["blocks"]
    assert len(blocks) == 50 and "12 more blocks left out" in blocks[-1]["elements"][0]["text"]
    assert all(block["text"]["text"].removesuffix("…").endswith("&amp;") for block in blocks[1:49])
    assert len(last["args"]["text"]) == 40_000
