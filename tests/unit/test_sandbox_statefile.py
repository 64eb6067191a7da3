"""``.sandbox/state.json``: written private, found from below, ignored once stale, never a secret in it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import statefile
from sandbox.slack_payloads import DEV_SIGNING_SECRET


@pytest.fixture
def listening() -> Iterator[int]:
    """A port that answers, as a running sandbox's does."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield int(server.getsockname()[1])


def state(port: int, pid: int | None = None, dev: bool = True) -> statefile.SandboxState:
    return statefile.SandboxState(
        pid=os.getpid() if pid is None else pid,
        url=f"http://127.0.0.1:{port}",
        aws_endpoint_url="http://127.0.0.1:5000",
        region="us-east-1",
        queue_url="http://127.0.0.1:5000/123456789012/slackbot-sandbox-work",
        dlq_url="http://127.0.0.1:5000/123456789012/slackbot-sandbox-dlq",
        table="slackbot-sandbox-state",
        dev_signing_secret=dev,
        started_at=1_700_000_000.0,
    )


def finished_pid() -> int:
    process = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    return int(process.stdout)


def test_it_is_written_private_and_found_from_a_subdirectory(tmp_path: Path, listening: int) -> None:
    path = statefile.write(tmp_path, state(listening))
    assert path == tmp_path / ".sandbox" / "state.json"
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    below = tmp_path / "ops" / "deeper"
    below.mkdir(parents=True)
    found = statefile.find(below)
    assert found is not None and found[0] == state(listening) and found[1] == path


def test_a_stale_file_is_ignored_process_gone_or_port_closed(tmp_path: Path, listening: int) -> None:
    statefile.write(tmp_path, state(listening, pid=finished_pid()))
    assert statefile.find(tmp_path) is None
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        statefile.write(tmp_path, state(port))
        assert statefile.find(tmp_path) is None


def test_a_sandbox_removes_only_its_own_file(tmp_path: Path, listening: int) -> None:
    path = statefile.write(tmp_path, state(listening, pid=os.getpid() + 1))
    statefile.remove(path, os.getpid())
    assert path.exists(), "a later sandbox's file must stay"
    statefile.write(tmp_path, state(listening))
    statefile.remove(path, os.getpid())
    assert not path.exists()


def test_exports_are_plain_lines_and_the_secret_only_when_it_is_the_public_one(listening: int) -> None:
    lines = statefile.exports(state(listening))
    assert all(re.fullmatch(r"export [A-Z_]+=\S+", line) for line in lines), lines
    assert f"export SLACK_SIGNING_SECRET={DEV_SIGNING_SECRET}" in lines
    assert not any("SLACK_SIGNING_SECRET" in line for line in statefile.exports(state(listening, dev=False)))
    names = {line.split("=", 1)[0].removeprefix("export ") for line in lines}
    assert {"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID"} <= names
    assert {"AWS_SECRET_ACCESS_KEY", "QUEUE_URL", "DLQ_URL", "STATE_TABLE", "SANDBOX_URL"} <= names


def test_the_file_holds_no_secret(tmp_path: Path, listening: int) -> None:
    text = statefile.write(tmp_path, state(listening)).read_text()
    assert DEV_SIGNING_SECRET not in text and "testing" not in text
