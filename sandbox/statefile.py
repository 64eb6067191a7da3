"""Where a running sandbox can be found: ``.sandbox/state.json`` in the directory ``make run`` ran in.

The sandbox writes the file when it is ready and removes it when it stops; ``slackbot`` reads it when
none of ``QUEUE_URL``, ``DLQ_URL``, ``STATE_TABLE`` and ``AWS_ENDPOINT_URL`` is set, looking in the
current directory and its parents (as git finds ``.git``), so that every command works against the
sandbox with nothing exported. It holds addresses and names only, never a secret: moto's fake
credentials are not one, and the signing secret is recorded only as "the development one or not".
A file whose process is gone, or whose port no longer answers, is stale and ignored.

The same values make the banner's ``export NAME=value`` lines (``exports``), for a shell elsewhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sandbox.moto import AWS_TEST_ENV
from sandbox.slack_payloads import DEV_SIGNING_SECRET

DIRECTORY = ".sandbox"
NAME = "state.json"


@dataclass(frozen=True)
class SandboxState:
    pid: int
    url: str  # the sandbox's own port: /slack/events, /sandbox/…
    aws_endpoint_url: str  # moto
    region: str
    queue_url: str
    dlq_url: str
    table: str
    dev_signing_secret: bool  # whether requests are checked with the public development secret
    started_at: float

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 80

    def aws_environment(self) -> dict[str, str]:
        """What boto3 and the SRE commands need to reach this sandbox's moto, queues and table."""
        return {
            "AWS_ENDPOINT_URL": self.aws_endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": AWS_TEST_ENV["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"],
            "AWS_SESSION_TOKEN": AWS_TEST_ENV["AWS_SESSION_TOKEN"],
            "QUEUE_URL": self.queue_url,
            "DLQ_URL": self.dlq_url,
            "STATE_TABLE": self.table,
        }

    def environment(self) -> dict[str, str]:
        """Every variable the ``slackbot`` commands read, for this sandbox (the secret only if public)."""
        values = {**self.aws_environment(), "SANDBOX_URL": self.url}
        if self.dev_signing_secret:
            values["SLACK_SIGNING_SECRET"] = DEV_SIGNING_SECRET
        return values


def exports(state: SandboxState) -> list[str]:
    """``export NAME=value`` lines, one per variable, ready to paste into a shell."""
    return [f"export {name}={shlex.quote(value)}" for name, value in state.environment().items()]


def path_in(directory: Path) -> Path:
    return directory / DIRECTORY / NAME


def write(directory: Path, state: SandboxState) -> Path:
    """Write the state file (mode 0600, in a 0700 directory) atomically; returns its path."""
    target = path_in(directory)
    target.parent.mkdir(mode=0o700, exist_ok=True)
    temporary = target.with_name(f".{NAME}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(asdict(state), file, indent=2)
        file.write("\n")
    os.replace(temporary, target)  # a reader sees the old file or the new one, never half of one
    return target


def remove(path: Path, pid: int) -> None:
    """Remove the state file if it is still this process's (a later sandbox may have replaced it)."""
    state = read(path)
    if state is not None and state.pid == pid:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def read(path: Path) -> SandboxState | None:
    """The state in ``path``, or None if there is none or it cannot be read."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        return SandboxState(**data)
    except (OSError, ValueError, TypeError):
        return None


def find(start: Path | None = None) -> tuple[SandboxState, Path] | None:
    """The live sandbox whose state file is in ``start`` (default: the current directory) or a parent."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        path = path_in(directory)
        state = read(path) if path.is_file() else None
        if state is not None and is_live(state):
            return state, path
    return None


def is_live(state: SandboxState, timeout: float = 0.5) -> bool:
    """Whether the process that wrote ``state`` still runs and its port still answers."""
    try:
        os.kill(state.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process with that pid: the port decides
    try:
        with socket.create_connection(state.address, timeout=timeout):
            return True
    except OSError:
        return False


def describe(state: SandboxState, path: Path) -> str:
    """How ``slackbot`` names the sandbox it used, e.g. on stderr."""
    started = time.strftime("%H:%M:%S", time.localtime(state.started_at))
    return f"the sandbox at {state.url} (pid {state.pid}, started {started}; {path})"
