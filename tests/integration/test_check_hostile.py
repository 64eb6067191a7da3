"""`check` against hostile users and hostile servers, through the real handlers.

Signed request → ingest → SQS (moto server) → worker handler → Slack stand-in, with the servers checked
being a hostile HTTP server on loopback (the `pipeline` fixture sets CHECK_ALLOW_PRIVATE_NETWORKS=true).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import tracemalloc
import types
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.support import hostile_http
from tests.support import slack_requests as sr
from tests.support.hostile_http import HostileServer
from tests.support.pipeline import Pipeline
from worker.skills import check
from worker.state import StateTable

FORM = "application/x-www-form-urlencoded"

INJECTED_LOCATION = b"/x <!here> <https://evil.example/login|Slack: session expired>"


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    routes = {
        "/ok": hostile_http.ok,
        "/inject": hostile_http.redirect_to(INJECTED_LOCATION),
        "/inject-error": hostile_http.redirect_to(b"http://127.0.0.1:<!everyone>/"),
        "/loop": hostile_http.redirect_to(b"/loop"),
        "/bomb": hostile_http.header_bomb(lines=90),
    }
    with hostile_http.hostile_server(routes) as server:
        yield server


def _visible_texts(node: Any) -> Iterator[str]:
    """Every text Slack renders in a message's arguments: `text` and each text object in `blocks`.

    A button's `value` is not rendered (Slack hands it back on a click), so it is not visible text.
    """
    if isinstance(node, dict):
        for name, value in node.items():
            if name == "text" and isinstance(value, str):
                yield value
            elif name != "value":
                yield from _visible_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _visible_texts(item)


def _assert_no_live_markup(args: dict[str, Any]) -> str:
    """No `<…>` control sequence (mention, broadcast, link) anywhere a reply is rendered; returns all text."""
    texts = list(_visible_texts({"text": args.get("text"), "blocks": args.get("blocks", [])}))
    for text in texts:
        # The check skill writes no markup of its own: every < or > in a reply came from outside.
        assert "<" not in text and ">" not in text, text
    return "\n".join(texts)


def _click_recheck(pipeline: Pipeline, reply: dict[str, Any], user: str = "U0HUMAN") -> dict[str, Any]:
    button = reply["args"]["blocks"][-1]["elements"][0]
    assert button["action_id"] == "check:recheck"
    ts, channel = reply["response"]["ts"], reply["args"]["channel"]
    click = sr.block_action(
        "check:recheck",
        button["value"],
        container={"type": "message", "message_ts": ts, "channel_id": channel},
        message={"type": "message", "ts": ts, "text": reply["args"]["text"]},
        user={"id": user, "username": "someone"},
    )
    pipeline.post(sr.interaction(click), FORM)
    pipeline.drain()
    (update,) = pipeline.slack.calls("chat.update")
    return update


# --- 1. no injection ---------------------------------------------------------------------------------


def test_markup_typed_into_a_url_is_posted_as_text_and_survives_a_recheck(
    pipeline: Pipeline, hostile: HostileServer
) -> None:
    base = f"http://127.0.0.1:{hostile.port}"
    # What Slack sends when a user types `<`, `>` and `&`: escaped, which the checker un-escapes.
    typed = [
        f"{base}/ok/&lt;!channel&gt;/x",
        f"{base}/ok?&lt;@U0ADMIN&gt;&amp;&lt;!subteam^S0SRE&gt;=1",
        f"{base}/a&lt;https://evil.example/login|Slack-login&gt;/b",
        "http://127.0.0.1:&lt;!here&gt;/",  # its error text quotes the port
    ]
    pipeline.post(sr.mention("<@UBOT> check " + " ".join(typed)))
    pipeline.drain()
    (reply,) = pipeline.replies()
    shown = _assert_no_live_markup(reply["args"])
    for escaped in ("&lt;!channel&gt;", "&lt;@U0ADMIN&gt;", "&lt;!subteam^S0SRE&gt;", "&lt;!here&gt;"):
        assert escaped in shown
    assert "&lt;https://evil.example/login|Slack-login&gt;" in shown
    assert "invalid URL: Port could not be cast" in shown
    first_round = hostile.targets
    assert len(first_round) == 3  # the fourth URL never made a request

    update = _click_recheck(pipeline, reply)
    assert update["ok"]
    _assert_no_live_markup(update["args"])
    assert "1/4 healthy" in update["args"]["text"]  # the /ok one
    second_round = hostile.targets[len(first_round) :]
    assert sorted(second_round) == sorted(first_round)  # the button's value gave back exactly the same URLs


def test_a_redirect_target_with_markup_is_posted_as_text(pipeline: Pipeline, hostile: HostileServer) -> None:
    pipeline.post(sr.mention(f"<@UBOT> check {hostile.url('/inject')} {hostile.url('/inject-error')}"))
    pipeline.drain()
    (reply,) = pipeline.replies()
    shown = _assert_no_live_markup(reply["args"])
    assert (
        "→ " + hostile.url("/x &lt;!here&gt; &lt;https://evil.example/login|Slack: session expired&gt;")
        in shown
    )
    assert "(redirect 1 to http://127.0.0.1:&lt;!everyone&gt;/)" in shown
    update = _click_recheck(pipeline, reply)
    _assert_no_live_markup(update["args"])


# --- 2. a header bomb -------------------------------------------------------------------------------


def test_a_header_bomb_is_an_error_and_the_worker_stays_small(
    pipeline: Pipeline, hostile: HostileServer
) -> None:
    pipeline.post(sr.mention("<@UBOT> ping"))
    pipeline.drain()  # warm up: AWS and Slack clients built before memory is traced
    urls = " ".join(hostile.url(f"/bomb?{n}") for n in range(5))
    pipeline.post(sr.mention(f"<@UBOT> check {urls}"))
    tracemalloc.start()
    try:
        (invocation,) = pipeline.drain()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    reply = pipeline.replies()[-1]
    assert reply["args"]["text"].count("response headers larger than 64 KiB") == 5
    assert invocation.seconds < 5.0
    # Before the cap this one message peaked at 180 MiB traced (each bomb is 5.6 MiB of head).
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


# --- 3. a hanging resolver --------------------------------------------------------------------------


@pytest.fixture
def hanging_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """`socket.getaddrinfo` hangs for names under `hang.invalid` (a broken resolver); others resolve."""
    real = socket.getaddrinfo
    release = threading.Event()
    asked: list[str] = []

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith("hang.invalid"):
            asked.append(host)
            release.wait(timeout=10)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    try:
        yield asked
    finally:
        release.set()
        for thread in threading.enumerate():
            if thread.name.startswith("dns-"):
                thread.join(timeout=5)


def test_a_hanging_resolver_does_not_hold_the_worker_past_its_deadline(
    pipeline: Pipeline, hanging_dns: list[str]
) -> None:
    pipeline.post(sr.mention("<@UBOT> check https://api.hang.invalid/health"))
    (message,) = pipeline.receive(wait=1)
    # A Lambda with a 5 s timeout: the worker's deadline is 4 s (1 s kept back to report the batch), the
    # check gets what is left less 2 s for the reply: 2 s.
    invocation = pipeline.invoke([message], timeout_seconds=5.0)
    assert hanging_dns == ["api.hang.invalid"]
    assert invocation.failed == []
    assert invocation.seconds < 4.0
    (reply,) = pipeline.replies()
    # About 2 s: what was left once the record was claimed (less under load), never the resolver's hang.
    waited = re.search(r"DNS lookup timed out after (\d+\.\d) s", reply["args"]["text"])
    assert waited is not None and 1.0 <= float(waited.group(1)) <= 2.0


# --- 4. fan-out ----------------------------------------------------------------------------------


def test_at_most_five_urls_and_three_redirects_each(pipeline: Pipeline, hostile: HostileServer) -> None:
    urls = [hostile.url("/loop")] + [hostile.url(f"/ok?{n}") for n in range(1, 8)]
    pipeline.post(sr.mention("<@UBOT> check " + " ".join(urls)))
    pipeline.drain()
    (reply,) = pipeline.replies()
    assert "checked the first 5 of 8 URLs" in reply["args"]["text"]
    assert "too many redirects (more than 3)" in reply["args"]["text"]
    assert sorted(hostile.targets) == sorted(["/loop"] * 4 + [f"/ok?{n}" for n in range(1, 5)])
    assert len(reply["args"]["blocks"][-1]["elements"][0]["value"].split()) == 5


@pytest.fixture
def mid_window(monkeypatch: pytest.MonkeyPatch) -> float:
    """`check`'s clock fixed in the middle of a rate window, so the test never straddles two windows."""
    window = check.RATE_LIMIT_WINDOW_SECONDS
    now = (time.time() // window) * window + window / 2
    monkeypatch.setattr(check, "time", types.SimpleNamespace(time=lambda: now))
    return now


def test_check_is_rate_limited_per_person(
    pipeline: Pipeline, hostile: HostileServer, mid_window: float
) -> None:
    for n in range(check.RATE_LIMIT + 1):
        pipeline.post(sr.mention(f"<@UBOT> check {hostile.url(f'/ok?{n}')}"))
    pipeline.post(sr.mention(f"<@UBOT> check {hostile.url('/ok?other')}", extra={"user": "U0OTHER"}))
    pipeline.drain()
    texts = pipeline.reply_texts()
    refused = [t for t in texts if "nothing was checked" in t]
    assert len(texts) == check.RATE_LIMIT + 2
    assert len(refused) == 1
    assert refused[0].startswith(":hourglass: `check` runs at most 10 times per person every 10 minutes")
    assert refused[0].endswith("Try again in 5 minutes.")
    assert len(hostile.targets) == check.RATE_LIMIT + 1  # ten of U0HUMAN's checks and U0OTHER's one

    healthy = next(r for r in pipeline.replies() if "1/1 healthy" in r["args"]["text"])
    update = _click_recheck(pipeline, healthy)  # a Re-check click counts as a check too
    assert "nothing was checked" in update["args"]["text"]
    assert len(hostile.targets) == check.RATE_LIMIT + 1

    window = int(mid_window // check.RATE_LIMIT_WINDOW_SECONDS)
    counter = StateTable(os.environ["STATE_TABLE"], boto3.client("dynamodb")).get(
        f"ratelimit:check:T0001:U0HUMAN:{window}"
    )
    assert counter is not None
    assert counter["count"] == check.RATE_LIMIT + 2
    assert counter["expiration"] == (window + 1) * check.RATE_LIMIT_WINDOW_SECONDS
