"""``slackbot say --shortcut / --submit / --home`` against a running sandbox, as a developer types them.

One sandbox for the module (each start costs seconds); ``slackbot`` runs in a process of its own with
nothing but the banner's ``export`` lines. The tests run in file order: the submissions need the modal
the shortcut test opens.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.sandbox_process import SandboxProcess, slackbot, start_sandbox

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    running = start_sandbox(tmp_path_factory.mktemp("say"))
    yield running
    running.stop()


def test_the_shortcut_opens_the_modal_and_say_prints_its_inputs(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    env = sandbox.exports()
    too_early = slackbot("say", "--submit", "incident:declare", "--field", "title=x", env=env, cwd=tmp_path)
    assert too_early.returncode == 2, too_early.stdout + too_early.stderr
    assert "has opened no modal 'incident:declare'" in too_early.stderr
    assert "slackbot say --shortcut incident:declare" in too_early.stderr

    said = slackbot("say", "--shortcut", "incident:declare", env=env, cwd=tmp_path)
    assert said.returncode == 0, said.stdout + said.stderr
    assert 'modal   → "Declare an incident" (callback_id incident:declare, view V' in said.stdout
    for line in (
        "title     Title: text, required, at most 80 characters",
        "severity  Severity: select, required, one of SEV1, SEV2, SEV3, SEV4",
        "service   Service: select, options as you type, optional",
        "summary   Summary: text, several lines, optional",
    ):
        assert line in said.stdout, said.stdout
    assert "slackbot say --submit incident:declare --field title=… --field severity=…" in said.stdout


def test_an_invalid_submission_prints_the_field_errors_and_exits_1(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    said = slackbot(
        "say", "--submit", "incident:declare", "--field", "severity=SEV9", env=sandbox.exports(), cwd=tmp_path
    )
    assert said.returncode == 1, said.stdout + said.stderr
    lines = said.stdout.splitlines()
    assert lines[0].startswith("ingest  → HTTP 200") and lines[0].endswith("the modal's field errors")
    assert any(line.strip().startswith("title: ") for line in lines[1:]), said.stdout
    assert any(line.strip().startswith("severity: ") and "SEV1" in line for line in lines[1:]), said.stdout
    assert not any(line.startswith(("bot", "no reply")) for line in lines), "nothing was queued to wait for"


def test_a_valid_submission_prints_the_announcement(sandbox: SandboxProcess, tmp_path: Path) -> None:
    said = slackbot(
        "say",
        "--submit",
        "incident:declare",
        "--field",
        "title=DB down",
        "--field",
        "severity=SEV2",
        "--field",
        "service=api",
        "--field",
        "summary=p99 <over> 5 s",
        env=sandbox.exports(),
        cwd=tmp_path,
    )
    assert said.returncode == 0, said.stdout + said.stderr
    announcement = said.stdout.split("bot     → ", 1)[1]
    assert "SEV2 incident: DB down" in announcement
    assert "api" in announcement and "p99 &lt;over&gt; 5 s" in announcement  # escaped by the skill
    assert "<@U0HUMAN>" in announcement and "[Resolve]" in announcement
    assert "conversations.open" not in said.stdout, "the announcement, not the DM opened for it"


def test_home_prints_the_home_tab_the_bot_publishes(sandbox: SandboxProcess, tmp_path: Path) -> None:
    said = slackbot("say", "--home", env=sandbox.exports(), cwd=tmp_path)
    assert said.returncode == 0, said.stdout + said.stderr
    assert "home    → the Home tab of U0HUMAN (views.publish)" in said.stdout
    assert "WHAT I CAN DO" in said.stdout and "HOW THE PIPELINE IS DOING" in said.stdout
    assert "`/incident`" in said.stdout and "shortcut `incident:declare`" in said.stdout
    assert "*Dead letters*: " in said.stdout
    assert all(len(line) <= 100 for line in said.stdout.splitlines()), said.stdout


def test_the_sandbox_offers_services_to_the_incident_forms_picker(sandbox: SandboxProcess) -> None:
    """Typing in the form's service picker: the ingest answers from SERVICES, which the sandbox fills."""
    import json
    import urllib.request

    from sandbox.slack_payloads import DEV_SIGNING_SECRET, block_suggestion, interaction, slack_headers

    body = interaction(block_suggestion("service", "PAY", view={"callback_id": "incident:declare"}))
    headers = slack_headers(body, secret=DEV_SIGNING_SECRET, content_type="application/x-www-form-urlencoded")
    url = sandbox.exports()["SANDBOX_URL"] + "/slack/events"
    with urllib.request.urlopen(
        urllib.request.Request(url, data=body, headers=headers), timeout=10
    ) as answer:
        options = json.loads(answer.read())["options"]
    assert [option["value"] for option in options] == ["payments"]
