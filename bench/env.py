"""The local world the benchmarks run in: moto in server mode, the pipeline's resources, the Slack stand-in.

``BenchEnv`` starts moto as a subprocess (boto3 reaches it over real HTTP through
``AWS_ENDPOINT_URL``), creates the work queue, dead-letter queue and state table as the sandbox does,
and starts the Slack stand-in in this process. It sets the environment the functions read, in this
process (for warm measurements) and for the fresh processes of the cold probes.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from sandbox import resources
from sandbox.moto import AWS_TEST_ENV, MotoServer
from sandbox.slack_standin import SlackStandIn

ROOT = Path(__file__).resolve().parent.parent
PROBES = Path(__file__).resolve().parent / "probes"
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-bench-token"

# What a deployed function's environment has, minus the secrets' ARNs: read by ingest and worker.
_CLEARED = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET_ARN", "SLACK_BOT_TOKEN_ARN", "PYTHONDONTWRITEBYTECODE")


@dataclass
class ProcessResult:
    result: dict[str, Any]  # the probe's BENCH_RESULT
    wall_ms: float  # from spawn to exit, seen from this process
    maxrss_kib: int  # the child's peak resident memory in KiB (its VmHWM, as the probe reports it)
    stdout: str
    stderr: str
    cpu_ms: float = float("nan")  # user + system CPU time of the whole process (``wait4``)


class ProbeFailed(RuntimeError):
    pass


class BenchEnv:
    def __init__(self) -> None:
        self.moto: MotoServer | None = None
        self.slack: SlackStandIn | None = None
        self.resources: resources.Resources | None = None
        self.sqs: Any = None
        self._queues: list[str] = []

    def start(self) -> BenchEnv:
        for name in _CLEARED:
            os.environ.pop(name, None)
        os.environ.update(AWS_TEST_ENV)  # moto's fake credentials: never real AWS
        self.moto = MotoServer().start()
        os.environ["AWS_ENDPOINT_URL"] = self.moto.url
        self.sqs = boto3.client("sqs")
        self.resources = resources.create("bench", self.sqs, boto3.client("dynamodb"))
        self.slack = SlackStandIn().start()
        os.environ.update(self.resources.env())
        os.environ.update(
            {
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": self.slack.api_url,
                "CHECK_ALLOW_PRIVATE_NETWORKS": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
            }
        )
        return self

    def stop(self) -> None:
        if self.slack is not None:
            self.slack.stop()
        if self.moto is not None:
            self.moto.stop()

    def __enter__(self) -> BenchEnv:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- queues --------------------------------------------------------------------------------------

    def new_queue(self, prefix: str = "bench") -> str:
        """A fresh, empty queue: moto's send and receive slow down as a queue grows."""
        url = str(self.sqs.create_queue(QueueName=f"{prefix}-{uuid.uuid4().hex[:12]}")["QueueUrl"])
        self._queues.append(url)
        return url

    def drop_queue(self, url: str) -> None:
        with contextlib.suppress(Exception):
            self.sqs.delete_queue(QueueUrl=url)

    def receive_all(self, url: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Exactly ``count`` messages from ``url`` (they were just sent there)."""
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(messages) < count and time.monotonic() < deadline:
            answer = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(10, count - len(messages)),
                WaitTimeSeconds=1,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            messages += answer.get("Messages", [])
        if len(messages) < count:
            raise ProbeFailed(f"expected {count} messages on {url}, got {len(messages)}")
        return messages

    # -- fresh processes -------------------------------------------------------------------------------

    def run_probe(
        self,
        command: list[str],
        *,
        job: str = "",
        extra_env: dict[str, str] | None = None,
        timeout: float = 60.0,
        expect_result: bool = True,
    ) -> ProcessResult:
        """Run a probe in a fresh process and read its ``BENCH_RESULT`` line, wall time and peak memory."""
        # PYTHONPATH: the probes import their helpers as ``bench.probes.*``.
        env = {**os.environ, **(extra_env or {}), "BENCH_JOB": job, "PYTHONPATH": str(ROOT)}
        return run_process(command, env=env, timeout=timeout, expect_result=expect_result)


def run_process(
    command: list[str], *, env: dict[str, str], timeout: float = 60.0, expect_result: bool = True
) -> ProcessResult:
    """Spawn, wait for the exit, read the probe's result line."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=ROOT
        )
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            watchdog.cancel()
        wall_ms = (time.perf_counter() - started) * 1000
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode("utf-8", "replace")
        errors = err.read().decode("utf-8", "replace")
    lines = [line for line in text.splitlines() if line.startswith("BENCH_RESULT ")]
    if process.returncode != 0 or (expect_result and not lines):
        raise ProbeFailed(f"{' '.join(command)} exited {process.returncode}:\n{errors[-2000:]}")
    result = json.loads(lines[-1].removeprefix("BENCH_RESULT ")) if lines else {}
    cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000
    return ProcessResult(result, wall_ms, int(result.get("peak_rss_kib", -1)), text, errors, cpu_ms)


@contextlib.contextmanager
def patched_env(**values: str | None) -> Iterator[None]:
    """Set (or, with ``None``, remove) environment variables for the duration of a block."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def python() -> str:
    return sys.executable
