"""``python -m sandbox`` as a subprocess, as a developer starts it with ``make run``, for end-to-end tests.

The environment is cleaned of anything AWS or Slack, so the sandbox is configured only by what the
test passes; its output is read in a thread (the banner up to ``ready``, then the console).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.moto import free_port

ROOT = Path(__file__).resolve().parents[2]
EXPORT = re.compile(r"^export ([A-Z_][A-Z0-9_]*)=(\S*)$")
_OURS = ("AWS_", "SLACK_", "QUEUE_URL", "DLQ_URL", "STATE_TABLE", "SANDBOX_", "CHECK_", "PORT", "MOTO_PORT")


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without anything that configures AWS, Slack or the sandbox."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(_OURS)}
    env.update({"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


@dataclass
class SandboxProcess:
    process: subprocess.Popen[str]
    workdir: Path
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    exited: threading.Event = field(default_factory=threading.Event)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
            if line.startswith("ready"):
                self.ready.set()
        self.exited.set()
        with self._changed:
            self._changed.notify_all()

    @property
    def banner(self) -> list[str]:
        return self.lines[: next(i for i, line in enumerate(self.lines) if line.startswith("ready")) + 1]

    def exports(self) -> dict[str, str]:
        """The banner's ``export NAME=value`` lines, as a shell would set them."""
        return {m.group(1): m.group(2) for m in map(EXPORT.match, self.banner) if m}

    def banner_value(self, label: str) -> str:
        return next(line.split(label, 1)[1].strip() for line in self.banner if label in line)

    def wait_for_line(self, text: str, count: int = 1, timeout: float = 30) -> list[str]:
        """The console lines containing ``text``, once there are ``count`` of them (waits for them)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [line for line in self.lines if text in line]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or self.exited.is_set():
                    raise AssertionError(f"fewer than {count} lines with {text!r}:\n" + "\n".join(self.lines))
                self._changed.wait(left)

    def stop(self) -> int:
        """Ctrl-C, as a terminal sends it to the foreground process group; the exit code."""
        if self.process.poll() is None:
            os.killpg(os.getpgid(self.process.pid), signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start_sandbox(workdir: Path, *args: str, env: dict[str, str] | None = None) -> SandboxProcess:
    """Start ``python -m sandbox`` in ``workdir`` on a free port and wait until it is ready."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(free_port()), *args],
        cwd=workdir,
        env=env if env is not None else clean_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    running = SandboxProcess(process, workdir)
    threading.Thread(target=running.read_output, daemon=True).start()
    if not running.ready.wait(60):
        running.stop()
        raise AssertionError("the sandbox did not get ready:\n" + "\n".join(running.lines))
    return running


def slackbot(
    *argv: str, env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The ``slackbot`` command in a process of its own, with exactly ``env`` (plus PATH and PYTHONPATH)."""
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", *argv],
        cwd=cwd,
        env={**base, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
