"""``python -m sandbox``'s settings: each mistake is one line naming what to change."""

from __future__ import annotations

import argparse
import json
import socket
import urllib.parse

import pytest

from ops import cli, say
from sandbox import resources
from sandbox.__main__ import options_from, parser
from sandbox.slack_standin import BOT_USER_ID, TEAM_ID
from sandbox.stack import Options, SandboxError, _fault_defaults, check_port, slack_mode


def options(*argv: str, **environ: str) -> Options:
    return options_from(parser().parse_args(list(argv)), environ)


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        ((), {"PORT": "abc"}, "PORT=abc is not a port number (0-65535)"),
        ((), {"PORT": "70000"}, "PORT=70000 is not a port number (0-65535)"),
        (("--port", "x1"), {}, "--port x1 is not a port number (0-65535)"),
        ((), {"MOTO_PORT": "65536"}, "MOTO_PORT=65536 is not a port number (0-65535)"),
        (("--visibility-timeout", "2"), {}, "--visibility-timeout 2 is not a number of seconds (5-43200)"),
        (
            (),
            {"SANDBOX_VISIBILITY_TIMEOUT": "soon"},
            "SANDBOX_VISIBILITY_TIMEOUT=soon is not a number of seconds",
        ),
    ],
)
def test_a_wrong_setting_is_one_line_naming_it(
    argv: tuple[str, ...], environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SandboxError) as wrong:
        options(*argv, **environ)
    assert str(wrong.value).startswith(message) and "\n" not in str(wrong.value)


def test_the_visibility_timeout_comes_from_the_option_else_the_variable_else_the_template() -> None:
    assert options().visibility_timeout_seconds == resources.VISIBILITY_TIMEOUT_SECONDS
    assert options(SANDBOX_VISIBILITY_TIMEOUT="10").visibility_timeout_seconds == 10
    assert (
        options("--visibility-timeout", "20", SANDBOX_VISIBILITY_TIMEOUT="10").visibility_timeout_seconds
        == 20
    )
    assert options(PORT="3001").port == 3001 and options("--port", "3002", PORT="3001").port == 3002


def test_a_port_in_use_names_it_and_suggests_a_free_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SandboxError) as in_use:
            check_port("127.0.0.1", port)
    message = str(in_use.value)
    assert f"port {port} is already in use" in message
    suggested = int(message.split("PORT=")[1].split()[0])
    assert suggested != port
    check_port("127.0.0.1", suggested)  # and it is free


@pytest.mark.parametrize(
    ("environ", "env_file", "real", "words"),
    [
        (
            {},
            {"SLACK_BOT_TOKEN": "xoxb-1"},
            False,
            ["SLACK_SIGNING_SECRET is missing", "SLACK_BOT_TOKEN is set in .env", "stand-in"],
        ),
        (
            {"SLACK_SIGNING_SECRET": "s"},
            {},
            False,
            ["SLACK_BOT_TOKEN is missing", "the environment", "stand-in"],
        ),
        (
            {"SLACK_SIGNING_SECRET": "s"},
            {"SLACK_BOT_TOKEN": "xoxb-1"},
            True,
            ["SLACK_BOT_TOKEN from .env", "SLACK_SIGNING_SECRET from the environment"],
        ),
        ({}, {}, False, ["neither SLACK_BOT_TOKEN nor SLACK_SIGNING_SECRET"]),
        ({"SLACK_BOT_TOKEN": " "}, {"SLACK_SIGNING_SECRET": "s"}, False, ["SLACK_BOT_TOKEN is missing"]),
    ],
)
def test_the_banner_says_what_switched_real_slack_on_or_what_is_missing(
    environ: dict[str, str], env_file: dict[str, str], real: bool, words: list[str]
) -> None:
    mode = slack_mode(environ, env_file, ".env")
    assert mode.real is real
    for word in words:
        assert word in mode.why, mode.why


def test_a_fault_with_an_error_and_no_status_is_slacks_usual_refusal() -> None:
    assert json.loads(_fault_defaults(b'{"error": "not_in_channel"}')) == {
        "error": "not_in_channel",
        "status": 200,
    }
    assert json.loads(_fault_defaults(b'{"error": "x", "status": 429}'))["status"] == 429
    assert json.loads(_fault_defaults(b'{"status": 503}')) == {"status": 503}
    assert _fault_defaults(b"not json") == b"not json"


def test_say_sends_every_kind_from_the_same_team_channel_and_bot_and_matches_a_command_by_trigger_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        say, "_get_json", lambda url, method="GET": {"response_url": "http://127.0.0.1:1/response/R1"}
    )
    command = say._request(say_args("ping", command="/ops"), "http://127.0.0.1:1", {})
    form = dict(urllib.parse.parse_qsl(command.body.decode()))
    assert (form["channel_id"], form["team_id"]) == ("C0SANDBOX", TEAM_ID)
    assert (
        command.correlation_id == f"command:{form['trigger_id']}" and command.response_path == "/response/R1"
    )
    mention = json.loads(say._request(say_args("ping"), "http://127.0.0.1:1", {}).body)
    direct = json.loads(say._request(say_args("ping", dm=True), "http://127.0.0.1:1", {}).body)
    for event in (mention, direct):
        assert event["team_id"] == TEAM_ID
        assert event["authorizations"][0]["user_id"] == BOT_USER_ID
    assert mention["event"]["channel"] == "C0SANDBOX" and mention["event"]["text"].startswith(
        f"<@{BOT_USER_ID}>"
    )


def say_args(text: str, command: str | None = None, dm: bool = False) -> argparse.Namespace:
    return cli.parser().parse_args(
        ["say", text, *(["--command", command] if command else []), *(["--dm"] if dm else [])]
    )
