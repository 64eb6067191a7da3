"""Every ``slackbot`` command of docs/runbook.md runs, as written, against moto with real dead letters.

Commands are taken from the runbook's fenced ``sh`` blocks; placeholders such as ``<MESSAGE_ID>`` are
replaced by real values. Each command gets a fresh pipeline with two dead letters (a permanent Slack
error and a poison body), so the order of the runbook does not matter and each must exit 0.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import uuid
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from tests.support.ops import dead_letter_ids, kill_permanently, poison, slackbot
from tests.support.pipeline import Pipeline

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "runbook.md"
FENCE = re.compile(r"^\s*```(\S*)\s*$")
PLACEHOLDER = re.compile(r"<[A-Z_]+>")
SHELL_SYNTAX = re.compile(r"[|;&<>$`]")  # in-process, there is no shell: keep the commands plain


def runbook_commands(text: str) -> list[str]:
    """The lines of ``sh`` blocks that run ``slackbot``, in order."""
    commands: list[str] = []
    block: str | None = None
    for line in text.splitlines():
        fence = FENCE.match(line)
        if fence:
            block = None if block is not None else fence.group(1)
        elif block == "sh" and line.split()[:1] == ["slackbot"]:
            commands.append(line.strip())
    return commands


COMMANDS = list(dict.fromkeys(runbook_commands(RUNBOOK.read_text(encoding="utf-8"))))  # each once


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
