"""docs/skills.md's example, run as a newcomer would: one new file in the skills package, nothing else.

The example's code is read out of the guide itself, written into a temporary copy of ``worker/skills``
as ``whois.py``, and reached through the real pipeline (ingest → SQS on moto server → worker → Slack
stand-in): the guide and the code cannot drift apart.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import worker.skills
from tests.support import slack_requests as sr
from tests.support.pipeline import Pipeline

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "skills.md"


def guide_example() -> str:
    """The guide's one ``python`` block that defines the ``whois`` skill."""
    blocks = re.findall(r"^```python\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), flags=re.S | re.M)
    (example,) = [block for block in blocks if 'Skill(name="whois"' in block]
    return str(example)


@pytest.fixture
def skills_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the skills package that discovery reads instead of ``worker/skills``."""
    package = tmp_path / "skills"
    shutil.copytree(
        Path(worker.skills.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.setattr(worker.skills, "__path__", [str(package)])
    worker.skills.all_skills.cache_clear()
    try:
        yield package
    finally:
        worker.skills.all_skills.cache_clear()
        sys.modules.pop("worker.skills.whois", None)
        if hasattr(worker.skills, "whois"):
            delattr(worker.skills, "whois")


def test_the_guides_whois_skill_answers_whois_with_nothing_else_touched(
    pipeline: Pipeline, skills_package: Path
) -> None:
    assert worker.skills.for_command("/whois") is None  # the package as it is knows no /whois

    (skills_package / "whois.py").write_text(guide_example(), encoding="utf-8")
    worker.skills.all_skills.cache_clear()  # a new container would find it the same way
    # A name from outside, with markup in it: the answer must show it as text
    pipeline.slack.add_user("U0HUMAN", name="grace", real_name="Grace <!channel> Hopper")

    assert pipeline.command("", command="/whois")["statusCode"] == 200
    (invocation,) = pipeline.drain()

    assert invocation.failed == [] and pipeline.depth(pipeline.dlq_url) == 0
    (lookup,) = pipeline.slack.calls("users.info")
    assert lookup["ok"] is True and lookup["args"]["user"] == "U0HUMAN"
    (reply,) = pipeline.replies()
    assert reply["kind"] == "response_url" and reply["args"]["response_type"] == "ephemeral"
    assert reply["args"]["text"] == "You are Grace &lt;!channel&gt; Hopper."


def test_the_same_file_answers_whois_in_a_direct_message(pipeline: Pipeline, skills_package: Path) -> None:
    (skills_package / "whois.py").write_text(guide_example(), encoding="utf-8")
    worker.skills.all_skills.cache_clear()

    pipeline.post(sr.direct_message("whois", channel="D0WHO"))
    (invocation,) = pipeline.drain()

    assert invocation.failed == []
    (reply,) = pipeline.replies()
    assert reply["args"]["channel"] == "D0WHO" and reply["args"]["text"] == "You are Ada Lovelace."


def test_the_guide_describes_every_field_of_the_skill_api() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    fields = [
        *worker.skills.Skill.__dataclass_fields__,
        *worker.skills.Ask.__dataclass_fields__,
        *worker.skills.Reply.__dataclass_fields__,
    ]
    assert [name for name in fields if f"| `{name}` |" not in guide] == []
