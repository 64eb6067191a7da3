"""The ingest's cold start: importing it pulls in no heavy library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "pydantic",
    "slack_sdk",
    "aws_lambda_powertools",
    "slack_bolt",
    "requests",
    "urllib3.contrib.pyopenssl",
)


def test_importing_the_ingest_pulls_in_nothing_heavy() -> None:
    code = "import sys, json; import ingest.handler; print(json.dumps(sorted(m for m in sys.modules)))"
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    modules = set(json.loads(out.stdout))
    assert "ingest.handler" in modules and "boto3" in modules
    loaded = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert loaded == [], f"the ingest imported heavy modules: {loaded}"


def test_the_ingest_and_shared_import_only_stdlib_boto3_and_themselves() -> None:
    allowed = set(sys.stdlib_module_names) | {"boto3", "botocore", "ingest", "shared", "__future__"}
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
