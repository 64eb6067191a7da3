"""The safety settings of ``infra/template.yaml``, so that a later edit cannot quietly break them.

Settings moto's CloudFormation ignores or cannot create (alarms, TTL, PITR, subscriptions, the Function
URL) are asserted here, on the template and on its offline translation; the deployment into moto is
``tests/integration/test_infra_moto.py``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra import template as infra

GetAtt = dict[str, list[str]]


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return infra.load()


@pytest.fixture(scope="module", params=["FunctionUrl", "HttpApi"])
def translated(request: pytest.FixtureRequest) -> dict[str, Any]:
    return infra.translate(parameters={"FrontDoor": request.param})


def props(template: dict[str, Any], name: str) -> dict[str, Any]:
    return infra.properties(template, name)


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def getatt(name: str, attribute: str) -> GetAtt:
    return {"Fn::GetAtt": [name, attribute]}


def param_default(template: dict[str, Any], name: str) -> Any:
    return template["Parameters"][name]["Default"]


# ----- functions -----------------------------------------------------------------------------------------


def test_both_functions_run_python_3_13_on_arm64(sam: dict[str, Any]) -> None:
    assert sam["Transform"] == "AWS::Serverless-2016-10-31"
    assert sam["Globals"]["Function"]["Runtime"] == "python3.13"
    assert sam["Globals"]["Function"]["Architectures"] == ["arm64"]
    for name in ("IngestFunction", "WorkerFunction", "AlarmFunction"):
        assert "Runtime" not in props(sam, name) and "Architectures" not in props(sam, name)


def test_the_ingest_is_small_fast_and_knows_only_its_queue_secret_and_services(sam: dict[str, Any]) -> None:
    ingest = props(sam, "IngestFunction")
    assert ingest["Handler"] == "ingest.handler.lambda_handler"
    assert ingest["CodeUri"] == "../dist/ingest.zip"
    assert ingest["Timeout"] <= 3  # Slack waits 3 s for the answer
    assert ingest["MemorySize"] <= 512
    assert ingest["Environment"]["Variables"] == {
        "QUEUE_URL": ref("WorkQueue"),
        "SLACK_SIGNING_SECRET_ARN": ref("SlackSigningSecret"),
        "SERVICES": ref("Services"),  # the incident form's service picker, answered in the ack
    }
    assert param_default(sam, "Services") == ""


def test_the_worker_gets_its_settings_and_reports_partial_batch_failures(sam: dict[str, Any]) -> None:
    worker = props(sam, "WorkerFunction")
    assert worker["Handler"] == "worker.handler.lambda_handler"
    assert worker["CodeUri"] == "../dist/worker.zip"
    assert worker["Timeout"] == 60
    variables = worker["Environment"]["Variables"]
    assert variables["QUEUE_URL"] == ref("WorkQueue")
    assert variables["DLQ_URL"] == ref("DeadLetterQueue")
    assert variables["STATE_TABLE"] == ref("StateTable")
    assert variables["SLACK_BOT_TOKEN_ARN"] == ref("SlackBotTokenSecret")
    assert variables["SLACK_API_URL"] == ref("SlackApiUrl")
    assert (
        variables["OPS_CHANNEL"] == ref("OpsChannel") and param_default(sam, "OpsChannel") == ""
    )  # dlq skill
    assert "ALARM_TOPIC_ARN" not in variables  # alarms never go through the worker
    assert variables["WORKER_CONCURRENCY"] == ref("WorkerRecordConcurrency")
    assert variables["SERVICES"] == ref("Services")
    assert variables["POWERTOOLS_SERVICE_NAME"] == "slackbot"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "SlackbotPipeline"
    assert "SLACK_BOT_TOKEN" not in variables and "SLACK_SIGNING_SECRET" not in variables

    events = worker["Events"]
    assert len(events) == 1
    (event,) = events.values()
    assert event["Type"] == "SQS"
    sqs = event["Properties"]
    assert sqs["Queue"] == getatt("WorkQueue", "Arn")
    assert sqs["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= param_default(sam, "WorkerBatchSize") <= 10 and sqs["BatchSize"] == ref("WorkerBatchSize")
    assert sqs["MaximumBatchingWindowInSeconds"] == ref("WorkerBatchingWindowSeconds")
    assert sqs["ScalingConfig"]["MaximumConcurrency"] == ref("WorkerMaxConcurrency")
    assert sam["Parameters"]["WorkerMaxConcurrency"]["MinValue"] >= 2  # SQS's own minimum


def test_the_worker_may_join_a_vpc_but_does_not_by_default(sam: dict[str, Any]) -> None:
    vpc = props(sam, "WorkerFunction")["VpcConfig"]
    condition, used, unused = vpc["Fn::If"]
    assert condition == "UseVpc" and unused == ref("AWS::NoValue")
    assert used == {"SubnetIds": ref("SubnetIds"), "SecurityGroupIds": ref("SecurityGroupIds")}
    assert param_default(sam, "SubnetIds") == "" and param_default(sam, "SecurityGroupIds") == ""
    assert sam["Conditions"]["UseVpc"] == {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", ref("SubnetIds")]}, ""]}]
    }


def test_the_ingest_reserves_concurrency_by_default_and_zero_or_empty_turns_it_off(
    sam: dict[str, Any],
) -> None:
    parameter = sam["Parameters"]["IngestReservedConcurrency"]
    assert parameter["Default"] == "50"
    assert re.fullmatch(parameter["AllowedPattern"], "") and re.fullmatch(parameter["AllowedPattern"], "0")
    assert not re.fullmatch(parameter["AllowedPattern"], "-1")
    condition, reserved, unreserved = props(sam, "IngestFunction")["ReservedConcurrentExecutions"]["Fn::If"]
    assert (condition, reserved, unreserved) == (
        "ReserveIngestConcurrency",
        ref("IngestReservedConcurrency"),
        ref("AWS::NoValue"),
    )
    # The worker keeps the account's unreserved pool; its own ceiling is the event source mapping's.
    assert "ReservedConcurrentExecutions" not in props(sam, "WorkerFunction")


@pytest.mark.parametrize(("value", "reserves"), [("50", True), ("7", True), ("0", False), ("", False)])
def test_zero_or_empty_reserves_nothing(sam: dict[str, Any], value: str, reserves: bool) -> None:
    condition = sam["Conditions"]["ReserveIngestConcurrency"]
    assert _evaluate(condition, {"IngestReservedConcurrency": value}) is reserves


def _evaluate(condition: Any, parameters: dict[str, str], conditions: dict[str, Any] | None = None) -> Any:
    """A condition's value for these parameters (Fn::Not, Fn::Or, Fn::And, Fn::Equals, Condition and Ref)."""
    if isinstance(condition, dict):
        ((fn, arg),) = condition.items()
        if fn == "Ref":
            return parameters[arg]
        if fn == "Condition":
            return _evaluate((conditions or {})[arg], parameters, conditions)
        values = [_evaluate(a, parameters, conditions) for a in arg]
        return {
            "Fn::Not": lambda: not values[0],
            "Fn::Or": lambda: any(values),
            "Fn::And": lambda: all(values),
            "Fn::Equals": lambda: values[0] == values[1],
        }[fn]()
    return condition


# ----- the alarm function ------------------------------------------------------------------------------


def test_the_alarm_function_posts_alarms_from_the_topic_on_its_own(sam: dict[str, Any]) -> None:
    function = infra.resource(sam, "AlarmFunction")
    assert function["Condition"] == "AlarmsViaFunction"
    alarm = function["Properties"]
    assert alarm["Handler"] == "worker.alarm_handler.lambda_handler"
    assert alarm["CodeUri"] == props(sam, "WorkerFunction")["CodeUri"]  # the worker's package: no new zip
    assert alarm["Timeout"] <= 30 and alarm["MemorySize"] <= 512
    assert alarm["Role"] == getatt("AlarmRole", "Arn")
    assert alarm["Environment"]["Variables"] == {
        "OPS_CHANNEL": ref("OpsChannel"),
        "ALARM_TOPIC_ARN": ref("AlarmTopic"),
        "STATE_TABLE": ref("StateTable"),
        "QUEUE_URL": ref("WorkQueue"),
        "DLQ_URL": ref("DeadLetterQueue"),
        "SLACK_BOT_TOKEN_ARN": ref("SlackBotTokenSecret"),
        "SLACK_API_URL": ref("SlackApiUrl"),
    }
    # Fed by the alarm topic only: no queue between an alarm and the ops channel.
    assert alarm["Events"] == {"AlarmTopic": {"Type": "SNS", "Properties": {"Topic": ref("AlarmTopic")}}}
    assert alarm["DeadLetterQueue"] == {"Type": "SQS", "TargetArn": getatt("AlarmDeadLetterQueue", "Arn")}
    dlq = infra.resource(sam, "AlarmDeadLetterQueue")
    assert dlq["Condition"] == "AlarmsViaFunction"
    assert dlq["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert dlq["Properties"]["SqsManagedSseEnabled"] is True


@pytest.mark.parametrize(
    ("workspace", "value", "reserves"),
    [("", "2", True), ("", "5", True), ("", "0", False), ("", "", False), ("T0WORKSPACE", "2", False)],
)
def test_the_alarm_function_reserves_its_own_concurrency(
    sam: dict[str, Any], workspace: str, value: str, reserves: bool
) -> None:
    parameter = sam["Parameters"]["AlarmReservedConcurrency"]
    assert parameter["Default"] == "2" and parameter["AllowedPattern"] == "^[0-9]*$"
    condition, reserved, unreserved = props(sam, "AlarmFunction")["ReservedConcurrentExecutions"]["Fn::If"]
    assert (condition, reserved, unreserved) == (
        "ReserveAlarmConcurrency",
        ref("AlarmReservedConcurrency"),
        ref("AWS::NoValue"),
    )
    chosen = {"AlarmReservedConcurrency": value, "AmazonQSlackWorkspaceId": workspace}
    assert _evaluate(sam["Conditions"]["ReserveAlarmConcurrency"], chosen, sam["Conditions"]) is reserves


@pytest.mark.parametrize(("workspace", "function"), [("", True), ("T0WORKSPACE", False)])
def test_alarms_go_through_the_function_or_amazon_q_never_both(
    sam: dict[str, Any], workspace: str, function: bool
) -> None:
    chosen = {"AmazonQSlackWorkspaceId": workspace}
    assert _evaluate(sam["Conditions"]["AlarmsViaFunction"], chosen) is function
    assert _evaluate(sam["Conditions"]["AlarmsViaAmazonQ"], chosen) is not function
    for name in (
        "AlarmFunction",
        "AlarmRole",
        "AlarmLogGroup",
        "AlarmDeadLetterQueue",
        "AlarmFunctionErrorsAlarm",
    ):
        assert infra.resource(sam, name)["Condition"] == "AlarmsViaFunction", name
    for name in ("AmazonQAlarmChannel", "AmazonQAlarmChannelRole"):
        assert infra.resource(sam, name)["Condition"] == "AlarmsViaAmazonQ", name
    assert sam["Outputs"]["AlarmDeadLetterQueueUrl"]["Condition"] == "AlarmsViaFunction"


def test_amazon_q_posts_the_alarm_topic_into_the_ops_channel_with_read_only_guardrails(
    sam: dict[str, Any],
) -> None:
    channel = props(sam, "AmazonQAlarmChannel")
    assert infra.resource(sam, "AmazonQAlarmChannel")["Type"] == "AWS::Chatbot::SlackChannelConfiguration"
    assert channel["SnsTopicArns"] == [ref("AlarmTopic")]
    assert channel["SlackWorkspaceId"] == ref("AmazonQSlackWorkspaceId")
    assert channel["SlackChannelId"] == {"Fn::Sub": "${OpsChannel}"}
    assert channel["IamRoleArn"] == getatt("AmazonQAlarmChannelRole", "Arn")
    # Without guardrails Amazon Q would apply AdministratorAccess to what channel members type.
    assert channel["GuardrailPolicies"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/CloudWatchReadOnlyAccess"}
    ]
    role = props(sam, "AmazonQAlarmChannelRole")
    assert "Policies" not in role and "ManagedPolicyArns" not in role  # notifications only
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "chatbot.amazonaws.com"}
    rule = sam["Rules"]["AmazonQNeedsTheOpsChannel"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [ref("AmazonQSlackWorkspaceId"), ""]}]}
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [ref("OpsChannel"), ""]}]}


def test_each_function_logs_to_its_own_group_with_retention(sam: dict[str, Any]) -> None:
    for function in ("IngestFunction", "WorkerFunction", "AlarmFunction"):
        group = props(sam, function)["LoggingConfig"]["LogGroup"]["Ref"]
        assert infra.resource(sam, group)["Type"] == "AWS::Logs::LogGroup"
        assert props(sam, group)["RetentionInDays"] == ref("LogRetentionDays")
        assert props(sam, group)["KmsKeyId"] == getatt("LogsAndAlarmsKey", "Arn")
    assert param_default(sam, "LogRetentionDays") in sam["Parameters"]["LogRetentionDays"]["AllowedValues"]


# ----- queues and table ------------------------------------------------------------------------------


def test_a_batch_still_running_is_never_delivered_again(sam: dict[str, Any]) -> None:
    worker_timeout = props(sam, "WorkerFunction")["Timeout"]
    longest_window = sam["Parameters"]["WorkerBatchingWindowSeconds"]["MaxValue"]
    assert props(sam, "WorkQueue")["VisibilityTimeout"] >= 6 * worker_timeout + longest_window


def test_the_work_queue_dead_letters_after_five_receives(sam: dict[str, Any]) -> None:
    work = props(sam, "WorkQueue")
    assert work["RedrivePolicy"]["deadLetterTargetArn"] == getatt("DeadLetterQueue", "Arn")
    assert work["RedrivePolicy"]["maxReceiveCount"] >= 5
    assert work["MaximumMessageSize"] == 1024 * 1024  # set explicitly, not left to the default


def test_the_dead_letter_queue_keeps_messages_14_days_and_allows_only_the_work_queue(
    sam: dict[str, Any],
) -> None:
    dlq = props(sam, "DeadLetterQueue")
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
    allow = dlq["RedriveAllowPolicy"]
    assert allow["redrivePermission"] == "byQueue"
    (source,) = allow["sourceQueueArns"]
    work_name = props(sam, "WorkQueue")["QueueName"]["Fn::Sub"]
    assert source["Fn::Sub"].endswith(":" + work_name)


def test_both_queues_are_encrypted(sam: dict[str, Any]) -> None:
    for name in ("WorkQueue", "DeadLetterQueue"):
        queue = props(sam, name)
        assert queue.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue


def test_the_state_table_is_on_demand_keyed_on_id_with_ttl_pitr_and_encryption(sam: dict[str, Any]) -> None:
    table = props(sam, "StateTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True


# ----- alarms ----------------------------------------------------------------------------------------


def alarm_on(sam: dict[str, Any], namespace: str, metric: str, dimension: Any) -> dict[str, Any]:
    found = [
        res["Properties"]
        for res in infra.resources_of_type(sam, "AWS::CloudWatch::Alarm").values()
        if res["Properties"]["Namespace"] == namespace
        and res["Properties"]["MetricName"] == metric
        and [d["Value"] for d in res["Properties"]["Dimensions"]] == [dimension]
    ]
    assert len(found) == 1, f"one alarm on {namespace} {metric} {dimension}"
    alarm = found[0]
    assert ref("AlarmTopic") in alarm["AlarmActions"]
    assert alarm["TreatMissingData"] == "notBreaching"
    return alarm


def test_a_dead_letter_message_raises_an_alarm(sam: dict[str, Any]) -> None:
    alarm = alarm_on(
        sam, "AWS/SQS", "ApproximateNumberOfMessagesVisible", getatt("DeadLetterQueue", "QueueName")
    )
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["Threshold"] == 0


def test_an_old_work_queue_message_raises_an_alarm(sam: dict[str, Any]) -> None:
    alarm = alarm_on(sam, "AWS/SQS", "ApproximateAgeOfOldestMessage", getatt("WorkQueue", "QueueName"))
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and 60 <= alarm["Threshold"] <= 900


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_worker_errors_and_throttles_raise_alarms(sam: dict[str, Any], metric: str) -> None:
    alarm = alarm_on(sam, "AWS/Lambda", metric, ref("WorkerFunction"))
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["Threshold"] == 1


def test_the_alarm_functions_own_errors_raise_an_alarm(sam: dict[str, Any]) -> None:
    alarm = alarm_on(sam, "AWS/Lambda", "Errors", ref("AlarmFunction"))
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["Threshold"] == 1


def test_the_alarm_topic_is_encrypted_and_mails_someone_only_if_asked(sam: dict[str, Any]) -> None:
    assert props(sam, "AlarmTopic")["KmsMasterKeyId"] == ref("LogsAndAlarmsKey")
    assert props(sam, "LogsAndAlarmsKey")["EnableKeyRotation"] is True
    email = infra.resource(sam, "AlarmEmailSubscription")
    assert email["Condition"] == "HasAlarmEmail" and param_default(sam, "AlarmEmail") == ""
    assert email["Properties"] == {
        "TopicArn": ref("AlarmTopic"),
        "Protocol": "email",
        "Endpoint": ref("AlarmEmail"),
    }


def test_alarm_notifications_reach_the_alarm_function_never_the_work_queue(
    translated: dict[str, Any],
) -> None:
    subscriptions = {
        name: res
        for name, res in infra.resources_of_type(translated, "AWS::SNS::Subscription").items()
        if res["Properties"]["Protocol"] != "email"
    }
    (subscription,) = subscriptions.values()
    assert subscription["Condition"] == "AlarmsViaFunction"
    assert subscription["Properties"]["TopicArn"] == ref("AlarmTopic")
    assert subscription["Properties"]["Protocol"] == "lambda"
    assert subscription["Properties"]["Endpoint"] == getatt("AlarmFunction", "Arn")
    (permission,) = [
        res
        for res in infra.resources_of_type(translated, "AWS::Lambda::Permission").values()
        if res["Properties"]["FunctionName"] == ref("AlarmFunction")
    ]
    assert permission["Condition"] == "AlarmsViaFunction"
    assert permission["Properties"]["Action"] == "lambda:InvokeFunction"
    assert permission["Properties"]["Principal"] == "sns.amazonaws.com"
    assert permission["Properties"]["SourceArn"] == ref("AlarmTopic")  # only this topic may invoke it
    # Nothing lets SNS (or anyone but the ingest and the worker) send to the work queue.
    assert infra.resources_of_type(translated, "AWS::SQS::QueuePolicy") == {}
    for role in ("AlarmRole", "WorkerRole"):
        assert "sqs:SendMessage" not in grants(translated, role, "sqs").get(
            repr(getatt("WorkQueue", "Arn")), set()
        )
    key_statements = props(translated, "LogsAndAlarmsKey")["KeyPolicy"]["Statement"]
    services = {
        s["Principal"].get("Service")
        for s in key_statements
        if isinstance(s["Principal"].get("Service"), str)
    }
    assert {"cloudwatch.amazonaws.com", "sns.amazonaws.com"} <= services  # else alarms cannot publish


THIS_ACCOUNT = {"aws:SourceAccount": ref("AWS::AccountId")}
THIS_ACCOUNTS_ALARMS = {
    "aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"}
}


def test_only_cloudwatch_of_this_account_may_publish_to_the_alarm_topic(sam: dict[str, Any]) -> None:
    (policy,) = infra.resources_of_type(sam, "AWS::SNS::TopicPolicy").values()
    assert policy["Properties"]["Topics"] == [ref("AlarmTopic")]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"] == ref("AlarmTopic")
    assert statement["Condition"] == {"StringEquals": THIS_ACCOUNT, "ArnLike": THIS_ACCOUNTS_ALARMS}


def test_the_keys_service_statements_hold_only_for_this_account_and_stack(sam: dict[str, Any]) -> None:
    statements = {s["Sid"]: s for s in props(sam, "LogsAndAlarmsKey")["KeyPolicy"]["Statement"]}
    alarms = statements["CloudWatchAlarms"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Condition"] == {"StringEquals": THIS_ACCOUNT, "ArnLike": THIS_ACCOUNTS_ALARMS}
    topic = statements["AlarmTopicDeliveries"]
    assert topic["Principal"] == {"Service": "sns.amazonaws.com"}
    topic_arn = "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${AWS::StackName}-alarms"
    assert topic["Condition"] == {
        "StringEquals": THIS_ACCOUNT,
        "ArnEquals": {"aws:SourceArn": {"Fn::Sub": topic_arn}},
    }
    # The key names the topic by its ARN: the topic must carry exactly that name.
    assert props(sam, "AlarmTopic")["TopicName"] == {"Fn::Sub": "${AWS::StackName}-alarms"}
    for statement in statements.values():  # every service principal is bound by a condition
        if "Service" in statement["Principal"]:
            assert statement.get("Condition"), statement["Sid"]


# ----- front door and outputs -----------------------------------------------------------------------


def test_the_function_url_is_public_on_purpose_and_says_why(sam: dict[str, Any]) -> None:
    assert param_default(sam, "FrontDoor") == "FunctionUrl"
    assert set(sam["Parameters"]["FrontDoor"]["AllowedValues"]) == {"FunctionUrl", "HttpApi"}
    url = infra.resource(sam, "IngestFunctionUrl")
    assert url["Condition"] == "UseFunctionUrl"
    assert url["Properties"] == {"TargetFunctionArn": getatt("IngestFunction", "Arn"), "AuthType": "NONE"}
    (skip,) = url["Metadata"]["checkov"]["skip"]
    assert skip["id"] == "CKV_AWS_258" and "Slack signature" in skip["comment"]
    permissions = [
        res
        for res in infra.resources_of_type(sam, "AWS::Lambda::Permission").values()
        if res.get("Condition") == "UseFunctionUrl"
    ]
    assert {p["Properties"]["Action"] for p in permissions} == {
        "lambda:InvokeFunctionUrl",
        "lambda:InvokeFunction",
    }
    for permission in permissions:
        assert permission["Properties"]["FunctionName"] == ref("IngestFunction")
        assert (
            permission["Properties"].get("FunctionUrlAuthType") == "NONE"
            or permission["Properties"].get("InvokedViaFunctionUrl") is True
        )


def test_the_http_api_routes_post_slack_events_to_the_ingest(sam: dict[str, Any]) -> None:
    api = infra.resource(sam, "SlackHttpApi")
    assert api["Type"] == "AWS::Serverless::HttpApi" and api["Condition"] == "UseHttpApi"
    route = api["Properties"]["DefinitionBody"]["paths"]["/slack/events"]
    assert set(route) == {"post"}
    integration = route["post"]["x-amazon-apigateway-integration"]
    assert integration["uri"] == getatt("IngestFunction", "Arn")
    assert integration["type"] == "aws_proxy" and integration["payloadFormatVersion"] == "2.0"
    permission = infra.resource(sam, "SlackHttpApiPermission")
    assert permission["Condition"] == "UseHttpApi"
    assert permission["Properties"]["Principal"] == "apigateway.amazonaws.com"
    assert permission["Properties"]["SourceArn"]["Fn::Sub"].endswith("${SlackHttpApi}/*/POST/slack/events")


def test_the_outputs_the_ops_cli_reads(sam: dict[str, Any]) -> None:
    outputs = sam["Outputs"]
    assert {
        "SlackRequestUrl",
        "WorkQueueUrl",
        "DeadLetterQueueUrl",
        "StateTableName",
        "AlarmTopicArn",
        "AlarmDeadLetterQueueUrl",
    } <= set(outputs)
    assert outputs["AlarmDeadLetterQueueUrl"]["Value"] == ref("AlarmDeadLetterQueue")
    assert outputs["WorkQueueUrl"]["Value"] == ref("WorkQueue")
    assert outputs["DeadLetterQueueUrl"]["Value"] == ref("DeadLetterQueue")
    assert outputs["StateTableName"]["Value"] == ref("StateTable")
    assert outputs["AlarmTopicArn"]["Value"] == ref("AlarmTopic")
    condition, http_api, function_url = outputs["SlackRequestUrl"]["Value"]["Fn::If"]
    assert condition == "UseHttpApi"
    assert "${SlackHttpApi}" in http_api["Fn::Sub"] and http_api["Fn::Sub"].endswith("/slack/events")
    assert function_url["Fn::Sub"] == "${IngestFunctionUrl.FunctionUrl}slack/events"


# ----- least privilege (on the translated template: what SAM adds counts too) ---------------------------


def statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for policy in props(template, role).get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            found.append({**statement, "Action": [actions] if isinstance(actions, str) else actions})
    return found


def grants(template: dict[str, Any], role: str, service: str) -> dict[str, set[str]]:
    """``{resource (as text): {actions}}`` for one service's actions in a role's inline policies."""
    out: dict[str, set[str]] = {}
    for statement in statements(template, role):
        assert statement["Effect"] == "Allow"
        actions = {a for a in statement["Action"] if a.startswith(service + ":")}
        if actions:
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            for resource in resources:
                out.setdefault(repr(resource), set()).update(actions)
    return out


def test_every_function_has_its_own_role_and_no_wildcard_action(translated: dict[str, Any]) -> None:
    functions = infra.resources_of_type(translated, "AWS::Lambda::Function")
    roles = {name: res["Properties"]["Role"] for name, res in functions.items()}
    assert roles == {
        "IngestFunction": getatt("IngestRole", "Arn"),
        "WorkerFunction": getatt("WorkerRole", "Arn"),
        "AlarmFunction": getatt("AlarmRole", "Arn"),
    }
    assert set(infra.resources_of_type(translated, "AWS::IAM::Role")) == {
        "IngestRole",
        "WorkerRole",
        "AlarmRole",
        "AmazonQAlarmChannelRole",  # (AmazonQSlackWorkspaceId only; no permissions)
    }
    for role in ("IngestRole", "WorkerRole", "AlarmRole"):
        for statement in statements(translated, role):
            for action in statement["Action"]:
                assert "*" not in action, f"{role}: wildcard action {action}"
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            if any(a.startswith(("sqs:", "dynamodb:", "secretsmanager:")) for a in statement["Action"]):
                for resource in resources:
                    assert resource != "*" and "*" not in repr(resource), f"{role}: wildcard resource"
    assert "ManagedPolicyArns" not in props(translated, "IngestRole")
    assert "ManagedPolicyArns" not in props(translated, "AlarmRole")
    condition, arns, _none = props(translated, "WorkerRole")["ManagedPolicyArns"]["Fn::If"]
    assert (
        condition == "UseVpc" and len(arns) == 1 and "AWSLambdaVPCAccessExecutionRole" in arns[0]["Fn::Sub"]
    )


def test_the_ingest_may_only_send_to_the_work_queue_and_read_the_signing_secret(
    translated: dict[str, Any],
) -> None:
    assert grants(translated, "IngestRole", "sqs") == {repr(getatt("WorkQueue", "Arn")): {"sqs:SendMessage"}}
    assert grants(translated, "IngestRole", "secretsmanager") == {
        repr(ref("SlackSigningSecret")): {"secretsmanager:GetSecretValue"}
    }
    assert grants(translated, "IngestRole", "dynamodb") == {}
    services = {a.split(":")[0] for s in statements(translated, "IngestRole") for a in s["Action"]}
    assert services == {"logs", "sqs", "secretsmanager"}


def test_the_worker_gets_exactly_what_it_uses(translated: dict[str, Any]) -> None:
    assert grants(translated, "WorkerRole", "sqs") == {
        repr(getatt("WorkQueue", "Arn")): {
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ChangeMessageVisibility",
        },
        repr(getatt("DeadLetterQueue", "Arn")): {
            "sqs:SendMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage",
            "sqs:ChangeMessageVisibility",  # the dlq skill shows what it peeked at again
        },
    }
    assert grants(translated, "WorkerRole", "dynamodb") == {
        repr(getatt("StateTable", "Arn")): {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",  # no DeleteItem: nothing deletes (a claim ends by TTL)
        }
    }
    assert grants(translated, "WorkerRole", "secretsmanager") == {
        repr(ref("SlackBotTokenSecret")): {"secretsmanager:GetSecretValue"}
    }
    services = {a.split(":")[0] for s in statements(translated, "WorkerRole") for a in s["Action"]}
    assert services == {"logs", "sqs", "dynamodb", "secretsmanager", "cloudwatch"}


def test_the_worker_may_read_metrics_in_its_own_region_and_nothing_else_of_cloudwatch(
    translated: dict[str, Any],
) -> None:
    # The Home tab's oldest message age (ApproximateAgeOfOldestMessage): no resource ARN exists for it
    (statement,) = [
        s
        for s in statements(translated, "WorkerRole")
        if any(a.startswith("cloudwatch:") for a in s["Action"])
    ]
    assert statement["Action"] == ["cloudwatch:GetMetricStatistics"]
    assert statement["Resource"] == "*"
    assert statement["Condition"] == {"StringEquals": {"aws:RequestedRegion": ref("AWS::Region")}}


def test_the_alarm_function_gets_exactly_what_it_uses(translated: dict[str, Any]) -> None:
    assert grants(translated, "AlarmRole", "sqs") == {
        repr(getatt("WorkQueue", "Arn")): {"sqs:GetQueueAttributes"},  # depths in the alert, nothing else
        repr(getatt("DeadLetterQueue", "Arn")): {"sqs:GetQueueAttributes"},
        repr(getatt("AlarmDeadLetterQueue", "Arn")): {"sqs:SendMessage"},  # Lambda's failed invocations
    }
    assert grants(translated, "AlarmRole", "dynamodb") == {
        repr(getatt("StateTable", "Arn")): {"dynamodb:UpdateItem"}  # conditional writes only, no read
    }
    assert grants(translated, "AlarmRole", "secretsmanager") == {
        repr(ref("SlackBotTokenSecret")): {"secretsmanager:GetSecretValue"}
    }
    services = {a.split(":")[0] for s in statements(translated, "AlarmRole") for a in s["Action"]}
    assert services == {"logs", "sqs", "dynamodb", "secretsmanager"}


def test_logs_go_only_to_the_functions_own_groups(translated: dict[str, Any]) -> None:
    for role, group in (
        ("IngestRole", "IngestLogGroup"),
        ("WorkerRole", "WorkerLogGroup"),
        ("AlarmRole", "AlarmLogGroup"),
    ):
        assert grants(translated, role, "logs") == {
            repr(getatt(group, "Arn")): {"logs:CreateLogStream", "logs:PutLogEvents"}
        }


# ----- the translation ---------------------------------------------------------------------------------


def test_the_translation_keeps_the_event_source_mapping_settings(translated: dict[str, Any]) -> None:
    (mapping,) = infra.resources_of_type(translated, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["Properties"]["EventSourceArn"] == getatt("WorkQueue", "Arn")
    assert mapping["Properties"]["FunctionName"] == ref("WorkerFunction")
    for function in infra.resources_of_type(translated, "AWS::Lambda::Function").values():
        code = function["Properties"]["Code"]
        assert code["S3Bucket"] == "slackbot-artifacts" and code["S3Key"] in {"ingest.zip", "worker.zip"}


def test_the_http_api_and_its_permission_exist_only_with_that_front_door(translated: dict[str, Any]) -> None:
    apis = infra.resources_of_type(translated, "AWS::ApiGatewayV2::Api")
    stages = infra.resources_of_type(translated, "AWS::ApiGatewayV2::Stage")
    assert len(apis) == 1 and len(stages) == 1
    for res in (*apis.values(), *stages.values()):
        assert res["Condition"] == "UseHttpApi"
    (stage,) = stages.values()
    assert stage["Properties"]["AccessLogSettings"]["DestinationArn"] == getatt(
        "HttpApiAccessLogGroup", "Arn"
    )


def test_every_checkov_skip_carries_its_reason(sam: dict[str, Any]) -> None:
    skips = [
        (name, skip)
        for name, res in sam["Resources"].items()
        for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips, "the template documents its exceptions"
    for name, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip)
        assert len(skip.get("comment", "").split()) >= 8, f"{name}: {skip['id']} needs a reason"


def test_short_tags_load_as_their_long_form() -> None:
    loaded = infra.loads("a: !Ref X\nb: !GetAtt X.Arn\nc: !Condition C\nd: !Sub x-${X}\n")
    assert loaded == {
        "a": {"Ref": "X"},
        "b": {"Fn::GetAtt": ["X", "Arn"]},
        "c": {"Condition": "C"},  # not Fn::Condition: CloudFormation's long form has no prefix here
        "d": {"Fn::Sub": "x-${X}"},
    }


# ----- the moto copy ---------------------------------------------------------------------------------------


def test_the_moto_copy_drops_what_moto_cannot_create_and_uses_stand_ins() -> None:
    translated = infra.translate()
    stand_ins = {
        "SlackSigningSecret": "arn:signing",
        "SlackBotTokenSecret": "arn:token",
        "IngestFunctionUrl.FunctionUrl": "https://url.example/",
    }
    moto = infra.for_moto(translated, stand_ins)
    types = {res["Type"] for res in moto["Resources"].values()}
    assert not types & infra.MOTO_UNSUPPORTED
    assert {"AWS::Lambda::Function", "AWS::SQS::Queue", "AWS::DynamoDB::Table"} <= types
    ingest = moto["Resources"]["IngestFunction"]["Properties"]["Environment"]["Variables"]
    assert ingest["SLACK_SIGNING_SECRET_ARN"] == "arn:signing"
    assert "SlackHttpApiPermission" not in moto["Resources"]  # conditional, on the removed HTTP API
    url = moto["Outputs"]["SlackRequestUrl"]["Value"]["Fn::If"]
    assert url[1] == ref("AWS::NoValue") and url[2] == {"Fn::Sub": "https://url.example/slack/events"}
    with pytest.raises(KeyError):
        infra.for_moto(translated, {})  # an unconditional reference without a stand-in is a mistake


def test_the_manifest_reaches_every_skill_entry_the_worker_routes() -> None:
    """Each slash command a skill claims, each shortcut and each event a skill declares is in the manifest."""
    from infra import manifest
    from worker import skills

    app = manifest.load()
    commands = {c["command"] for c in app["features"]["slash_commands"]}
    shortcuts = {s["callback_id"] for s in app["features"].get("shortcuts", [])}
    events = set(app["settings"]["event_subscriptions"]["bot_events"])
    for skill in skills.all_skills().values():
        assert set(skill.commands) <= commands, skill.name
        assert {f"{skill.name}:{name}" for name in skill.shortcuts} <= shortcuts, skill.name
        assert set(skill.events) <= events, skill.name
    assert app["features"]["app_home"]["home_tab_enabled"] is True
