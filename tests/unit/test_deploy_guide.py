"""docs/deploy.md, held to the template and the repository: what can be checked without an AWS account.

The files it names exist (or are what ``make package`` and SAM CLI write, where it says), the
outputs, resources, parameters and log groups it names are the template's, every ``sam`` command it
(and the README and the runbook) gives names the template (SAM CLI keeps ``samconfig.toml`` beside
the template it is given), the secrets it fills are the ones each function reads, the manifest's
URLs are the stack's output, and the first signed request of step 8 runs, as written, against the
real ingest behind a Function URL stand-in.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra import manifest
from infra import package as packaging
from infra import template as infra
from ingest.handler import lambda_handler
from sandbox.http_front import HttpFront
from tests.support.slack_requests import SECRET

ROOT = infra.ROOT
GUIDE = ROOT / "docs" / "deploy.md"
TEMPLATE_PATH = "infra/template.yaml"
FENCE = re.compile(r"^\s*```(\S*)\s*$")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
REPO_PATH = re.compile(r"^\.{0,2}/?[\w.-]+(?:/[\w.-]+)+/?$")
CAMEL_CASE = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+$")
# What the deploy writes, not the repository: where SAM CLI and `make package` put it.
WRITTEN = {
    "infra/samconfig.toml": "SAM CLI, beside the template it was given",
    ".aws-sam/build/": "SAM CLI's build folder",
}


def _text(path: Path = GUIDE) -> str:
    return path.read_text(encoding="utf-8")


def fenced_blocks(text: str) -> Iterator[tuple[str, list[str]]]:
    """Each fenced block: its language (``text`` when none is given) and its lines."""
    language: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        fence = FENCE.match(line)
        if fence is None:
            if language is not None:
                lines.append(line)
        elif language is None:
            language, lines = fence.group(1) or "text", []
        else:
            yield language, lines
            language = None


def sh_blocks(text: str) -> list[str]:
    return ["\n".join(lines) for language, lines in fenced_blocks(text) if language == "sh"]


def sh_commands(text: str) -> list[str]:
    """Each command line of the ``sh`` blocks (continuation lines joined)."""
    commands: list[str] = []
    for block in sh_blocks(text):
        for line in block.replace("\\\n", " ").splitlines():
            command = (
                line.split("#", 1)[0].strip() if line.strip().startswith(("sam", "make")) else line.strip()
            )
            if command:
                commands.append(command)
    return commands


def code_spans(text: str) -> list[str]:
    outside_blocks = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return CODE_SPAN.findall(outside_blocks)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return infra.load()


# ----- files ------------------------------------------------------------------------------------------


def test_every_file_the_guide_names_exists_or_is_written_where_it_says() -> None:
    text = _text()
    named = {span for span in code_spans(text) if REPO_PATH.match(span)}
    named |= {target for target in re.findall(r"\]\(([^)#:]+)\)", text)}  # relative links
    assert {"infra/template.yaml", "infra/samconfig.toml", "dist/ingest.zip", "dist/worker.zip"} <= named
    for name in sorted(named):
        if name in WRITTEN or name.startswith("dist/"):  # dist/: the next test
            continue
        assert (ROOT / name).exists() or (GUIDE.parent / name).exists(), f"docs/deploy.md names {name}"
    # SAM CLI reads and writes samconfig.toml in the folder of the template it was given.
    assert Path(TEMPLATE_PATH).parent / "samconfig.toml" == Path("infra/samconfig.toml")


def test_the_packages_it_names_are_what_make_package_builds_and_the_template_deploys(
    template: dict[str, Any],
) -> None:
    text = _text()
    named_zips = {span for span in code_spans(text) if span.startswith("dist/") and span.endswith(".zip")}
    code_uris = {
        name: infra.properties(template, name)["CodeUri"]
        for name in infra.resources_of_type(template, "AWS::Serverless::Function")
    }
    # CodeUri is relative to the template's folder; `make package` writes dist/<name>.zip.
    built = {(ROOT / "infra" / uri).resolve().relative_to(ROOT).as_posix() for uri in code_uris.values()}
    assert built == named_zips == {f"{packaging.DIST.name}/{name}.zip" for name in ("ingest", "worker")}
    for uri in code_uris.values():
        assert f"`CodeUri: {uri}`" in text
    assert re.search(r"^package: .*\n\t\$\(PY\) -m infra\.package$", _text(ROOT / "Makefile"), re.MULTILINE)


# ----- names from the template --------------------------------------------------------------------------


def test_every_output_resource_and_parameter_it_names_is_the_templates(template: dict[str, Any]) -> None:
    text = _text()
    outputs, resources, parameters = (set(template[key]) for key in ("Outputs", "Resources", "Parameters"))
    allowed_values = {str(v) for p in template["Parameters"].values() for v in p.get("AllowedValues", [])}
    for key in re.findall(r"OutputKey=='(\w+)'", text):
        assert key in outputs, f"no output {key}"
    for prompt in re.findall(r"`Parameter (\w+)`", text):
        assert prompt in parameters, f"no parameter {prompt}"
    for loop in re.findall(r"for \w+ in ([\w ]+); do", text):
        for logical_id in loop.split():
            assert template["Resources"][logical_id]["Type"] == "AWS::Serverless::Function"
    camel = {span for span in code_spans(text) if CAMEL_CASE.match(span)}
    properties = {key for name in template["Resources"] for key in infra.properties(template, name)}
    unknown = camel - outputs - resources - parameters - allowed_values - properties
    assert not unknown, f"docs/deploy.md names {sorted(unknown)}, which the template does not have"
    assert {"SlackRequestUrl", "SlackSigningSecretArn", "SlackBotTokenSecretArn"} <= camel | set(
        re.findall(r"OutputKey=='(\w+)'", text)
    )


def test_the_log_groups_it_tails_are_the_templates(template: dict[str, Any]) -> None:
    groups = {
        props["LogGroupName"]["Fn::Sub"].replace("${AWS::StackName}", "$STACK")
        for props in (infra.properties(template, name) for name in template["Resources"])
        if isinstance(props.get("LogGroupName"), dict)
    }
    tailed = re.findall(r'aws logs tail "([^"]+)"', _text())
    assert tailed and set(tailed) <= groups


def test_each_secret_goes_where_its_function_reads_it(template: dict[str, Any]) -> None:
    """Step 6 puts the signing secret into the secret the ingest reads, the token into the worker's."""
    text = _text()
    output_of = dict(re.findall(r"(\w+)=\$\(aws cloudformation describe-stacks .*?OutputKey=='(\w+)'", text))
    puts = dict(re.findall(r'put-secret-value --secret-id "\$(\w+)" --secret-string "\$(\w+)"', text))
    assert set(puts.values()) == {"SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"}
    for variable, value in puts.items():
        secret = template["Outputs"][output_of[variable]]["Value"]["Ref"]
        assert template["Resources"][secret]["Type"] == "AWS::SecretsManager::Secret"
        reader = "IngestFunction" if value == "SLACK_SIGNING_SECRET" else "WorkerFunction"
        environment = infra.properties(template, reader)["Environment"]["Variables"]
        assert environment[f"{value}_ARN"] == {"Ref": secret}


# ----- SAM CLI's configuration file ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "document", ["docs/deploy.md", "docs/runbook.md", "README.md"], ids=["guide", "runbook", "readme"]
)
def test_every_sam_command_names_the_template(document: str) -> None:
    """A ``sam deploy`` without ``--template-file infra/template.yaml`` run from the root finds neither
    the template nor ``infra/samconfig.toml`` (the runbook's rollback once did exactly that)."""
    commands = [c for c in sh_commands(_text(ROOT / document)) if c.split()[:1] == ["sam"]]
    assert commands or document != "docs/deploy.md"
    for command in commands:
        if command.split()[1] in ("deploy", "validate", "build"):
            assert f"--template-file {TEMPLATE_PATH}" in command, f"{document}: {command}"


def test_the_manifest_command_reads_the_stacks_request_url(template: dict[str, Any]) -> None:
    assert 'make manifest STACK="$STACK"' in sh_commands(_text())
    assert '$(PY) -m infra.manifest --stack "$(STACK)"' in _text(ROOT / "Makefile")
    assert manifest.URL_OUTPUT in template["Outputs"]


# ----- the manifest's URLs are the stack's ------------------------------------------------------------


def test_the_manifest_points_every_request_url_at_the_stacks_output(template: dict[str, Any]) -> None:
    output = template["Outputs"][manifest.URL_OUTPUT]["Value"]["Fn::If"]
    http_api, function_url = (branch["Fn::Sub"] for branch in output[1:])
    # Both front doors end in the path the HTTP API routes (the Function URL takes any path).
    route = next(iter(infra.properties(template, "SlackHttpApi")["DefinitionBody"]["paths"]))
    assert http_api.endswith(route) and function_url.endswith(route.lstrip("/"))

    url = "https://abc123.lambda-url.eu-west-1.on.aws/slack/events"
    filled = manifest.fill(manifest.load(), url)
    settings = filled["settings"]
    found = [settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]]
    found += [command["url"] for command in filled["features"].get("slash_commands", [])]
    assert found and set(found) == {url}
    assert "example.invalid" not in manifest.render(filled)  # no placeholder left anywhere


# ----- step 8, as written ------------------------------------------------------------------------------


def _step_8() -> tuple[str, list[str]]:
    """The guide's signed-request block and the output it says to expect."""
    text = _text()
    (block,) = [b for b in sh_blocks(text) if "X-Slack-Signature" in b]
    after = text.split(block, 1)[1].split("```", 1)[1]  # past the block's closing fence
    expected = next(lines for language, lines in fenced_blocks(after) if language == "text")
    return block, expected


@pytest.fixture
def function_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The real ingest behind a Function URL stand-in, with the signing secret stored."""
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.delenv("SLACK_SIGNING_SECRET_ARN", raising=False)
    with HttpFront(lambda_handler) as front:
        yield front.url + "/slack/events"


def test_the_first_signed_request_is_answered_as_the_guide_says(function_url: str) -> None:
    block, expected = _step_8()
    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "URL": function_url, "SLACK_SIGNING_SECRET": SECRET},
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == expected


def test_the_first_signed_request_fails_with_another_secret(function_url: str) -> None:
    block, _ = _step_8()
    ran = subprocess.run(
        ["bash", "-c", block],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "URL": function_url, "SLACK_SIGNING_SECRET": "not-it"},
    )
    assert ran.stdout.splitlines()[0].endswith("HTTP 401")
