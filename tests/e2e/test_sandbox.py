"""``make run`` end to end: the sandbox as a subprocess, spoken to over real HTTP as Slack would."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sandbox import slack_payloads as payloads
from sandbox.moto import free_port
from sandbox.slack_standin import BOT_USER_ID

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-signing-secret-0123456789"


@dataclass
class Sandbox:
    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    exited: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("ready"):
                self.ready.set()
        self.exited.set()

    def banner_value(self, label: str) -> str:
        return next(line.split(label, 1)[1].strip() for line in self.lines if label in line)

    def post(self, body: bytes, content_type: str = "application/json", **kw: Any) -> tuple[int, str]:
        headers = payloads.slack_headers(body, secret=SECRET, content_type=content_type, **kw)
        request = urllib.request.Request(
            f"{self.url}/slack/events", data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def messages(self, since: int = 0, wait: float = 0) -> list[dict[str, Any]]:
        with urllib.request.urlopen(
            f"{self.url}/sandbox/messages?since={since}&wait={wait}", timeout=40
        ) as response:
            return list(json.loads(response.read())["messages"])

    def replies_after(self, since: int, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        """Long-poll the sandbox until ``count`` replies newer than ``since`` are there."""
        replies: list[dict[str, Any]] = []
        seen = since
        for _ in range(int(timeout)):
            batch = self.messages(seen, wait=1)
            replies += [m for m in batch if m["ok"] and m["method"] != "auth.test"]
            seen = max([seen] + [m["seq"] for m in batch])
            if len(replies) >= count:
                return replies
        return replies


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "SLACK_", "QUEUE_URL", "DLQ_URL", "STATE_TABLE"))
    }
    env.update({"SLACK_SIGNING_SECRET": SECRET, "PYTHONUNBUFFERED": "1"})
    workdir = tmp_path_factory.mktemp("sandbox")  # no stray .env
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port)],
        cwd=workdir,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    running = Sandbox(process, port)
    threading.Thread(target=running.read_output, daemon=True).start()
    if not running.ready.wait(60):
        process.kill()
        pytest.fail("the sandbox did not get ready:\n" + "\n".join(running.lines))
    yield running
    if process.poll() is None:
        process.kill()
        process.wait()


def test_a_mention_a_dm_and_a_slash_command_are_answered_once_each(sandbox: Sandbox) -> None:
    since = max([0] + [m["seq"] for m in sandbox.messages()])
    status, _ = sandbox.post(
        payloads.mention(f"<@{BOT_USER_ID}> ping", channel="C0E2E", bot_user=BOT_USER_ID)
    )
    assert status == 200
    status, _ = sandbox.post(payloads.direct_message("help", channel="D0E2E", bot_user=BOT_USER_ID))
    assert status == 200
    response_url = json.loads(
        urllib.request.urlopen(
            urllib.request.Request(f"{sandbox.url}/sandbox/response_url", method="POST", data=b""), timeout=5
        ).read()
    )["response_url"]
    status, ack = sandbox.post(
        payloads.slash_command("ping", command="/ops", response_url=response_url),
        "application/x-www-form-urlencoded",
    )
    assert status == 200 and json.loads(ack)["response_type"] == "ephemeral"
    replies = sandbox.replies_after(since, 3)
    by_place = {(r["args"].get("channel") or r["path"]): r for r in replies}
    assert len(replies) == 3, replies
    assert by_place["C0E2E"]["args"]["text"].startswith("pong")
    assert "`check`" in by_place["D0E2E"]["args"]["text"]
    assert by_place[urllib.parse.urlsplit(response_url).path]["args"]["text"].startswith("pong")


def test_a_modal_command_opens_its_modal_with_a_trigger_the_sandbox_issued(sandbox: Sandbox) -> None:
    since = max([0] + [m["seq"] for m in sandbox.messages()])
    minted = {}
    for name in ("response_url", "trigger_id"):
        request = urllib.request.Request(f"{sandbox.url}/sandbox/{name}", method="POST", data=b"")
        minted[name] = json.loads(urllib.request.urlopen(request, timeout=5).read())[name]
    body = payloads.slash_command("", command="/incident", **minted)
    assert sandbox.post(body, "application/x-www-form-urlencoded")[0] == 200
    opened = [r for r in sandbox.replies_after(since, 1) if r["method"] == "views.open"]
    assert len(opened) == 1 and opened[0]["args"]["view"]["callback_id"] == "incident:declare"


def test_slack_retrying_a_delivery_still_gets_one_reply(sandbox: Sandbox) -> None:
    since = max([0] + [m["seq"] for m in sandbox.messages()])
    body = payloads.mention(
        f"<@{BOT_USER_ID}> ping", channel="C0RETRY", event_id="Ev0E2ERETRY", bot_user=BOT_USER_ID
    )
    for retry in (None, 1, 2):
        assert sandbox.post(body, retry_num=retry)[0] == 200
    follow_up = payloads.mention(f"<@{BOT_USER_ID}> ping", channel="C0AFTER", bot_user=BOT_USER_ID)
    assert sandbox.post(follow_up)[0] == 200
    # The follow-up was sent last: once it is answered, the retries have been processed too.
    replies = sandbox.replies_after(since, 2)
    channels = [r["args"]["channel"] for r in replies]
    assert "C0AFTER" in channels
    assert channels.count("C0RETRY") == 1, channels


def test_a_forged_request_is_refused_and_never_answered(sandbox: Sandbox) -> None:
    body = payloads.mention(f"<@{BOT_USER_ID}> ping", channel="C0FORGED", bot_user=BOT_USER_ID)
    headers = payloads.slack_headers(body, secret="not-the-secret", content_type="application/json")
    request = urllib.request.Request(f"{sandbox.url}/slack/events", data=body, headers=headers, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401 and refused.value.headers["X-Slack-No-Retry"] == "1"
    assert all(m["args"].get("channel") != "C0FORGED" for m in sandbox.messages())


def test_slackbot_say_prints_the_reply(sandbox: Sandbox) -> None:
    env = {**os.environ, "SLACK_SIGNING_SECRET": SECRET}
    out = subprocess.run(
        [sys.executable, "-m", "ops.cli", "say", "--url", sandbox.url, "--dm", "ping"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "HTTP 200" in out.stdout and "#D0SANDBOX ← pong" in out.stdout


def test_the_console_shows_every_hop(sandbox: Sandbox) -> None:
    text = "\n".join(sandbox.lines)
    for hop in ("received", "queued", "picked up", "slack", "answered"):
        assert f"  {hop}" in text, text


def test_ctrl_c_stops_everything_and_frees_the_ports(sandbox: Sandbox) -> None:
    moto_port = int(sandbox.banner_value("moto (AWS)").rsplit(":", 1)[1])
    children = _children(sandbox.process.pid)
    assert children, "moto should run as a child process"
    # Ctrl-C in a terminal signals the whole foreground process group, not only the sandbox
    os.killpg(os.getpgid(sandbox.process.pid), signal.SIGINT)
    assert sandbox.process.wait(timeout=30) == 0
    assert sandbox.exited.wait(10)
    assert sandbox.lines[-1] == "stopped"
    assert not [line for line in sandbox.lines if "receive failed" in line], "moto died under the pollers"
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid), f"child {pid} outlived the sandbox"
    for port in (sandbox.port, moto_port):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        with socket.socket() as probe:
            # SO_REUSEADDR tolerates closed connections in TIME_WAIT, not a listener
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _is_zombie(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
