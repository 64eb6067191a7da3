"""Every ``slackbot`` command of docs/runbook.md runs, as written, against moto with real dead letters.

Commands are taken from the runbook's fenced ``sh`` blocks; placeholders such as ``<MESSAGE_ID>`` are
replaced by real values. Each command of the incident sections gets a fresh pipeline with two dead
letters (a permanent Slack error and a poison body), so the order of the runbook does not matter and
each must exit 0.

The sandbox section ("make a message die, find it, understand it, redrive it") is walked in order,
every line of its ``sh`` blocks: ``make run …`` starts a real sandbox with the same variables and
``ARGS``, ``curl`` lines are sent to its port, and ``slackbot`` runs as a process of its own in the
sandbox's directory with no AWS or Slack variable set (it finds the sandbox itself), exiting as the
line's ``# exit N`` comment says (else 0).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from tests.support.ops import dead_letter_ids, kill_permanently, poison, slackbot
from tests.support.pipeline import Pipeline
from tests.support.sandbox_process import SandboxProcess, clean_environment, start_sandbox
from tests.support.sandbox_process import slackbot as run_slackbot

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "runbook.md"
FENCE = re.compile(r"^\s*```(\S*)\s*$")
PLACEHOLDER = re.compile(r"<[A-Z_]+>")
SHELL_SYNTAX = re.compile(r"[|;&<>$`]")  # in-process, there is no shell: keep the commands plain


SANDBOX_SECTION = "Make a message die, find it, understand it, redrive it"
SHORT_ID = re.compile(r"slackbot dlq show ([0-9a-f]{8})\b")
EXIT_COMMENT = re.compile(r"#\s*exit (\d+)\s*$")


def sh_lines(text: str) -> list[str]:
    """The lines of ``sh`` blocks, in order."""
    lines: list[str] = []
    block: str | None = None
    for line in text.splitlines():
        fence = FENCE.match(line)
        if fence:
            block = None if block is not None else fence.group(1)
        elif block == "sh" and line.strip():
            lines.append(line.strip())
    return lines


def runbook_commands(text: str) -> list[str]:
    """The lines of ``sh`` blocks that run ``slackbot``, in order."""
    return [line for line in sh_lines(text) if line.split()[:1] == ["slackbot"]]


def split_sections(text: str) -> tuple[str, str]:
    """The incident sections, and the sandbox section (from its heading to the next ``## ``)."""
    start = text.index(
        next(line for line in text.splitlines() if line.startswith("## ") and SANDBOX_SECTION in line)
    )
    end = text.find("\n## ", start + 1)
    end = len(text) if end < 0 else end
    return text[:start] + text[end:], text[start:end]


INCIDENT_TEXT, SANDBOX_TEXT = split_sections(RUNBOOK.read_text(encoding="utf-8"))
COMMANDS = list(dict.fromkeys(runbook_commands(INCIDENT_TEXT)))  # each once


def test_the_runbook_walks_from_diagnosis_to_redrive() -> None:
    used = {" ".join(shlex.split(command, comments=True)[1:3]) for command in COMMANDS}
    assert {"queue stats", "dlq list", "dlq show", "dlq redrive", "dlq drop"} <= used
    redrives = [command for command in COMMANDS if " redrive " in command or " drop " in command]
    assert all("--yes" in command for command in redrives), "commands that ask must carry --yes here"


@pytest.mark.parametrize("command", COMMANDS, ids=COMMANDS)
def test_runbook_command_exits_0(
    command: str, pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    kill_permanently(pipeline, "Ev0RUNBOOK")
    poison(pipeline)
    ids = dead_letter_ids(pipeline)
    values: dict[str, Callable[[], str]] = {
        "<MESSAGE_ID>": lambda: ids["Ev0RUNBOOK"],
        "<POISON_MESSAGE_ID>": lambda: ids["poison"],
        "<STACK>": lambda: _stack_of(pipeline),
    }
    unknown = set(PLACEHOLDER.findall(command)) - set(values)
    assert not unknown, f"the test does not know what to put for {unknown}: add it to `values`"
    for placeholder in set(PLACEHOLDER.findall(command)):
        command = command.replace(placeholder, values[placeholder]())
    argv = shlex.split(command, comments=True)
    assert not SHELL_SYNTAX.search(" ".join(argv)), f"not a plain command: {command}"

    result = slackbot(capsys, *argv[1:])
    assert result.code == 0, f"{command} exited {result.code}: {result.err}"
    assert result.out or result.err


def _stack_of(pipeline: Pipeline) -> str:
    """A CloudFormation stack whose outputs name this pipeline's queues and table, as the template's do."""
    name = f"slackbot-{uuid.uuid4().hex[:8]}"
    outputs = {
        "WorkQueueUrl": pipeline.queue_url,
        "DeadLetterQueueUrl": pipeline.dlq_url,
        "StateTableName": os.environ["STATE_TABLE"],
    }
    template = {
        "Resources": {"Nothing": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
    return name


# ----- the sandbox section, walked in order against a real sandbox ------------------------------------


@pytest.mark.e2e
def test_the_sandbox_walkthrough_runs_as_written(tmp_path: Path) -> None:
    steps = sh_lines(SANDBOX_TEXT)
    assert steps and "make run" in steps[0], "the section starts the sandbox"
    assert any("/sandbox/faults" in step for step in steps), "the section makes Slack fail"
    used = {" ".join(shlex.split(step, comments=True)[1:3]) for step in steps if step.startswith("slackbot")}
    assert {"say ping", "dlq list", "dlq show", "dlq redrive"} <= used
    assert "<MESSAGE_ID>" not in SANDBOX_TEXT, "the walkthrough uses the short id say prints"
    sandbox = _start_as_written(steps[0], tmp_path)
    said: list[str] = []  # what each `slackbot say` printed: the short id of what died
    try:
        for step in steps[1:]:
            _walk(step, sandbox, said)
        # Both dead messages were redriven and answered in the end.
        assert len(sandbox.wait_for_line("#C0SANDBOX ← pong", count=2)) == 2
        assert len(sandbox.wait_for_line("SQS moved it to the DLQ: retries exhausted")) == 1
    finally:
        sandbox.stop()
    assert not (tmp_path / ".sandbox" / "state.json").exists(), "the state file outlived the sandbox"


def _start_as_written(line: str, workdir: Path) -> SandboxProcess:
    """``VAR=value … make run ARGS="…"`` → the same sandbox, on a free port."""
    words = shlex.split(line, comments=True)
    make = words.index("make")
    assert words[make + 1] == "run", line
    variables = dict(word.split("=", 1) for word in words[:make])
    options = dict(word.split("=", 1) for word in words[make + 2 :])
    assert set(options) <= {"ARGS"}, f"make run takes ARGS only here: {line}"
    return start_sandbox(workdir, *shlex.split(options.get("ARGS", "")), env=clean_environment(**variables))


def _walk(step: str, sandbox: SandboxProcess, said: list[str]) -> None:
    words = shlex.split(step, comments=True)
    base = sandbox.exports()["SANDBOX_URL"]
    if words[0] == "curl":
        data = words[words.index("-d") + 1]
        url = next(word for word in words if word.startswith("http://")).replace(
            "http://127.0.0.1:3000", base
        )
        request = urllib.request.Request(url, data=data.encode(), method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200 and json.loads(answer.read())["ok"] is True, step
        return
    assert words[0] == "slackbot", f"the walkthrough runs slackbot and curl only: {step}"
    if "<SHORT_ID>" in step:
        short_id = SHORT_ID.findall(said[-1])[-1]
        words = [word.replace("<SHORT_ID>", short_id) for word in words]
    expected = EXIT_COMMENT.search(step)
    # No AWS or Slack variable at all: slackbot finds the sandbox through its state file.
    result = run_slackbot(*words[1:], env={}, cwd=sandbox.workdir, timeout=120)
    assert result.returncode == (int(expected.group(1)) if expected else 0), (
        f"{step}\n{result.stdout}\n{result.stderr}"
    )
    assert "using the sandbox at" in result.stderr, result.stderr
    if words[1] == "say":
        said.append(result.stdout)
