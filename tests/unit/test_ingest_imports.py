"""The ingest's cold start: its Lambda path loads nothing heavy, and not the AWS SDK.

With credentials in the environment (as on Lambda), a fresh interpreter imports ``ingest.handler``,
reads the signing secret from Secrets Manager and queues one signed event on SQS (both a loopback
fake speaking AWS's JSON protocol); then neither boto3 nor botocore may be in ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import slack_requests as sr
from tests.support.fake_aws import Answer, FakeAws

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "boto3",
    "botocore",
    "pydantic",
    "slack_sdk",
    "aws_lambda_powertools",
    "slack_bolt",
    "requests",
    "urllib3",
)

# The child: import the handler, answer one event, print what it answered and every module loaded.
CHILD = """
import json, os, sys
import ingest.handler
answer = ingest.handler.lambda_handler(json.loads(os.environ["EVENT"]), None)
print(json.dumps({"status": answer["statusCode"], "modules": sorted(sys.modules)}))
"""


def run_ingest(env: dict[str, str]) -> tuple[int, set[str]]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.splitlines()[-1])
    return int(result["status"]), set(result["modules"])


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def child_env(endpoint: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("SLACK_")}
    return {
        **env,
        "AWS_ENDPOINT_URL": endpoint,
        "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/work",
        "SLACK_SIGNING_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:signing",
        "EVENT": json.dumps(sr.signed_event("function_url", sr.mention())),
    }


def test_the_lambda_path_loads_neither_the_aws_sdk_nor_anything_heavy() -> None:
    with FakeAws() as fake:
        fake.script(Answer(200, {"SecretString": sr.SECRET}))  # the first call reads the secret
        status, modules = run_ingest(child_env(fake.url))
        targets = [seen.target for seen in fake.seen]
    assert status == 200
    assert targets == ["secretsmanager.GetSecretValue", "AmazonSQS.SendMessage"]
    assert "ingest.handler" in modules and "ingest.aws.client" in modules
    assert heavy(modules) == [], f"the ingest's Lambda path imported: {heavy(modules)}"


def test_without_credentials_in_the_environment_it_falls_back_to_boto3() -> None:
    with FakeAws() as fake:
        env = child_env(fake.url)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.pop(name, None)
        env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull  # and no profile either: boto3 finds none
        env["AWS_CONFIG_FILE"] = os.devnull
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        status, modules = run_ingest(env)
    assert status == 500  # no credentials anywhere: the secret cannot be read, Slack will retry
    assert {"boto3", "botocore"} <= modules


def test_the_ingest_and_shared_import_only_stdlib_and_themselves_at_top_level() -> None:
    # boto3 may appear only inside a function (ingest/aws/client.py's fallback), never at module level.
    allowed = set(sys.stdlib_module_names) | {"ingest", "shared", "__future__"}
    for folder in ("ingest", "shared"):
        for path in (ROOT / folder).rglob("*.py"):
            for line in path.read_text().splitlines():
                words = line.split()
                if len(words) >= 2 and words[0] in ("import", "from") and not line.startswith(" "):
                    top = words[1].split(".")[0]
                    if folder == "shared":
                        assert top in set(sys.stdlib_module_names) | {"shared", "__future__"}, (
                            f"{path}: {line}"
                        )
                    else:
                        assert top in allowed, f"{path}: {line}"
