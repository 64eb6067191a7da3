"""The ingest's own AWS client (``ingest/aws/client.py``) over real HTTP.

moto in server mode for what it can answer (send, attributes, oversize, a missing queue, Secrets
Manager, boto3's fallback); a loopback fake for what it cannot (throttling, 5xx, an expired token,
dropped keep-alive connections) and a loopback server that never answers (timeouts).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import boto3
import pytest

import ingest.aws.client as aws_client
from ingest.aws.client import (
    SQS,
    AwsError,
    Boto3Api,
    JsonApi,
    TransportError,
    connect,
    get_secret_string,
)
from ingest.aws.http1 import Connection
from ingest.queue import EnqueueFailed, MessageTooLarge, WorkQueue
from tests.conftest import Aws
from tests.support.fake_aws import Answer, FakeAws, error, silent_endpoint
from tests.support.moto_server import free_port

ATTRIBUTES = {
    "kind": {"DataType": "String", "StringValue": "event"},
    "channel": {"DataType": "String", "StringValue": "C0TEST"},
}


def send(api: aws_client.Api, queue_url: str, body: str = "hello") -> dict[str, object]:
    return api.call(
        "SendMessage", {"QueueUrl": queue_url, "MessageBody": body, "MessageAttributes": ATTRIBUTES}
    )


# --- against moto server ------------------------------------------------------------------------


def test_with_credentials_in_the_environment_the_client_is_our_own(aws: Aws) -> None:
    api = connect(SQS, 0.3, 0.8)
    assert isinstance(api, JsonApi)
    api.close()


def test_a_message_and_its_attributes_arrive_intact(aws: Aws) -> None:
    body = '{"text": "héllo <@U1> 🎉 \\u0000", "n": 1}'
    api = connect(SQS, 0.3, 0.8)
    answer = send(api, aws.resources.queue_url, body)
    api.close()
    assert answer["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    [message] = aws.messages()
    assert message["MessageId"] == answer["MessageId"]
    assert message["Body"] == body
    assert {name: value["StringValue"] for name, value in message["MessageAttributes"].items()} == {
        "kind": "event",
        "channel": "C0TEST",
    }


def test_a_missing_queue_is_an_error_with_botocores_code_and_is_not_retried(aws: Aws) -> None:
    api = connect(SQS, 0.3, 0.8)
    with pytest.raises(AwsError) as raised:
        send(api, aws.resources.queue_url.replace("-work", "-gone"))
    assert (raised.value.status, raised.value.code) == (400, "AWS.SimpleQueueService.NonExistentQueue")
    started = time.monotonic()
    with pytest.raises(EnqueueFailed, match=r"^SQS AWS\.SimpleQueueService\.NonExistentQueue$"):
        WorkQueue().send(aws.resources.queue_url.replace("-work", "-gone"), "x", {}, started)


def test_sqs_refuses_an_oversize_message_and_the_queue_never_sends_one(aws: Aws) -> None:
    api = connect(SQS, 0.3, 2.0)
    with pytest.raises(AwsError) as raised:
        send(api, aws.resources.queue_url, "x" * (1024 * 1024 + 1))
    assert (raised.value.status, raised.value.code) == (400, "InvalidParameterValue")
    with pytest.raises(MessageTooLarge):
        WorkQueue().send(aws.resources.queue_url, "x" * (1024 * 1024 + 1), {}, time.monotonic())
    assert aws.depth() == 0


def test_the_signing_secret_is_read_from_secrets_manager(aws: Aws) -> None:
    arn = boto3.client("secretsmanager").create_secret(
        Name=f"secret-{aws.resources.table}", SecretString="s3cr3t-value"
    )["ARN"]
    assert get_secret_string(arn) == "s3cr3t-value"
    with pytest.raises(AwsError) as raised:
        get_secret_string(arn + "-gone")
    assert raised.value.code == "ResourceNotFoundException"


def test_without_credentials_in_the_environment_boto3_takes_over(
    aws: Aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A developer's profile: what boto3 can read and the ingest's own client cannot.
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = fromfile\naws_secret_access_key = fromfile\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    queue = WorkQueue()
    assert isinstance(queue.client(), Boto3Api)
    message_id = queue.send(aws.resources.queue_url, "via boto3", ATTRIBUTES, time.monotonic())
    [message] = aws.messages()
    assert (message["MessageId"], message["Body"]) == (message_id, "via boto3")
    with pytest.raises(AwsError) as raised:  # boto3's errors come out as the same two classes
        send(queue.client(), aws.resources.queue_url.replace("-work", "-gone"))
    assert raised.value.code == "AWS.SimpleQueueService.NonExistentQueue"
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(TransportError):
        send(Boto3Api(SQS, 0.3, 0.8), aws.resources.queue_url)


# --- against a loopback fake ----------------------------------------------------------------------


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeAws:
    with FakeAws() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        yield server  # type: ignore[misc]


QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/fake-work"


def test_what_goes_on_the_wire_is_the_json_protocol_signed_as_botocore_signs_it(fake: FakeAws) -> None:
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    api = connect(SQS, 0.3, 0.8)
    send(api, QUEUE, "hello")
    api.close()
    [seen] = fake.seen
    assert seen.target == "AmazonSQS.SendMessage"
    assert seen.headers["content-type"] == "application/x-amz-json-1.0"
    assert seen.headers["x-amzn-query-mode"] == "true"
    assert seen.headers["x-amz-security-token"] == "testing"
    assert seen.body == {"QueueUrl": QUEUE, "MessageBody": "hello", "MessageAttributes": ATTRIBUTES}
    # Sign the request as the server received it with botocore: the same signature.
    authorization = seen.headers["authorization"]
    signed_names = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert signed_names == [
        "content-type",
        "host",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-target",
        "x-amzn-query-mode",
    ]
    request = AWSRequest("POST", fake.url + "/", data=seen.raw)
    for name in signed_names:
        request.headers[name] = seen.headers[name]
    request.context["timestamp"] = seen.headers["x-amz-date"]
    auth = botocore.auth.SigV4Auth(Credentials("testing", "testing", "testing"), "sqs", "us-east-1")
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    assert authorization.endswith(f"Signature={expected}")


def test_one_connection_serves_every_call(fake: FakeAws) -> None:
    api = connect(SQS, 0.3, 0.8)
    for _ in range(3):
        send(api, QUEUE)
    api.close()
    assert len({seen.client_port for seen in fake.seen}) == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_before_sending(
    fake: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.script(Answer(200, {"MessageId": "one"}, drop_connection=True))
    api = connect(SQS, 0.3, 0.8)
    assert send(api, QUEUE)["MessageId"] == "one"
    fake.wait_until_closed(1)
    exchanges = []
    exchange = Connection.exchange
    monkeypatch.setattr(Connection, "exchange", lambda *args: exchanges.append(1) or exchange(*args))
    assert send(api, QUEUE)["MessageId"] == "fake-message-id"
    api.close()
    assert len(exchanges) == 1  # not sent on the dead connection first
    assert len(fake.seen) == 2 and len({seen.client_port for seen in fake.seen}) == 2


def test_a_dead_connection_found_only_when_sending_is_retried_once_on_a_new_one(
    fake: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.script(Answer(200, {"MessageId": "one"}, drop_connection=True))
    api = connect(SQS, 0.3, 0.8)
    send(api, QUEUE)
    fake.wait_until_closed(1)
    # The check before reuse can miss a close that is still on its way: the send itself finds it.
    monkeypatch.setattr(aws_client, "_closed_by_peer", lambda sock: False)
    assert send(api, QUEUE)["MessageId"] == "fake-message-id"
    api.close()
    assert len(fake.seen) == 2


@pytest.mark.parametrize(
    "answers",
    [
        [error(400, "com.amazonaws.sqs#ThrottlingException"), error(400, "ThrottlingException")],
        [error(400, "RequestThrottled", "RequestThrottled;Sender")],
        [error(500, "InternalError"), error(503, "ServiceUnavailable")],
        [Answer(502, {"not": "aws"})],
        [Answer(200, raw=b"<html>a captive portal</html>")],
    ],
    ids=["throttling", "request_throttled", "5xx", "a_proxy_502", "a_200_that_is_not_json"],
)
def test_throttling_and_5xx_are_retried_within_the_budget(fake: FakeAws, answers: list[Answer]) -> None:
    fake.script(*answers)
    started = time.monotonic()
    assert WorkQueue().send(QUEUE, "x", ATTRIBUTES, started) == "fake-message-id"
    assert len(fake.seen) == len(answers) + 1
    assert len({seen.client_port for seen in fake.seen}) == 1  # an error answer keeps the connection


def test_throttling_that_never_ends_fails_inside_the_budget(fake: FakeAws) -> None:
    fake.default = error(400, "ThrottlingException")
    started = time.monotonic()
    with pytest.raises(EnqueueFailed, match=r"^SQS ThrottlingException after \d+ attempt\(s\)$"):
        WorkQueue().send(QUEUE, "x", ATTRIBUTES, started)
    assert time.monotonic() - started < 2.5
    assert len(fake.seen) >= 3


@pytest.mark.parametrize(
    "answer",
    [
        error(400, "com.amazonaws.sqs#QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue;Sender"),
        error(403, "com.amazon.coral.service#AccessDeniedException"),
        error(400, "InvalidParameterValue", "InvalidParameterValue;Sender"),
    ],
    ids=["missing_queue", "access_denied", "oversize"],
)
def test_answers_that_will_not_change_are_not_retried(fake: FakeAws, answer: Answer) -> None:
    fake.default = answer
    with pytest.raises(EnqueueFailed) as raised:
        WorkQueue().send(QUEUE, "x", ATTRIBUTES, time.monotonic())
    assert str(raised.value).startswith("SQS ") and "attempt" not in str(raised.value)
    assert len(fake.seen) == 1


def test_an_expired_token_rereads_the_environment_once(
    fake: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = connect(SQS, 0.3, 0.8)
    fake.script(error(403, "ExpiredToken", "ExpiredToken;Sender"))
    monkeypatch.setenv("AWS_SESSION_TOKEN", "renewed")  # whoever renewed it wrote it here
    assert send(api, QUEUE)["MessageId"] == "fake-message-id"
    assert [seen.headers["x-amz-security-token"] for seen in fake.seen] == ["testing", "renewed"]
    fake.script(error(403, "ExpiredToken", "ExpiredToken;Sender"))
    with pytest.raises(AwsError) as raised:  # nothing new in the environment: no second try
        send(api, QUEUE)
    api.close()
    assert (raised.value.status, raised.value.code) == (403, "ExpiredToken")
    assert len(fake.seen) == 3


def test_an_endpoint_that_never_answers_times_out_and_the_queue_answers_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with silent_endpoint() as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        api = connect(SQS, 0.3, 0.4)
        started = time.monotonic()
        with pytest.raises(TransportError, match=r"^TimeoutError"):
            send(api, QUEUE)
        assert 0.4 <= time.monotonic() - started < 1.0
        started = time.monotonic()
        with pytest.raises(EnqueueFailed, match=r"^TimeoutError after \d attempt\(s\)$"):
            WorkQueue().send(QUEUE, "x", ATTRIBUTES, started)
        assert time.monotonic() - started < 2.5


def test_a_refused_connection_is_a_transport_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(TransportError, match=r"^ConnectionRefusedError"):
        send(connect(SQS, 0.3, 0.8), QUEUE)
