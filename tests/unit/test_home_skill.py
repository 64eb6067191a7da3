"""The Home tab's view on its own: within Slack's limits whatever the skills, and its numbers' wording."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from slack_sdk import WebClient

from sandbox.slack_standin import MAX_VIEW_BLOCKS, SlackStandIn
from worker import blockkit
from worker.skills import Ask, Reply, Skill, all_skills, home

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
HEALTHY = home.Health(home.Depth(3, 1), home.Depth(0, 0), 42.0, NOW)


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as s:
        yield s


def publish(standin: SlackStandIn, view: dict[str, Any]) -> Any:
    client = WebClient(token="xoxb-test", base_url=standin.api_url, retry_handlers=[], timeout=5)
    return client.views_publish(user_id="U0HUMAN", view=view)


def skill(number: int, help_text: str = "does a thing") -> Skill:
    return Skill(name=f"s{number:03d}", help=help_text, run=lambda ask: Reply(text="x"))


def test_many_skills_and_long_help_lines_stay_within_slacks_limits(standin: SlackStandIn) -> None:
    many = [skill(n, "h" * 4000 if n == 0 else "does a thing") for n in range(150)]
    view = home.home_view(many, HEALTHY)

    assert len(view["blocks"]) == MAX_VIEW_BLOCKS
    assert publish(standin, view)["ok"] is True  # the stand-in refuses what Slack would
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section" and "text" in b]
    assert len(sections[0]) == blockkit.SECTION_TEXT and sections[0].endswith("…")
    shown = [b for b in view["blocks"] if b["type"] == "context"]
    assert "… and 56 more: say `help` to see them all." in shown[0]["elements"][0]["text"]
    assert view["blocks"][-2]["fields"][0]["text"] == "*Work queue*\n4 (3 waiting, 1 in flight)"


def test_the_built_in_skills_are_all_listed_and_the_home_skill_says_how_to_open_it(
    standin: SlackStandIn,
) -> None:
    view = home.home_view(all_skills().values(), HEALTHY)
    assert publish(standin, view)["ok"] is True
    listed = " ".join(b["text"]["text"] for b in view["blocks"] if b["type"] == "section" and "text" in b)
    assert all(f"*`{name}`*" in listed for name in all_skills())
    assert "Home" in home.run(Ask(text="")).text


def test_an_unreadable_health_says_so_and_an_unknown_age_is_left_out() -> None:
    view = home.home_view([], home.Health(None, home.Depth(2, 0)))
    fields = [f["text"] for f in view["blocks"][-2]["fields"]]
    assert fields == ["*Work queue*\nunavailable", "*Dead letters*\n2 (2 waiting, 0 in flight)"]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0 s"),
        (59.4, "59 s"),
        (60, "1 min"),
        (754, "12 min 34 s"),
        (3600, "1 h 0 min"),
        (99_999, "27 h 46 min"),
    ],
)
def test_ages_read_as_people_say_them(seconds: float, shown: str) -> None:
    assert home.duration(seconds) == shown


class FakeCloudWatch:
    def __init__(self, answer: dict[str, Any] | Exception) -> None:
        self.answer = answer
        self.asked: list[dict[str, Any]] = []

    def get_metric_statistics(self, **kwargs: Any) -> dict[str, Any]:
        self.asked.append(kwargs)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_the_oldest_age_is_the_latest_figure_for_the_work_queue_by_name() -> None:
    points = [
        {"Timestamp": NOW - timedelta(minutes=3), "Maximum": 900.0},
        {"Timestamp": NOW - timedelta(minutes=1), "Maximum": 12.0},  # the queue has caught up since
        {"Timestamp": NOW - timedelta(minutes=2), "Maximum": 300.0},
    ]
    cloudwatch = FakeCloudWatch({"Datapoints": points})
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/bot-WorkQueue-abc"
    assert home.oldest_message_age(cloudwatch, url, NOW) == 12.0
    (asked,) = cloudwatch.asked
    assert asked["Namespace"] == "AWS/SQS" and asked["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert asked["Dimensions"] == [{"Name": "QueueName", "Value": "bot-WorkQueue-abc"}]
    assert asked["Statistics"] == ["Maximum"] and asked["EndTime"] == NOW
    assert timedelta(minutes=5) <= NOW - asked["StartTime"] <= timedelta(minutes=30)


def test_no_figure_or_no_permission_leaves_the_age_out() -> None:
    assert home.oldest_message_age(FakeCloudWatch({"Datapoints": []}), "https://q/1/work", NOW) is None
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetMetricStatistics")
    assert home.oldest_message_age(FakeCloudWatch(denied), "https://q/1/work", NOW) is None


def test_the_messages_tab_and_an_event_without_a_user_publish_nothing(standin: SlackStandIn) -> None:
    client = WebClient(token="xoxb-test", base_url=standin.api_url, retry_handlers=[], timeout=5)
    for event in (
        {"type": "app_home_opened", "user": "U1", "tab": "messages"},
        {"type": "app_home_opened", "tab": "home"},
    ):
        assert home.opened(Ask(text="", payload={"event": event}, slack=client)) is None
    assert standin.calls() == []
