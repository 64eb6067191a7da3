"""The template deployed into moto's CloudFormation (moto server over HTTP), and the sandbox made from it.

moto cannot create every resource type: ``infra.template.MOTO_UNSUPPORTED`` lists those removed from
the deployed copy (Function URL, secrets, alarms, SNS subscriptions, the topic policy, Amazon Q's channel,
the HTTP API),
and their settings are asserted on the template in ``tests/unit/test_infra_template.py``. The two
secrets are created in moto first and their ARNs stand in for the template's; the Function URL gets a
stand-in URL in the ``SlackRequestUrl`` output.
"""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import yaml

from infra import manifest
from infra import template as infra
from sandbox import resources
from tests.conftest import Aws
from tests.support.moto_server import MotoServer

STAND_IN_URL = "https://stand-in.lambda-url.us-east-1.on.aws/"


@dataclass
class Stack:
    name: str
    outputs: dict[str, str]
    resources: dict[str, str]  # logical id → physical id
    secrets: dict[str, str]
    cloudformation: Any
    url: str

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url)


@pytest.fixture(scope="module")
def stack(moto_server: MotoServer) -> Stack:
    suffix = uuid.uuid4().hex[:8]
    name = f"slackbot-{suffix}"
    s3 = boto3.client("s3", endpoint_url=moto_server.url)
    bucket = f"artifacts-{suffix}"
    s3.create_bucket(Bucket=bucket)
    for key in ("ingest.zip", "worker.zip"):  # moto never runs them: a stand-in package is enough
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(f"{key[:-4]}/handler.py", "def lambda_handler(event, context):\n    return {}\n")
        s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
    secrets = boto3.client("secretsmanager", endpoint_url=moto_server.url)
    arns = {
        logical: secrets.create_secret(Name=f"{name}/{logical}", SecretString="stand-in")["ARN"]
        for logical in ("SlackSigningSecret", "SlackBotTokenSecret")
    }
    template = infra.for_moto(
        infra.translate(code_bucket=bucket),
        {**arns, "IngestFunctionUrl.FunctionUrl": STAND_IN_URL},
    )
    cloudformation = boto3.client("cloudformation", endpoint_url=moto_server.url)
    cloudformation.create_stack(
        StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"]
    )
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE", described.get("StackStatusReason")
    summaries = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
    return Stack(
        name=name,
        outputs={o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
        resources={r["LogicalResourceId"]: r["PhysicalResourceId"] for r in summaries},
        secrets=arns,
        cloudformation=cloudformation,
        url=moto_server.url,
    )


def test_the_stack_has_every_output_the_ops_cli_reads(stack: Stack) -> None:
    assert {
        "SlackRequestUrl",
        "WorkQueueUrl",
        "DeadLetterQueueUrl",
        "StateTableName",
        "AlarmTopicArn",
        "AlarmDeadLetterQueueUrl",
    } <= set(stack.outputs)
    assert stack.outputs["SlackRequestUrl"] == STAND_IN_URL + "slack/events"
    assert stack.outputs["WorkQueueUrl"].endswith(f"/{stack.name}-work")
    assert stack.outputs["DeadLetterQueueUrl"].endswith(f"/{stack.name}-dlq")
    assert stack.outputs["AlarmTopicArn"].startswith("arn:aws:sns:")
    assert stack.outputs["AlarmTopicArn"].endswith(f":{stack.name}-alarms")  # the name the key policy uses
    assert stack.outputs["AlarmDeadLetterQueueUrl"].endswith(f"/{stack.name}-alarms-dlq")


def test_both_functions_exist_as_the_template_says(stack: Stack) -> None:
    lambda_ = stack.client("lambda")
    ingest = lambda_.get_function_configuration(FunctionName=stack.resources["IngestFunction"])
    worker = lambda_.get_function_configuration(FunctionName=stack.resources["WorkerFunction"])
    for config in (ingest, worker):  # (moto ignores Architectures: arm64 is asserted on the template)
        assert config["Runtime"] == "python3.13"
    assert ingest["Handler"] == "ingest.handler.lambda_handler" and ingest["Timeout"] == 3
    assert worker["Handler"] == "worker.handler.lambda_handler" and worker["Timeout"] == 60
    assert ingest["Environment"]["Variables"] == {
        "QUEUE_URL": stack.outputs["WorkQueueUrl"],
        "SLACK_SIGNING_SECRET_ARN": stack.secrets["SlackSigningSecret"],
        "SERVICES": "",
    }
    variables = worker["Environment"]["Variables"]
    assert variables["QUEUE_URL"] == stack.outputs["WorkQueueUrl"]
    assert variables["DLQ_URL"] == stack.outputs["DeadLetterQueueUrl"]
    assert variables["STATE_TABLE"] == stack.outputs["StateTableName"]
    assert variables["SLACK_BOT_TOKEN_ARN"] == stack.secrets["SlackBotTokenSecret"]
    assert "ALARM_TOPIC_ARN" not in variables  # alarms never go through the worker
    assert ingest["Role"].endswith(stack.resources["IngestRole"])
    assert worker["Role"].endswith(stack.resources["WorkerRole"])


def test_the_alarm_function_exists_with_its_settings_and_its_dead_letter_queue(stack: Stack) -> None:
    alarm = stack.client("lambda").get_function_configuration(FunctionName=stack.resources["AlarmFunction"])
    assert alarm["Runtime"] == "python3.13" and alarm["Timeout"] == 20
    assert alarm["Handler"] == "worker.alarm_handler.lambda_handler"
    assert alarm["Environment"]["Variables"] == {
        "OPS_CHANNEL": "",
        "ALARM_TOPIC_ARN": stack.outputs["AlarmTopicArn"],
        "STATE_TABLE": stack.outputs["StateTableName"],
        "QUEUE_URL": stack.outputs["WorkQueueUrl"],
        "DLQ_URL": stack.outputs["DeadLetterQueueUrl"],
        "SLACK_BOT_TOKEN_ARN": stack.secrets["SlackBotTokenSecret"],
        "SLACK_API_URL": "https://slack.com/api/",
    }
    assert alarm["Role"].endswith(stack.resources["AlarmRole"])
    alarm_dlq = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.outputs["AlarmDeadLetterQueueUrl"], AttributeNames=["All"]
    )["Attributes"]
    assert int(alarm_dlq["MessageRetentionPeriod"]) == 14 * 24 * 3600
    # (moto ignores a function's DeadLetterConfig in a stack: it is asserted on the template)


def test_the_ingest_and_the_alarm_function_have_reserved_concurrency_and_the_worker_none(
    stack: Stack,
) -> None:
    lambda_ = stack.client("lambda")
    ingest = lambda_.get_function_concurrency(FunctionName=stack.resources["IngestFunction"])
    worker = lambda_.get_function_concurrency(FunctionName=stack.resources["WorkerFunction"])
    alarm = lambda_.get_function_concurrency(FunctionName=stack.resources["AlarmFunction"])
    assert ingest.get("ReservedConcurrentExecutions") == 50
    assert alarm.get("ReservedConcurrentExecutions") == 2
    assert "ReservedConcurrentExecutions" not in worker


def test_only_the_alarm_topic_may_invoke_the_alarm_function_and_nothing_feeds_the_work_queue(
    stack: Stack,
) -> None:
    lambda_ = stack.client("lambda")
    policy = json.loads(lambda_.get_policy(FunctionName=stack.resources["AlarmFunction"])["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == stack.outputs["AlarmTopicArn"]
    # No event source mapping for the alarm function, and no queue policy letting SNS into the work queue.
    assert (
        lambda_.list_event_source_mappings(FunctionName=stack.resources["AlarmFunction"])[
            "EventSourceMappings"
        ]
        == []
    )
    work = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.outputs["WorkQueueUrl"], AttributeNames=["All"]
    )["Attributes"]
    assert "Policy" not in work


def test_the_worker_is_fed_by_the_work_queue_with_partial_batch_responses(stack: Stack) -> None:
    lambda_ = stack.client("lambda")
    queue_arn = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.outputs["WorkQueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    mappings = lambda_.list_event_source_mappings(FunctionName=stack.resources["WorkerFunction"])[
        "EventSourceMappings"
    ]
    assert len(mappings) == 1
    assert mappings[0]["EventSourceArn"] == queue_arn
    assert mappings[0]["BatchSize"] == 10


def test_both_queues_exist_with_the_redrive_policy(stack: Stack) -> None:
    sqs = stack.client("sqs")
    work = sqs.get_queue_attributes(QueueUrl=stack.outputs["WorkQueueUrl"], AttributeNames=["All"])[
        "Attributes"
    ]
    dlq = sqs.get_queue_attributes(QueueUrl=stack.outputs["DeadLetterQueueUrl"], AttributeNames=["All"])[
        "Attributes"
    ]
    redrive = json.loads(work["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == 5
    assert int(work["VisibilityTimeout"]) >= 6 * 60
    assert int(work["MaximumMessageSize"]) == 1024 * 1024
    assert int(dlq["MessageRetentionPeriod"]) == 14 * 24 * 3600
    assert work["SqsManagedSseEnabled"] == "true" and dlq["SqsManagedSseEnabled"] == "true"
    # (moto ignores RedriveAllowPolicy: it is asserted on the template)


def test_the_state_table_exists_keyed_on_id(stack: Stack) -> None:
    table = stack.client("dynamodb").describe_table(TableName=stack.outputs["StateTableName"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_the_roles_grant_what_the_template_says(stack: Stack) -> None:
    iam = stack.client("iam")
    policy = iam.get_role_policy(RoleName=stack.resources["IngestRole"], PolicyName="ingest")[
        "PolicyDocument"
    ]
    if isinstance(policy, str):  # moto's CloudFormation stores an inline policy as Python's repr
        policy = ast.literal_eval(policy)
    actions = {
        a
        for s in policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sqs:SendMessage",
        "secretsmanager:GetSecretValue",
    }
    (secret,) = [s for s in policy["Statement"] if s["Action"] == "secretsmanager:GetSecretValue"]
    assert secret["Resource"] == stack.secrets["SlackSigningSecret"]
    alarm_policy = iam.get_role_policy(RoleName=stack.resources["AlarmRole"], PolicyName="alarms")[
        "PolicyDocument"
    ]
    if isinstance(alarm_policy, str):
        alarm_policy = ast.literal_eval(alarm_policy)
    assert {
        a
        for s in alarm_policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    } == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "dynamodb:UpdateItem",
        "sqs:GetQueueAttributes",
        "sqs:SendMessage",
        "secretsmanager:GetSecretValue",
    }


# ----- the manifest, filled from the stack ---------------------------------------------------------------


def test_the_manifest_is_filled_from_the_stack_output(stack: Stack) -> None:
    url = manifest.request_url_of(stack.name, stack.cloudformation)
    assert url == stack.outputs["SlackRequestUrl"]
    # The documented command, as a user runs it: python -m infra.manifest --stack NAME
    answer = subprocess.run(
        [sys.executable, "-m", "infra.manifest", "--stack", stack.name],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "AWS_ENDPOINT_URL": stack.url},
        cwd=infra.ROOT,
    )
    filled = yaml.safe_load(answer.stdout)
    assert filled["settings"]["event_subscriptions"]["request_url"] == url
    assert filled["settings"]["interactivity"] == {
        "is_enabled": True,
        "request_url": url,
        "message_menu_options_url": url,  # the incident form's service picker
    }
    assert [c["url"] for c in filled["features"]["slash_commands"]] == [url, url]
    assert [c["command"] for c in filled["features"]["slash_commands"]] == ["/ops", "/incident"]
    assert filled["features"]["shortcuts"] == [
        {
            "name": "Declare an incident",
            "type": "global",
            "callback_id": "incident:declare",
            "description": "Opens the incident form",
        }
    ]
    assert filled["features"]["app_home"]["home_tab_enabled"] is True
    assert set(filled["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "app_home_opened",
        "message.im",
    }
    assert {"app_mentions:read", "chat:write", "commands", "im:history"} <= set(
        filled["oauth_config"]["scopes"]["bot"]
    )
    assert "example.invalid" not in answer.stdout


def test_the_manifest_command_says_when_the_stack_is_not_ours(moto_server: MotoServer) -> None:
    with pytest.raises(Exception, match=r"does not exist|ValidationError"):
        manifest.request_url_of("no-such-stack", boto3.client("cloudformation", endpoint_url=moto_server.url))


def test_the_manifest_command_names_a_missing_stack_in_one_line(moto_server: MotoServer) -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "infra.manifest", "--stack", "no-such-stack"],
        capture_output=True,
        text=True,
        env={**os.environ, "AWS_ENDPOINT_URL": moto_server.url},
        cwd=infra.ROOT,
    )
    assert (answer.returncode, answer.stderr.splitlines()) == (
        2,
        ["manifest: no such stack: no-such-stack (it does not exist in this account and region)"],
    )


def test_the_manifest_refuses_a_plain_http_url() -> None:
    with pytest.raises(ValueError, match="https"):
        manifest.fill(manifest.load(), "http://example.org/slack/events")


# ----- the sandbox's resources come from the template ----------------------------------------------------


def test_the_sandbox_queues_and_table_carry_the_template_settings(aws: Aws) -> None:
    template = infra.load()
    work_props = infra.properties(template, "WorkQueue")
    dlq_props = infra.properties(template, "DeadLetterQueue")
    work = aws.sqs.get_queue_attributes(QueueUrl=aws.resources.queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    dlq = aws.sqs.get_queue_attributes(QueueUrl=aws.resources.dlq_url, AttributeNames=["All"])["Attributes"]
    assert int(work["VisibilityTimeout"]) == work_props["VisibilityTimeout"]
    assert int(work["MaximumMessageSize"]) == work_props["MaximumMessageSize"]
    assert int(work["MessageRetentionPeriod"]) == work_props["MessageRetentionPeriod"]
    assert work["SqsManagedSseEnabled"] == "true" and dlq["SqsManagedSseEnabled"] == "true"
    assert json.loads(work["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq["QueueArn"],
        "maxReceiveCount": work_props["RedrivePolicy"]["maxReceiveCount"],
    }
    assert int(dlq["MessageRetentionPeriod"]) == dlq_props["MessageRetentionPeriod"]
    ttl = aws.dynamodb.describe_time_to_live(TableName=aws.resources.table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiration" and ttl["TimeToLiveStatus"] == "ENABLED"
    table = aws.dynamodb.describe_table(TableName=aws.resources.table)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert work_props["RedrivePolicy"]["maxReceiveCount"] == resources.MAX_RECEIVE_COUNT
    assert work_props["VisibilityTimeout"] == resources.VISIBILITY_TIMEOUT_SECONDS


def test_a_template_change_changes_the_sandbox(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    definitions = {name: dict(props) for name, props in resources._definitions().items()}
    definitions["WorkQueue"]["RedrivePolicy"] = {"deadLetterTargetArn": "unused", "maxReceiveCount": 3}
    definitions["DeadLetterQueue"]["MessageRetentionPeriod"] = 7200
    definitions["StateTable"]["TimeToLiveSpecification"] = {"AttributeName": "ttl_at", "Enabled": True}
    monkeypatch.setattr(resources, "_definitions", lambda: definitions)
    sqs = boto3.client("sqs", endpoint_url=moto_server.url)
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_server.url)
    created = resources.create(f"c{uuid.uuid4().hex[:12]}", sqs, dynamodb, visibility_timeout=5)
    work = sqs.get_queue_attributes(QueueUrl=created.queue_url, AttributeNames=["All"])["Attributes"]
    dlq = sqs.get_queue_attributes(QueueUrl=created.dlq_url, AttributeNames=["All"])["Attributes"]
    assert json.loads(work["RedrivePolicy"])["maxReceiveCount"] == 3
    assert work["VisibilityTimeout"] == "5"  # the tests' override still wins
    assert dlq["MessageRetentionPeriod"] == "7200"
    ttl = dynamodb.describe_time_to_live(TableName=created.table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "ttl_at"
