"""What the ingest's AWS client reads from the environment, as boto3 would read it on Lambda."""

from __future__ import annotations

import pytest

from ingest.aws.client import (
    SECRETS_MANAGER,
    SQS,
    JsonApi,
    connect,
    endpoint_url,
    env_credentials,
)
from ingest.aws.sigv4 import Credentials
from shared.config import region


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SQS",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token")


def test_the_region_comes_from_aws_region_then_aws_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    assert region() == "us-east-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert region() == "eu-west-1"
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert region() == "ap-south-1"


def test_the_endpoint_is_the_services_own_then_the_global_one_then_the_regional_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert endpoint_url(SQS) == "https://sqs.eu-west-1.amazonaws.com"
    assert endpoint_url(SECRETS_MANAGER) == "https://secretsmanager.eu-west-1.amazonaws.com"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    assert endpoint_url(SQS) == endpoint_url(SECRETS_MANAGER) == "http://127.0.0.1:5000"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:6000")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:7000")
    assert endpoint_url(SQS) == "http://127.0.0.1:6000"
    assert endpoint_url(SECRETS_MANAGER) == "http://127.0.0.1:7000"


def test_china_regions_have_their_own_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "cn-north-1")
    assert endpoint_url(SQS) == "https://sqs.cn-north-1.amazonaws.com.cn"


def test_credentials_need_both_keys_and_take_the_token_when_there_is_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert env_credentials() == Credentials("AKIDEXAMPLE", "secret", "token")
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    assert env_credentials() == Credentials("AKIDEXAMPLE", "secret", "")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert env_credentials() is None


def test_clients_of_one_container_share_one_tls_context() -> None:
    # Loading the CA bundle costs 10-30 ms: the queue's client and the secret's read pay it once.
    sqs, secrets = connect(SQS, 0.3, 0.8), connect(SECRETS_MANAGER, 0.3, 0.8)
    assert isinstance(sqs, JsonApi) and isinstance(secrets, JsonApi)
    assert sqs._tls is not None and sqs._tls is secrets._tls


def test_an_endpoint_that_is_not_an_http_url_is_refused() -> None:
    with pytest.raises(ValueError, match="not an endpoint URL"):
        JsonApi(SQS, "sqs.eu-west-1.amazonaws.com", "eu-west-1", Credentials("a", "b"), 0.3, 0.8)
