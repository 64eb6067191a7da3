"""The pipeline's AWS resources for moto: work queue, dead-letter queue, state table.

The production definition is ``infra/template.yaml``; these are the same settings for places that
create resources directly (tests, the sandbox), written once here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

WORKER_TIMEOUT_SECONDS = 60
VISIBILITY_TIMEOUT_SECONDS = 6 * WORKER_TIMEOUT_SECONDS  # AWS's advice for SQS-triggered functions
MAX_RECEIVE_COUNT = 5
MAX_MESSAGE_BYTES = 1024 * 1024
DLQ_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class Resources:
    queue_url: str
    dlq_url: str
    table: str

    def env(self) -> dict[str, str]:
        return {"QUEUE_URL": self.queue_url, "DLQ_URL": self.dlq_url, "STATE_TABLE": self.table}


def create(
    prefix: str, sqs: Any, dynamodb: Any, *, visibility_timeout: int = VISIBILITY_TIMEOUT_SECONDS
) -> Resources:
    dlq_url = sqs.create_queue(
        QueueName=f"{prefix}-dlq",
        Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS), "SqsManagedSseEnabled": "true"},
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=f"{prefix}-work",
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "MaximumMessageSize": str(MAX_MESSAGE_BYTES),
            "SqsManagedSseEnabled": "true",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}
            ),
        },
    )["QueueUrl"]
    table = f"{prefix}-state"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
    )
    return Resources(queue_url=queue_url, dlq_url=dlq_url, table=table)
