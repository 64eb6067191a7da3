"""The Slack stand-in, driven by the real slack_sdk clients over HTTP."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from sandbox.slack_standin import BOT_ID, TEAM_ID, SlackStandIn, format_reply, message_refusal


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as s:
        yield s


def client_for(standin: SlackStandIn, token: str | None = "xoxb-test") -> WebClient:
    # No retry handlers: every fault must reach the caller unchanged.
    return WebClient(token=token, base_url=standin.api_url, retry_handlers=[], timeout=5)


def http(
    standin: SlackStandIn, path: str, body: Any = None, *, form: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request to the stand-in with urllib; returns (status, headers, body), errors included."""
    data: bytes | None = None
    headers: dict[str, str] = {}
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(standin.base_url + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_urls_and_lifecycle() -> None:
    standin = SlackStandIn()
    assert standin.base_url == f"http://127.0.0.1:{standin.port}/"
    assert standin.api_url == standin.base_url + "api/"
    first, second = standin.new_response_url(), standin.new_response_url()
    assert first.startswith(standin.base_url + "response/") and first != second
    with standin:
        assert client_for(standin).auth_test()["ok"] is True
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(standin.api_url + "auth.test", timeout=2)
    standin.stop()  # idempotent


def test_post_message_is_recorded_with_args_and_thread_ts(standin: SlackStandIn) -> None:
    client = client_for(standin)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*pong*"}}]
    first = client.chat_postMessage(channel="C123", text="pong", blocks=blocks)
    second = client.chat_postMessage(channel="C123", text="in thread", thread_ts=first["ts"])

    assert first["ok"] is True and first["channel"] == "C123"
    assert first["message"]["text"] == "pong" and first["message"]["bot_id"] == BOT_ID
    assert first["ts"] == "1700000000.000100"
    assert float(second["ts"]) > float(first["ts"])
    assert second["message"]["thread_ts"] == first["ts"]

    calls = standin.calls(method="chat.postMessage")
    assert [c["seq"] for c in calls] == [1, 2]
    assert calls[0]["kind"] == "api" and calls[0]["path"] == "/api/chat.postMessage"
    assert calls[0]["args"] == {"channel": "C123", "text": "pong", "blocks": blocks}
    assert calls[0]["status"] == 200 and calls[0]["ok"] is True and calls[0]["error"] is None
    assert calls[1]["args"]["thread_ts"] == first["ts"]
    assert "token" not in calls[0]["args"]
    assert [r["seq"] for r in standin.replies()] == [1, 2]
    assert format_reply(calls[0]) == "#C123 ← pong"
    assert format_reply(calls[1]) == f"#C123 ← in thread (thread {first['ts']})"


def test_form_encoded_body_with_blocks_as_json_string(standin: SlackStandIn) -> None:
    blocks = [{"type": "section", "text": {"type": "plain_text", "text": "hi"}}]
    status, _, body = http(
        standin,
        "api/chat.postMessage",
        form={"token": "xoxb-form", "channel": "C1", "blocks": json.dumps(blocks)},
    )
    assert status == 200 and json.loads(body)["ok"] is True
    assert standin.calls()[0]["args"] == {"channel": "C1", "blocks": blocks}
    assert format_reply(standin.calls()[0]) == "#C1 ← hi"


def test_auth_test_and_token_checks() -> None:
    with SlackStandIn(valid_tokens={"xoxb-good"}) as standin:
        answer = client_for(standin, "xoxb-good").auth_test()
        assert answer["team_id"] == TEAM_ID and answer["user_id"] == "U0BOT" and answer["bot_id"] == BOT_ID
        assert {"url", "team", "user"} <= set(answer.data)

        with pytest.raises(SlackApiError) as invalid:
            client_for(standin, "xoxb-other").auth_test()
        assert invalid.value.response.status_code == 200
        assert invalid.value.response.data == {"ok": False, "error": "invalid_auth"}

        with pytest.raises(SlackApiError) as missing:
            client_for(standin, None).auth_test()
        assert missing.value.response["error"] == "not_authed"

        status, _, body = http(standin, "api/auth.test?token=xoxb-good")  # GET with query args
        assert status == 200 and json.loads(body)["user_id"] == "U0BOT"
        assert [c["error"] for c in standin.calls()] == [None, "invalid_auth", "not_authed", None]

    with SlackStandIn() as standin, pytest.raises(SlackApiError) as not_bot:
        client_for(standin, "xoxp-user-token").auth_test()
    assert not_bot.value.response["error"] == "invalid_auth"


def test_channel_errors_are_settable_at_run_time(standin: SlackStandIn) -> None:
    client = client_for(standin)
    standin.missing_channels.add("C404")
    standin.not_in_channels.add("C403")
    with pytest.raises(SlackApiError) as missing:
        client.chat_postMessage(channel="C404", text="x")
    assert missing.value.response.status_code == 200
    assert missing.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as not_in:
        client.chat_postMessage(channel="C403", text="x")
    assert not_in.value.response["error"] == "not_in_channel"
    _, _, no_text = http(
        standin, "api/chat.postMessage", form={"token": "xoxb-t", "channel": "C1", "text": ""}
    )
    assert json.loads(no_text) == {"ok": False, "error": "no_text"}

    assert standin.replies() == []
    assert [(c["ok"], c["error"]) for c in standin.calls()] == [
        (False, "channel_not_found"),
        (False, "not_in_channel"),
        (False, "no_text"),
    ]
    assert format_reply(standin.calls()[0]).endswith("[200 channel_not_found]")


def test_update_ephemeral_and_open(standin: SlackStandIn) -> None:
    client = client_for(standin)
    posted = client.chat_postMessage(channel="C1", text="working…")
    updated = client.chat_update(channel="C1", ts=posted["ts"], text="done")
    assert updated["ok"] is True and updated["ts"] == posted["ts"] and updated["message"]["text"] == "done"
    with pytest.raises(SlackApiError) as unknown:
        client.chat_update(channel="C1", ts="1.000001", text="nope")
    assert unknown.value.response["error"] == "message_not_found"
    with pytest.raises(SlackApiError) as other_channel:
        client.chat_update(channel="C2", ts=posted["ts"], text="nope")
    assert other_channel.value.response["error"] == "message_not_found"

    ephemeral = client.chat_postEphemeral(channel="C1", user="U42", text="only you")
    assert float(ephemeral["message_ts"]) > float(posted["ts"])

    dm = client.conversations_open(users="U42")["channel"]["id"]
    assert dm.startswith("D")
    assert client.conversations_open(users="U42")["channel"]["id"] == dm
    assert client.conversations_open(users="U43")["channel"]["id"] != dm

    replies = standin.replies()
    assert [r["method"] for r in replies] == ["chat.postMessage", "chat.update", "chat.postEphemeral"]
    assert format_reply(replies[1]) == f"#C1 ← (edit {posted['ts']}) done"
    assert format_reply(replies[2]) == "#C1 ← (only U42) only you"


def test_unknown_method_is_404(standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as e:
        client_for(standin).api_call("nothing.here")
    assert e.value.response.status_code == 404
    assert e.value.response.data == {"ok": False, "error": "unknown_method"}
    record = standin.calls()[0]
    assert (record["method"], record["status"], record["error"]) == ("nothing.here", 404, "unknown_method")


def test_429_with_retry_after_reaches_the_client(standin: SlackStandIn) -> None:
    client = client_for(standin)
    standin.add_fault(method="chat.postMessage", status=429, retry_after=7)
    client.auth_test()  # another method: not faulted
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C1", text="x")
    assert e.value.response.status_code == 429
    assert e.value.response.headers["Retry-After"] == "7"
    assert e.value.response["error"] == "ratelimited"
    assert client.chat_postMessage(channel="C1", text="x")["ok"] is True  # consumed
    assert [(c["status"], c["ok"]) for c in standin.calls(method="chat.postMessage")] == [
        (429, False),
        (200, True),
    ]


def test_5xx_and_200_error_faults(standin: SlackStandIn) -> None:
    client = client_for(standin)
    standin.add_fault(status=503)
    with pytest.raises(SlackApiError) as server_error:
        client.auth_test()
    assert server_error.value.response.status_code == 503
    assert standin.calls()[0]["error"] == "503 Service Unavailable"

    standin.add_fault(status=200, error="fatal_error", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as logical:
            client.chat_postMessage(channel="C1", text="x")
        assert logical.value.response.status_code == 200
        assert logical.value.response.data == {"ok": False, "error": "fatal_error"}
    assert client.chat_postMessage(channel="C1", text="x")["ok"] is True


def test_fail_every_third_call_until_cleared(standin: SlackStandIn) -> None:
    client = client_for(standin)
    standin.fail_every(3)
    failed = []
    for n in range(1, 8):
        try:
            client.chat_postMessage(channel="C1", text=str(n))
        except SlackApiError as e:
            assert e.response.status_code == 500
            failed.append(n)
    assert failed == [3, 6]
    standin.clear_faults()
    for _ in range(3):
        client.auth_test()


def test_faults_are_consumed_exactly_under_concurrency(standin: SlackStandIn) -> None:
    standin.add_fault(status=500, times=3)
    client = client_for(standin)

    def post(n: int) -> int:
        try:
            client.chat_postMessage(channel="C1", text=str(n))
        except SlackApiError as e:
            return int(e.response.status_code)
        return 200

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(post, range(16)))
    assert sorted(statuses).count(500) == 3 and statuses.count(200) == 13
    assert len(standin.calls()) == 16 and len(standin.replies()) == 13
    assert sorted(c["seq"] for c in standin.calls()) == list(range(1, 17))


def test_response_url_works_five_times_then_expires(standin: SlackStandIn) -> None:
    url = standin.new_response_url()
    webhook = WebhookClient(url, timeout=5)
    for n in range(5):
        response = webhook.send(text=f"answer {n}", response_type="in_channel", replace_original=True)
        assert (response.status_code, response.body) == (200, "ok")
    sixth = webhook.send(text="too late")
    assert (sixth.status_code, sixth.body) == (404, "expired_url")

    unknown = WebhookClient(standin.base_url + "response/nope", timeout=5).send(text="x")
    assert unknown.status_code == 404

    records = standin.calls(kind="response_url")
    assert len(records) == 7
    assert records[0]["args"] == {"text": "answer 0", "response_type": "in_channel", "replace_original": True}
    assert records[0]["method"] is None and records[0]["path"].startswith("/response/")
    assert [r["status"] for r in records] == [200] * 5 + [404, 404]
    assert records[5]["error"] == "expired_url"
    assert len(standin.replies()) == 5
    assert format_reply(records[0]) == "response_url ← answer 0 (in_channel, replace)"


def test_a_response_url_made_expired_answers_expired_url_at_once(standin: SlackStandIn) -> None:
    url, other = standin.new_response_url(), standin.new_response_url()
    standin.expire_response_url(url)
    assert (WebhookClient(url, timeout=5).send(text="late").status_code, standin.calls()[-1]["error"]) == (
        404,
        "expired_url",
    )
    assert WebhookClient(other, timeout=5).send(text="in time").status_code == 200  # only that one

    status, _, _ = http(standin, "sandbox/response_url", {"expire": other})
    assert status == 200 and WebhookClient(other, timeout=5).send(text="late").body == "expired_url"
    assert http(standin, "sandbox/response_url", {"expire": standin.base_url + "response/R9"})[0] == 400
    with pytest.raises(ValueError, match="not a response_url"):
        standin.expire_response_url(standin.base_url + "response/nope")


def test_post_ephemeral_refuses_like_slack(standin: SlackStandIn) -> None:
    client = client_for(standin)
    standin.missing_channels.add("C404")
    standin.users_not_in_channels.add("U0OUT")
    refusals = {}
    for channel, user in (("C404", "U1"), ("C1", "U0OUT"), ("C1", "")):
        with pytest.raises(SlackApiError) as refused:
            client.chat_postEphemeral(channel=channel, user=user, text="only you")
        refusals[(channel, user)] = refused.value.response["error"]
    assert refusals == {
        ("C404", "U1"): "channel_not_found",
        ("C1", "U0OUT"): "user_not_in_channel",
        ("C1", ""): "user_not_found",
    }
    http(standin, "sandbox/channels", {"users_not_in": ["U0GONE"]})
    assert standin.users_not_in_channels == {"U0GONE"}
    assert client.chat_postEphemeral(channel="C1", user="U0OUT", text="back")["ok"] is True
    with pytest.raises(SlackApiError):
        client.chat_postEphemeral(channel="C1", user="U0GONE", text="x")
    standin.reset()
    assert standin.users_not_in_channels == set()


def test_response_url_faults(standin: SlackStandIn) -> None:
    url = standin.new_response_url()
    standin.add_fault(method="response_url", status=500)
    client_for(standin).auth_test()  # a Web API call does not consume a response_url fault
    assert WebhookClient(url, timeout=5).send(text="x").status_code == 500
    assert WebhookClient(url, timeout=5).send(text="x").status_code == 200


def test_control_api_over_http(standin: SlackStandIn) -> None:
    client = client_for(standin)
    client.chat_postMessage(channel="C1", text="one")

    status, _, body = http(
        standin, "sandbox/faults", {"method": "chat.postMessage", "status": 429, "retry_after": 3}
    )
    assert status == 200 and json.loads(body) == {"ok": True}
    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel="C1", text="two")
    assert limited.value.response.headers["Retry-After"] == "3"

    http(standin, "sandbox/faults", {"every": 2, "status": 502})
    client.auth_test()
    with pytest.raises(SlackApiError):
        client.auth_test()
    http(standin, "sandbox/faults", {"clear": True})
    client.auth_test()
    client.auth_test()

    http(standin, "sandbox/channels", {"missing": ["C404"], "not_in": ["C403"]})
    assert standin.missing_channels == {"C404"} and standin.not_in_channels == {"C403"}
    with pytest.raises(SlackApiError) as missing:
        client.chat_postMessage(channel="C404", text="x")
    assert missing.value.response["error"] == "channel_not_found"

    status, _, body = http(standin, "sandbox/messages")
    messages = json.loads(body)["messages"]
    assert status == 200 and len(messages) == 7 and messages[0]["args"]["text"] == "one"
    _, _, body = http(standin, "sandbox/messages?since=5")
    assert [m["seq"] for m in json.loads(body)["messages"]] == [6, 7]

    status, _, _ = http(standin, "sandbox/faults", {"status": "not a number"})
    assert status == 400

    status, _, _ = http(standin, "sandbox/reset", {})
    assert status == 200
    assert standin.calls() == [] and standin.missing_channels == set()
    _, _, body = http(standin, "sandbox/messages")
    assert json.loads(body)["messages"] == []
    assert client.chat_postMessage(channel="C404", text="x")["ok"] is True
    assert standin.calls()[0]["seq"] == 8  # sequence numbers keep counting for ?since= pollers


def test_wait_for_across_threads(standin: SlackStandIn) -> None:
    client = client_for(standin)
    results: list[list[dict[str, Any]]] = []
    waiting = threading.Thread(
        target=lambda: results.append(
            standin.wait_for(lambda rs: any(r["args"].get("text") == "b" for r in rs))
        )
    )
    waiting.start()
    poster = threading.Thread(
        target=lambda: [client.chat_postMessage(channel="C1", text=t) for t in ("a", "b")]
    )
    poster.start()
    replies = standin.wait_for_replies(2, timeout=5)
    poster.join(5)
    waiting.join(5)
    assert [r["args"]["text"] for r in replies] == ["a", "b"]
    assert len(results) == 1 and [r["args"]["text"] for r in results[0]] == ["a", "b"]


def test_wait_for_times_out_with_a_summary(standin: SlackStandIn) -> None:
    standin.missing_channels.add("C404")
    with pytest.raises(SlackApiError):
        client_for(standin).chat_postMessage(channel="C404", text="lost")
    started = time.monotonic()
    with pytest.raises(TimeoutError) as e:
        standin.wait_for_replies(1, timeout=0.1)
    assert time.monotonic() - started < 2
    message = str(e.value)
    assert "1 replies" in message and "chat.postMessage" in message and "channel_not_found" in message


def test_on_record_callback_and_delay() -> None:
    seen: list[str] = []
    with SlackStandIn(on_record=lambda record: seen.append(format_reply(record))) as standin:
        standin.delay_seconds = 0.05
        started = time.monotonic()
        client_for(standin).chat_postMessage(channel="C9", text="hello\nworld")
        assert time.monotonic() - started >= 0.05
        assert seen == ["#C9 ← hello ⏎ world"]


def test_slow_target(standin: SlackStandIn) -> None:
    started = time.monotonic()
    status, _, body = http(standin, "sandbox/slow?ms=50&status=503")
    assert status == 503 and body.startswith(b"slow")
    assert time.monotonic() - started >= 0.05
    assert http(standin, "sandbox/slow?ms=0")[0] == 200
    assert standin.calls() == []  # not a Slack call


# -- Block Kit limits: refused as Slack refuses them ---------------------------------------------------


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(**fields: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": "a:b", "text": {"type": "plain_text", "text": "Go"}, **fields}


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


# (blocks at the limit: accepted, blocks one over: refused, the pointer Slack names)
AT_AND_OVER_THE_LIMIT = {
    "section text": ([section("s" * 3000)], [section("s" * 3001)], "/blocks/0/text/text", 3001),
    "blocks": ([section("x")] * 50, [section("x")] * 51, "/blocks", 51),
    "button value": (
        [{"type": "actions", "elements": [button(value="v" * 2000)]}],
        [{"type": "actions", "elements": [button(value="v" * 2001)]}],
        "/blocks/0/elements/0/value",
        2001,
    ),
    "button text": (
        [{"type": "section", "text": plain("s"), "accessory": button(text=plain("b" * 75))}],
        [{"type": "section", "text": plain("s"), "accessory": button(text=plain("b" * 76))}],
        "/blocks/0/accessory/text/text",
        76,
    ),
    "button url": (
        [{"type": "actions", "elements": [button(url="https://e.org/" + "u" * 2986)]}],
        [{"type": "actions", "elements": [button(url="https://e.org/" + "u" * 2987)]}],
        "/blocks/0/elements/0/url",
        3001,
    ),
    "header text": (
        [{"type": "header", "text": plain("h" * 150)}],
        [{"type": "header", "text": plain("h" * 151)}],
        "/blocks/0/text/text",
        151,
    ),
    "context element text": (
        [{"type": "context", "elements": [plain("c" * 3000)]}],
        [{"type": "context", "elements": [plain("c" * 3001)]}],
        "/blocks/0/elements/0/text",
        3001,
    ),
    "section field text": (
        [{"type": "section", "fields": [plain("f" * 2000)]}],
        [{"type": "section", "fields": [plain("f" * 2001)]}],
        "/blocks/0/fields/0/text",
        2001,
    ),
    "section fields": (
        [{"type": "section", "fields": [plain("f")] * 10}],
        [{"type": "section", "fields": [plain("f")] * 11}],
        "/blocks/0/fields",
        11,
    ),
    "actions elements": (
        [{"type": "actions", "elements": [button()] * 25}],
        [{"type": "actions", "elements": [button()] * 26}],
        "/blocks/0/elements",
        26,
    ),
}


@pytest.mark.parametrize("limit", AT_AND_OVER_THE_LIMIT)
def test_blocks_over_a_limit_are_refused_as_invalid_blocks(standin: SlackStandIn, limit: str) -> None:
    at_limit, over_limit, pointer, bound = AT_AND_OVER_THE_LIMIT[limit]
    client = client_for(standin)
    assert client.chat_postMessage(channel="C1", text="fallback", blocks=at_limit)["ok"] is True

    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C1", text="fallback", blocks=over_limit)
    answer = refused.value.response
    assert answer.status_code == 200 and answer["error"] == "invalid_blocks"
    unit = "items" if pointer.endswith(("/blocks", "/fields", "/elements")) else "characters"
    assert answer["errors"] == [f"must be less than {bound} {unit} [json-pointer:{pointer}]"]
    assert answer["response_metadata"]["messages"] == [f"[ERROR] {answer['errors'][0]}"]

    record = standin.calls(method="chat.postMessage")[-1]
    assert record["ok"] is False and record["error"] == "invalid_blocks"
    assert len(standin.replies()) == 1  # the refused message was never shown


def test_every_field_over_its_limit_is_listed(standin: SlackStandIn) -> None:
    blocks = [section("s" * 3001), {"type": "header", "text": plain("h" * 151)}]
    with pytest.raises(SlackApiError) as refused:
        client_for(standin).chat_postMessage(channel="C1", text="t", blocks=blocks)
    assert refused.value.response["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
        "must be less than 151 characters [json-pointer:/blocks/1/text/text]",
    ]


def test_message_text_over_40000_characters_is_msg_too_long(standin: SlackStandIn) -> None:
    client = client_for(standin)
    posted = client.chat_postMessage(channel="C1", text="t" * 40_000)
    client.chat_postEphemeral(channel="C1", user="U1", text="t" * 40_000)
    client.chat_update(channel="C1", ts=posted["ts"], text="u" * 40_000)
    for method in (client.chat_postMessage, client.chat_update, client.chat_postEphemeral):
        with pytest.raises(SlackApiError) as refused:
            method(channel="C1", ts=posted["ts"], user="U1", text="t" * 40_001)
        assert refused.value.response["error"] == "msg_too_long"
    assert len(standin.replies()) == 3


def test_too_much_text_in_all_the_blocks_is_msg_blocks_too_long(standin: SlackStandIn) -> None:
    client = client_for(standin)
    client.chat_postMessage(channel="C1", text="t", blocks=[section("s" * 2400)] * 5)  # 12,000
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C1", text="t", blocks=[section("s" * 2400)] * 5 + [section("x")])
    assert refused.value.response["error"] == "msg_blocks_too_long"


def test_response_url_refuses_over_limit_messages_with_400_and_the_code(standin: SlackStandIn) -> None:
    url = standin.new_response_url()
    webhook = WebhookClient(url, timeout=5)
    refused = webhook.send(text="t", blocks=[section("s" * 3001)])
    assert (refused.status_code, refused.body) == (400, "invalid_blocks")
    too_long = webhook.send(text="t" * 40_001)
    assert (too_long.status_code, too_long.body) == (400, "msg_too_long")
    for n in range(5):  # a refused post does not use up one of the five answers
        assert webhook.send(text=f"answer {n}", blocks=[section("s" * 3000)]).status_code == 200
    assert [r["error"] for r in standin.calls(kind="response_url")][:2] == ["invalid_blocks", "msg_too_long"]
    assert len(standin.replies()) == 5


def test_message_refusal_says_what_slack_would_answer() -> None:
    assert message_refusal({"text": "t", "blocks": [section("s" * 3000)]}) is None
    assert message_refusal({"text": "t" * 40_001}) == {"ok": False, "error": "msg_too_long"}
    refusal = message_refusal({"text": "t", "blocks": [section("s" * 3001)]})
    assert refusal is not None and refusal["error"] == "invalid_blocks"
    assert message_refusal({"text": "t", "blocks": {"type": "section"}}) == {
        "ok": False,
        "error": "invalid_blocks_format",
    }
