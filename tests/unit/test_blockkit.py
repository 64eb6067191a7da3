"""worker/blockkit.py: any reply is fitted within Slack's Block Kit limits; one within them is left alone.

The oracle for "within Slack's limits" is the Slack stand-in's own check (``message_refusal``: what
Slack would answer), plus the blocks' total text budget, which is stricter in the worker than in the
stand-in on purpose.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, event, given, settings

from sandbox.slack_standin import message_refusal
from worker import blockkit
from worker.blockkit import ELLIPSIS, fit, truncate
from worker.slack import Reply

ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")

# -- strategies --------------------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    [
        *("a", "Z", " ", "\n", "é", "😀", "*b*", "`code`", "https://example.org/"),
        *("&amp;", "&lt;", "&gt;", "&#128512;", "&", ";", "<", ">"),
        *("<https://example.org/x|label>", "<@U123>", "<!here>"),
    ]
)


# Lengths around every limit, where an off-by-one would show.
LIMITS = [75, 150, 2000, 3000, 40_000]
NEAR_LIMITS = sorted({n + d for n in LIMITS for d in (-1, 0, 1, 100)})


@st.composite
def texts(draw: st.DrawFn, longest: int = 45_000) -> str:
    """A pattern of fragments repeated to a length: short, near a limit, or anything up to ``longest``."""
    pattern = "".join(draw(st.lists(FRAGMENTS, min_size=1, max_size=8)))
    near = [n for n in NEAR_LIMITS if n <= longest]
    length = draw(st.one_of(st.integers(0, 40), st.sampled_from(near), st.integers(0, longest)))
    return (pattern * (length // len(pattern) + 1))[:length]


def text_object(draw: st.DrawFn, *, longest: int = 45_000) -> dict[str, Any]:
    kind = draw(st.sampled_from(["mrkdwn", "plain_text"]))
    return {"type": kind, "text": draw(texts(longest)) or "x"}


@st.composite
def buttons(draw: st.DrawFn) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": "check:recheck",
        "text": {"type": "plain_text", "text": draw(texts(300)) or "Go"},
        "value": draw(texts(5000)),
    }
    if draw(st.booleans()):
        button["url"] = "https://example.org/" + "u" * draw(st.integers(0, 3500))
    return button


@st.composite
def blocks(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["section", "fields", "header", "context", "actions", "divider", "image"]))
    if kind == "section":
        block: dict[str, Any] = {"type": "section", "text": text_object(draw)}
        if draw(st.booleans()):
            block["accessory"] = draw(buttons())
        return block
    if kind == "fields":
        count = draw(st.integers(1, 14))
        return {"type": "section", "fields": [text_object(draw, longest=3000) for _ in range(count)]}
    if kind == "header":
        return {"type": "header", "text": {"type": "plain_text", "text": draw(texts(400)) or "H"}}
    if kind == "context":
        count = draw(st.integers(1, 13))
        return {"type": "context", "elements": [text_object(draw, longest=4000) for _ in range(count)]}
    if kind == "actions":
        return {"type": "actions", "elements": draw(st.lists(buttons(), min_size=1, max_size=28))}
    if kind == "image":
        title = {"type": "plain_text", "text": draw(texts(4000)) or "t"}
        return {"type": "image", "image_url": "https://example.org/i.png", "alt_text": "i", "title": title}
    return {"type": "divider"}


@st.composite
def replies(draw: st.DrawFn) -> Reply:
    block_list = draw(st.one_of(st.none(), st.lists(blocks(), max_size=8), st.lists(blocks(), max_size=60)))
    return Reply(text=draw(texts()), blocks=block_list, in_channel=draw(st.booleans()))


# -- the oracle --------------------------------------------------------------------------------------


def over_limits(reply: Reply) -> list[str]:
    """Why Slack (or the worker's total-text budget) would not take this reply; empty when it would."""
    message: dict[str, Any] = {"text": reply.text}
    if reply.blocks is not None:
        message["blocks"] = reply.blocks
    refusal = message_refusal(message)
    problems = [f"{refusal['error']}: {refusal.get('errors')}"] if refusal else []
    if reply.blocks and blockkit.blocks_text_length(reply.blocks) > blockkit.BLOCKS_TEXT_TOTAL:
        problems.append("blocks' text over the worker's total budget")
    return problems


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- properties --------------------------------------------------------------------------------------


@FUZZ
@given(replies())
def test_any_reply_is_fitted_within_every_limit(reply: Reply) -> None:
    before = copy.deepcopy(reply.blocks)
    fitted = fit(reply)
    assert over_limits(fitted) == []
    assert reply.blocks == before  # the skill's own reply is not modified
    assert fitted.in_channel == reply.in_channel
    assert fit(fitted) == fitted  # fitting twice changes nothing more


@FUZZ
@given(replies())
def test_a_reply_within_the_limits_is_returned_unchanged(reply: Reply) -> None:
    event("over the limits" if over_limits(reply) else "within the limits")
    if over_limits(reply):
        assert fit(reply) != reply
    else:
        assert fit(reply) is reply


@FUZZ
@given(texts(), st.integers(1, 5000), st.booleans())
def test_truncate_keeps_a_prefix_ends_with_an_ellipsis_and_breaks_no_escape(
    text: str, limit: int, mrkdwn: bool
) -> None:
    cut = truncate(text, limit, mrkdwn=mrkdwn)
    assert len(cut) <= limit
    if len(text) <= limit:
        assert cut == text
        return
    assert cut.endswith(ELLIPSIS)
    kept = len(cut) - len(ELLIPSIS)
    assert text[:kept] == cut[:kept]
    for entity in ENTITY.finditer(text):
        assert not entity.start() < kept < entity.end(), f"cut inside {entity.group()}"
    if mrkdwn:
        opening = cut.rfind("<", 0, kept)
        closes_later = opening >= 0 and ">" not in cut[opening:kept] and ">" in text[kept:]
        assert not closes_later, "a <…> link or mention left open"


# -- examples ----------------------------------------------------------------------------------------


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def test_a_3100_character_url_in_a_section_is_cut_to_3000_with_an_ellipsis() -> None:
    line = ":red_circle: https://example.org/" + "a" * 3100 + ": HTTP 404"
    fitted = fit(Reply(text=line, blocks=[section(line)]))
    assert fitted.text == line  # the text fallback has room for it
    assert fitted.blocks is not None
    shown = fitted.blocks[0]["text"]["text"]
    assert len(shown) == 3000 and shown == line[:2999] + "…"


def test_the_cut_moves_before_an_entity_it_would_split() -> None:
    text = "x" * 2996 + "&amp;" + "y" * 100  # the 2,999-character cut would land inside &amp;
    assert truncate(text, 3000) == "x" * 2996 + "…"
    assert truncate("a" * 2999 + "&lt;", 3000) == "a" * 2999 + "…"  # an entity after the cut is dropped


def test_the_cut_moves_before_a_link_it_would_leave_open() -> None:
    text = "see " + "<https://example.org/" + "p" * 3000 + "|the page>"
    assert truncate(text, 3000) == "see …"
    assert truncate(text, 3000, mrkdwn=False).startswith("see <https://")  # plain text has no links


def test_more_than_50_blocks_keep_49_and_say_how_many_were_left_out() -> None:
    many = [section(f"line {n}") for n in range(60)]
    fitted = fit(Reply(text="sixty", blocks=many))
    assert fitted.blocks is not None and len(fitted.blocks) == 50
    assert fitted.blocks[:49] == many[:49]
    note = fitted.blocks[-1]
    assert note["type"] == "context"
    assert "11 more blocks left out" in note["elements"][0]["text"]


def test_button_value_text_and_url_are_fitted() -> None:
    button = {
        "type": "button",
        "action_id": "check:recheck",
        "text": {"type": "plain_text", "text": "Re-check " * 20},
        "value": "v" * 2500,
        "url": "https://example.org/" + "u" * 3000,
    }
    fitted = fit(Reply(text="t", blocks=[{"type": "actions", "elements": [button]}]))
    assert fitted.blocks is not None
    out = fitted.blocks[0]["elements"][0]
    assert out["value"] == "v" * 2000  # data for the click, cut without an ellipsis
    assert len(out["text"]["text"]) == 75 and out["text"]["text"].endswith("…")
    assert "url" not in out  # a cut URL would lead somewhere else
    assert button["value"] == "v" * 2500  # the original is untouched


def test_header_and_message_text_limits() -> None:
    header = {"type": "header", "text": {"type": "plain_text", "text": "H" * 200}}
    fitted = fit(Reply(text="t" * 50_000, blocks=[header]))
    assert len(fitted.text) == 40_000 and fitted.text.endswith("…")
    assert fitted.blocks is not None and len(fitted.blocks[0]["text"]["text"]) == 150


def test_long_texts_share_the_total_budget_and_short_ones_stay_whole() -> None:
    heading = section("*Health check*: 0/5 healthy")
    lines = [section(f":red_circle: https://example.org/{n}/" + "p" * 2990) for n in range(5)]
    button = {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "Re-check"}}
    reply = Reply(text="t", blocks=[heading, *lines, {"type": "actions", "elements": [button]}])
    fitted = fit(reply)
    assert fitted.blocks is not None
    assert blockkit.blocks_text_length(fitted.blocks) <= blockkit.BLOCKS_TEXT_TOTAL
    assert fitted.blocks[0] == heading and fitted.blocks[-1] == reply.blocks[-1]  # type: ignore[index]
    shown = [block["text"]["text"] for block in fitted.blocks[1:-1]]
    assert all(text.endswith("…") for text in shown)
    assert len({len(text) for text in shown}) == 1  # the same share each
