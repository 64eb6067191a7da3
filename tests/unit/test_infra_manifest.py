"""``make manifest`` (``python -m infra.manifest --stack NAME``) without AWS set up: one line, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.template import ROOT
from tests.support.moto_server import free_port


def _manifest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The command in a shell with no AWS settings at all, plus ``env``; nothing listens at its endpoint."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    clean |= {
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",  # never real AWS, whatever happens
    }
    return subprocess.run(
        [sys.executable, "-m", "infra.manifest", "--stack", "slackbot"],
        capture_output=True,
        text=True,
        env=clean | env,
        cwd=ROOT,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "code", "line"),
    [
        ({}, 2, "manifest: no AWS region: set AWS_REGION or AWS_DEFAULT_REGION, or use a profile with one"),
        (
            {"AWS_REGION": "eu-west-1"},
            3,
            "manifest: no usable AWS credentials: Unable to locate credentials",
        ),
    ],
    ids=["no region", "no credentials"],
)
def test_without_region_or_credentials_it_says_so_in_one_line(
    tmp_path: Path, env: dict[str, str], code: int, line: str
) -> None:
    answer = _manifest(tmp_path, **env)
    assert (answer.returncode, answer.stderr.splitlines()) == (code, [line])
    assert answer.stdout == ""


def test_an_unreachable_endpoint_is_one_line_too(tmp_path: Path) -> None:
    answer = _manifest(
        tmp_path, AWS_REGION="eu-west-1", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing"
    )
    assert answer.returncode == 3
    (line,) = answer.stderr.splitlines()
    assert line.startswith("manifest: cannot reach AWS: Could not connect to the endpoint URL")
