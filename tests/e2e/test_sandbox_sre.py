"""The sandbox guides the SRE: a message made to die is reported by ``say`` and found with the banner's exports.

One sandbox for the module (each start costs seconds). ``slackbot`` runs in a process of its own, in
a directory that is not the sandbox's, with nothing but the ``export`` lines the banner printed.
The configuration errors start no sandbox at all: each is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.support.sandbox_process import ROOT, SandboxProcess, clean_environment, slackbot, start_sandbox

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    running = start_sandbox(tmp_path_factory.mktemp("sre"), "--visibility-timeout", "10")
    yield running
    running.stop()


def post(url: str, data: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(url, data=json.dumps(data).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return dict(json.loads(answer.read()))


def test_the_banner_prints_every_variable_slackbot_needs_as_export_lines(sandbox: SandboxProcess) -> None:
    exports = sandbox.exports()
    needed = {
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "QUEUE_URL",
        "DLQ_URL",
        "STATE_TABLE",
        "SANDBOX_URL",
        "SLACK_SIGNING_SECRET",  # the development secret: public, so printed
    }
    assert needed <= set(exports), exports
    assert exports["AWS_ENDPOINT_URL"] == sandbox.banner_value("moto (AWS)")
    assert "10 s" in sandbox.banner_value("visibility timeout")
    sqs = boto3.client(
        "sqs",
        endpoint_url=exports["AWS_ENDPOINT_URL"],
        region_name=exports["AWS_REGION"],
        aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
    )
    attributes = sqs.get_queue_attributes(QueueUrl=exports["QUEUE_URL"], AttributeNames=["VisibilityTimeout"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "10"
    assert f"{exports['SANDBOX_URL']}/sandbox/faults" in "\n".join(sandbox.banner)


def test_a_fault_injected_through_the_sandbox_port_is_reported_by_say_and_found_with_the_exports(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    exports = sandbox.exports()
    fault = {"method": "chat.postMessage", "status": 200, "error": "not_in_channel"}
    assert post(f"{exports['SANDBOX_URL']}/sandbox/faults", fault)["ok"] is True

    said = slackbot("say", "ping", env=exports, cwd=tmp_path)
    assert said.returncode == 1, said.stdout + said.stderr
    assert "dead-lettered: slack error: not_in_channel" in said.stdout
    console = sandbox.wait_for_line("dead lettered")[-1]
    assert "not_in_channel" in console

    listed = slackbot("dlq", "list", "--json", env=exports, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (letter,) = [d for d in json.loads(listed.stdout) if "not_in_channel" in d["reason"]]
    assert letter["channel"] == "C0SANDBOX" and letter["category"] == "permanent"

    # The short id say printed (and the console shows) is a prefix of the source message's id, which the
    # worker's own dead-letter copy keeps as an attribute: dlq show finds it by that prefix.
    short_id = said.stdout.split("slackbot dlq show ", 1)[1].split()[0]
    assert len(short_id) == 8 and f"sqs {short_id}" in console
    shown = slackbot("dlq", "show", short_id, env=exports, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert letter["id"] in shown.stdout
    assert "slack error: not_in_channel" in shown.stdout and "C0SANDBOX" in shown.stdout


def test_a_slash_command_is_matched_to_its_reply_and_every_request_names_the_same_channel(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    exports = sandbox.exports()
    said = slackbot("say", "--command", "/ops", "ping", env=exports, cwd=tmp_path)
    assert said.returncode == 0, said.stdout + said.stderr
    assert "response_url ← pong" in said.stdout
    received = sandbox.wait_for_line("received")
    assert any("command /ops from U0HUMAN in C0SANDBOX" in line for line in received), received


def test_slackbot_finds_the_running_sandbox_by_itself_and_says_which(sandbox: SandboxProcess) -> None:
    stats = slackbot("queue", "stats", env={}, cwd=sandbox.workdir)
    assert stats.returncode == 0, stats.stderr
    assert f"using the sandbox at {sandbox.exports()['SANDBOX_URL']}" in stats.stderr
    assert (sandbox.workdir / ".sandbox" / "state.json").stat().st_mode & 0o777 == 0o600


def test_stopping_removes_the_state_file_and_slackbot_no_longer_finds_it(sandbox: SandboxProcess) -> None:
    state = sandbox.workdir / ".sandbox" / "state.json"
    kept = state.read_text()
    assert "testing" not in kept and "signing-secret" not in kept, "no credential or secret in the state file"
    assert sandbox.stop() == 0
    assert not state.exists()
    state.write_text(kept)  # as a killed sandbox would leave it: stale
    listed = slackbot("dlq", "list", env={}, cwd=sandbox.workdir)
    assert listed.returncode == 2 and "not configured" in listed.stderr, listed.stderr
    assert "using the sandbox" not in listed.stderr


# ----- configuration errors: one line each --------------------------------------------------------


def start_with(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        cwd=ROOT,
        env=clean_environment(**environment),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize("port", ["abc", "70000", "-1"])
def test_a_port_that_is_not_a_port_is_one_line(port: str) -> None:
    assert_one_line(start_with({"PORT": port}), f"PORT={port}", "not a port number")


def test_a_port_in_use_is_one_line_naming_it_and_suggesting_another() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = start_with({"PORT": str(port)})
    assert_one_line(result, f"port {port}", "in use", "PORT=")


def test_a_privileged_port_without_the_right_is_one_line() -> None:
    if int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text()) <= 80:
        pytest.skip("this machine lets anyone listen on port 80")
    command = [sys.executable, "-m", "sandbox"]
    if os.geteuid() == 0:  # root may listen anywhere: try as nobody
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv to drop the right")
        command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    result = subprocess.run(
        command,
        cwd="/",
        env=clean_environment(PORT="80"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert_one_line(result, "port 80", "PORT=")


def test_make_run_adds_only_its_own_error_line() -> None:
    make = shutil.which("make")
    if make is None or not (ROOT / ".venv" / ".installed-stamp").exists():
        pytest.skip("make or the installed .venv is missing")
    result = subprocess.run(
        [make, "--no-print-directory", "run", "PORT=abc"],
        cwd=ROOT,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0 and result.stdout == "", result.stdout
    ours = [line for line in result.stderr.splitlines() if not line.startswith("make")]
    assert ours == ["sandbox: PORT=abc is not a port number (0-65535)"], result.stderr
