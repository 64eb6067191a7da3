"""Where the pipeline's queues and table are: the environment, or a CloudFormation stack's outputs.

``QUEUE_URL``, ``DLQ_URL`` and ``STATE_TABLE`` as the functions use them, or ``--stack NAME``: the
outputs ``WorkQueueUrl``, ``DeadLetterQueueUrl`` and ``StateTableName`` of that stack (then the
environment's values are not used). With none of them and no ``AWS_ENDPOINT_URL``, a sandbox running
from this directory or a parent (``make run``, found through its ``.sandbox/state.json``) is used,
and stderr says so. Each command asks only for what it needs, and each of those is
checked to exist before anything is done, so a mistake is named precisely.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from ops import aws
from ops.failures import NO_SUCH_QUEUE, ExitCode, OpsError, error_code
from sandbox import statefile

Setting = Literal["queue_url", "dlq_url", "table"]

ENVIRONMENT: dict[Setting, str] = {"queue_url": "QUEUE_URL", "dlq_url": "DLQ_URL", "table": "STATE_TABLE"}
STACK_OUTPUTS: dict[Setting, str] = {
    "queue_url": "WorkQueueUrl",
    "dlq_url": "DeadLetterQueueUrl",
    "table": "StateTableName",
}


@dataclass(frozen=True)
class Config:
    queue_url: str
    dlq_url: str
    table: str
    source: str  # "the environment" or "stack NAME", for messages

    def name_of(self, setting: Setting) -> str:
        """How the user sets it: the variable, or the stack output."""
        if self.source.startswith("stack"):
            return f"output {STACK_OUTPUTS[setting]} of {self.source}"
        return ENVIRONMENT[setting]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack",
        metavar="NAME",
        help="read the queues and table from this CloudFormation stack's outputs "
        "(default: QUEUE_URL, DLQ_URL, STATE_TABLE)",
    )


def load(args: argparse.Namespace, *needs: Setting) -> Config:
    """The configuration, with every setting in ``needs`` present and its resource existing."""
    stack = getattr(args, "stack", None)
    config = _from_stack(stack) if stack else _from_environment()
    missing = [config.name_of(need) for need in needs if not getattr(config, need)]
    if missing:
        raise OpsError(f"not configured: {', '.join(missing)}", ExitCode.USAGE)
    for need in needs:
        _check_exists(config, need)
    return config


def _from_environment() -> Config:
    values = {setting: os.environ.get(name, "").strip() for setting, name in ENVIRONMENT.items()}
    if not any(values.values()) and not os.environ.get("AWS_ENDPOINT_URL"):
        sandbox = _from_running_sandbox()
        if sandbox is not None:
            return sandbox
    return Config(**values, source="the environment")


def _from_running_sandbox() -> Config | None:
    """A sandbox running from this directory or a parent (``make run``), when nothing else is configured.

    Its moto, region and fake credentials replace whatever AWS settings this process had (a profile
    included: boto3 would prefer it to the credentials set here), and stderr says which sandbox it is.
    """
    found = statefile.find()
    if found is None:
        return None
    state, path = found
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(state.aws_environment())
    print(f"slackbot: using {statefile.describe(state, path)}", file=sys.stderr)
    return Config(state.queue_url, state.dlq_url, state.table, source=f"the sandbox at {state.url}")


def _from_stack(name: str) -> Config:
    try:
        stacks = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            raise OpsError(f"no such stack: {name}", ExitCode.USAGE) from None
        raise
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stacks[0].get("Outputs", [])}
    values = {setting: str(outputs.get(key, "")).strip() for setting, key in STACK_OUTPUTS.items()}
    return Config(**values, source=f"stack {name}")


def _check_exists(config: Config, setting: Setting) -> None:
    value = getattr(config, setting)
    try:
        if setting == "table":
            _probe_table(value)
        else:
            aws.client("sqs").get_queue_attributes(QueueUrl=value, AttributeNames=["QueueArn"])
    except ClientError as error:
        if error_code(error) in NO_SUCH_QUEUE or error_code(error) == "ResourceNotFoundException":
            what = "table" if setting == "table" else "queue"
            raise OpsError(
                f"no such {what}: {value} ({config.name_of(setting)}; {error_code(error)})", ExitCode.USAGE
            ) from None
        raise


def _probe_table(table: str) -> Any:
    """A read of a key that never exists: needs only the GetItem permission the commands use anyway."""
    return aws.client("dynamodb").get_item(TableName=table, Key={"id": {"S": "slackbot:probe"}})
