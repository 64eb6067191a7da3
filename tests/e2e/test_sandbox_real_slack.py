"""``make run`` connected to real Slack: ``check`` refuses private networks unless the developer opts in.

The sandbox runs as a subprocess with a bot token and a signing secret (fake ones: nothing is sent
to Slack, because no event is posted) and its banner says which applies. The decision itself is
unit-tested in ``tests/unit/test_sandbox_private_networks.py``; this proves the wiring, ``.env``
included.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.moto import free_port

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def banner_of_sandbox(workdir: Path, extra_env: dict[str, str]) -> list[str]:
    """Start the sandbox in ``workdir``, read its banner up to ``ready``, stop it as Ctrl-C would."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "SLACK_", "QUEUE_URL", "DLQ_URL", "STATE_TABLE", "CHECK_"))
    }
    env.update(extra_env)
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(free_port())],
        cwd=workdir,
        env={**env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:  # ends when the sandbox exits, so a crash cannot hang the test
            lines.append(line.rstrip("\n"))
            if line.startswith("ready"):
                break
        assert lines and lines[-1].startswith("ready"), "\n".join(lines)
    finally:
        if process.poll() is None:
            os.killpg(os.getpgid(process.pid), signal.SIGINT)
        process.communicate(timeout=30)
    return lines


def private_networks_line(lines: list[str]) -> str:
    (line,) = [line for line in lines if line.strip().startswith("private networks")]
    return line


REAL_SLACK = {"SLACK_BOT_TOKEN": "xoxb-0000-fake", "SLACK_SIGNING_SECRET": "e2e-real-slack-secret-0123"}


def slack_line(lines: list[str]) -> str:
    (line,) = [line for line in lines if line.strip().startswith("Slack  ")]
    return line


def test_real_slack_mode_refuses_private_networks_and_says_so(tmp_path: Path) -> None:
    lines = banner_of_sandbox(tmp_path, REAL_SLACK)
    # What switched real Slack on, and from where.
    assert (
        "real Slack (SLACK_BOT_TOKEN from the environment and SLACK_SIGNING_SECRET from the environment)"
        in (slack_line(lines))
    )
    line = private_networks_line(lines)
    assert "refused" in line and "CHECK_ALLOW_PRIVATE_NETWORKS=true" in line


def test_a_developer_opt_in_in_dot_env_allows_them_and_the_banner_warns(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CHECK_ALLOW_PRIVATE_NETWORKS=true\n")
    line = private_networks_line(banner_of_sandbox(tmp_path, REAL_SLACK))
    assert "allowed" in line and "set by you" in line and "anyone in the workspace" in line


def test_the_stand_in_allows_them(tmp_path: Path) -> None:
    line = private_networks_line(banner_of_sandbox(tmp_path, {}))
    assert "allowed" in line and "only you" in line


def test_a_dot_env_with_only_the_token_says_the_secret_is_missing_and_the_stand_in_answers(
    tmp_path: Path,
) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-0000-fake\n")
    lines = banner_of_sandbox(tmp_path, {})
    line = slack_line(lines)
    assert (
        "the stand-in" in line and "SLACK_SIGNING_SECRET is missing (SLACK_BOT_TOKEN is set in .env)" in line
    )
    assert "allowed" in private_networks_line(lines)
