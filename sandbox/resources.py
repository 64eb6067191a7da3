"""The pipeline's AWS resources for moto: work queue, dead-letter queue, state table.

They are made from their definitions in ``infra/template.yaml`` (``WorkQueue``, ``DeadLetterQueue``,
``StateTable``), so that a change to the template changes the sandbox and the tests too. Deploying the
template into moto's CloudFormation takes about a second, too slow for a fixture that runs per test, so
the properties are read from the template and turned into the same SQS and DynamoDB API calls that
CloudFormation makes. The alarm topic and the alarm function are not part of the sandbox
(``tests/integration/test_alarms.py`` wires them in moto with ``sandbox/sns_trigger.py``); the DLQ's
``RedriveAllowPolicy`` and the table's point-in-time recovery are left out because moto ignores them
(both are asserted on the template itself).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from infra import template as infra_template

WORK_QUEUE = "WorkQueue"
DEAD_LETTER_QUEUE = "DeadLetterQueue"
STATE_TABLE = "StateTable"

# CloudFormation's SQS properties that are plain queue attributes of the same name (the rest are names,
# tags and the two redrive policies, handled below).
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "SqsManagedSseEnabled",
    "KmsDataKeyReusePeriodSeconds",
)


@cache
def _definitions() -> dict[str, dict[str, Any]]:
    template = infra_template.load()
    return {
        name: infra_template.properties(template, name)
        for name in (WORK_QUEUE, DEAD_LETTER_QUEUE, STATE_TABLE)
    }


def _function_timeout(name: str) -> int:
    return int(infra_template.properties(infra_template.load(), name)["Timeout"])


# The template's numbers, for callers and tests that need them.
WORKER_TIMEOUT_SECONDS = _function_timeout("WorkerFunction")
VISIBILITY_TIMEOUT_SECONDS = int(_definitions()[WORK_QUEUE]["VisibilityTimeout"])
MAX_RECEIVE_COUNT = int(_definitions()[WORK_QUEUE]["RedrivePolicy"]["maxReceiveCount"])
MAX_MESSAGE_BYTES = int(_definitions()[WORK_QUEUE]["MaximumMessageSize"])
DLQ_RETENTION_SECONDS = int(_definitions()[DEAD_LETTER_QUEUE]["MessageRetentionPeriod"])


@dataclass(frozen=True)
class Resources:
    queue_url: str
    dlq_url: str
    table: str

    def env(self) -> dict[str, str]:
        return {"QUEUE_URL": self.queue_url, "DLQ_URL": self.dlq_url, "STATE_TABLE": self.table}


def queue_attributes(props: dict[str, Any]) -> dict[str, str]:
    """SQS ``CreateQueue`` attributes from an ``AWS::SQS::Queue``'s properties (redrive policies aside)."""
    attributes: dict[str, str] = {}
    for name in _QUEUE_ATTRIBUTES:
        if name in props:
            value = props[name]
            if isinstance(value, dict):  # an intrinsic function: the sandbox has no parameters to resolve
                raise ValueError(f"queue property {name} must be a literal in infra/template.yaml")
            attributes[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return attributes


def create(
    prefix: str, sqs: Any, dynamodb: Any, *, visibility_timeout: int = VISIBILITY_TIMEOUT_SECONDS
) -> Resources:
    """Create the work queue, the DLQ and the state table as the template defines them, named ``prefix-…``.

    ``visibility_timeout`` overrides the template's (tests shorten it so that failed records return fast).
    """
    definitions = _definitions()
    dlq_props = definitions[DEAD_LETTER_QUEUE]
    work_props = definitions[WORK_QUEUE]

    dlq_url = sqs.create_queue(QueueName=f"{prefix}-dlq", Attributes=queue_attributes(dlq_props))["QueueUrl"]
    dlq_arn = _queue_arn(sqs, dlq_url)
    work_attributes = queue_attributes(work_props)
    work_attributes["VisibilityTimeout"] = str(visibility_timeout)
    redrive = work_props["RedrivePolicy"]
    work_attributes["RedrivePolicy"] = json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": int(redrive["maxReceiveCount"])}
    )
    queue_url = sqs.create_queue(QueueName=f"{prefix}-work", Attributes=work_attributes)["QueueUrl"]

    table = f"{prefix}-state"
    dynamodb.create_table(TableName=table, **table_arguments(definitions[STATE_TABLE]))
    ttl = definitions[STATE_TABLE].get("TimeToLiveSpecification")
    if isinstance(ttl, dict) and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    return Resources(queue_url=queue_url, dlq_url=dlq_url, table=table)


def table_arguments(props: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB ``CreateTable`` arguments (name aside) from an ``AWS::DynamoDB::Table``'s properties."""
    arguments: dict[str, Any] = {
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    sse = props.get("SSESpecification")
    if isinstance(sse, dict) and "SSEEnabled" in sse:
        arguments["SSESpecification"] = {"Enabled": bool(sse["SSEEnabled"])}
    return arguments


def _queue_arn(sqs: Any, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    return str(attributes["QueueArn"])
