"""Print the Slack app manifest with its request URLs filled from a deployed stack.

    python -m infra.manifest --stack NAME          # or: make manifest STACK=NAME
    python -m infra.manifest --url https://…/slack/events

Reads the stack's ``SlackRequestUrl`` output (CloudFormation ``DescribeStacks``, with the client
the ``slackbot`` commands use: ``AWS_REGION``/``AWS_PROFILE`` and ``AWS_ENDPOINT_URL`` honoured) and
writes ``infra/slack-app-manifest.yaml`` with the Event Subscriptions, Interactivity (and its options load URL)
and every slash command pointing there, as YAML (or ``--format json``) to paste into https://api.slack.com/apps →
Create New App → From an app manifest.

A missing region, missing credentials or a stack that does not exist is one line on stderr, with the
``slackbot`` commands' wording and exit codes (2 configuration, 3 AWS unreachable or refusing).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from botocore.exceptions import BotoCoreError, ClientError

from infra.template import ROOT
from ops import aws
from ops.failures import ExitCode, OpsError, from_aws

MANIFEST = ROOT / "infra" / "slack-app-manifest.yaml"
URL_OUTPUT = "SlackRequestUrl"


def load(path: Path = MANIFEST) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a mapping")
    return data


def fill(manifest: dict[str, Any], request_url: str) -> dict[str, Any]:
    """A copy of ``manifest`` whose event, interactivity and slash command URLs are ``request_url``."""
    if not request_url.startswith("https://"):
        raise ValueError(f"Slack only calls https URLs, not {request_url!r}")
    filled = copy.deepcopy(manifest)
    settings = filled.setdefault("settings", {})
    settings.setdefault("event_subscriptions", {})["request_url"] = request_url
    interactivity = settings.setdefault("interactivity", {})
    interactivity["is_enabled"] = True
    interactivity["request_url"] = request_url
    interactivity["message_menu_options_url"] = request_url
    for command in filled.get("features", {}).get("slash_commands", []):
        command["url"] = request_url
    return filled


def stack_outputs(stack: str, cloudformation: Any = None) -> dict[str, str]:
    if cloudformation is None:
        cloudformation = aws.client("cloudformation")
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):  # CloudFormation's ValidationError for an unknown stack
            raise OpsError(
                f"no such stack: {stack} (it does not exist in this account and region)", ExitCode.USAGE
            ) from None
        raise
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def request_url_of(stack: str, cloudformation: Any = None) -> str:
    outputs = stack_outputs(stack, cloudformation)
    if URL_OUTPUT not in outputs:
        raise OpsError(
            f"stack {stack} has no {URL_OUTPUT} output (is it this project's stack?)", ExitCode.USAGE
        )
    return outputs[URL_OUTPUT]


def render(manifest: dict[str, Any], fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    return str(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.manifest", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="the deployed stack's name: its SlackRequestUrl output is used")
    source.add_argument("--url", help="the request URL itself")
    parser.add_argument("--format", choices=["yaml", "json"], default="yaml")
    parser.add_argument("--manifest", type=Path, default=MANIFEST, help="the manifest to fill")
    args = parser.parse_args(argv)
    try:
        url = args.url or request_url_of(args.stack)
    except (BotoCoreError, ClientError) as error:
        return _fail(from_aws(error))
    except OpsError as error:
        return _fail(error)
    try:
        sys.stdout.write(render(fill(load(args.manifest), url), args.format))
    except ValueError as error:
        parser.error(str(error))
    return 0


def _fail(error: OpsError) -> int:
    """One line on stderr, as the ``slackbot`` commands print it; the exit code for the kind of failure."""
    print(f"manifest: {error}", file=sys.stderr)
    return int(error.code)


if __name__ == "__main__":
    sys.exit(main())
