"""`home`: the App Home tab: every skill and how to reach it, and the pipeline's health in numbers.

Slack sends ``app_home_opened`` each time someone opens the app's Home or Messages tab. For the Home
tab this skill publishes a view for that person (``views.publish``, ``type: home``); the Messages tab
needs nothing. The skill answers by itself: nothing is posted in the DM.

The health is counts only, so that anyone in the workspace may see it:

- the work queue's and the dead-letter queue's depth, from SQS's own counts (``GetQueueAttributes``);
- the age of the work queue's oldest message, from CloudWatch's ``ApproximateAgeOfOldestMessage``
  when the worker may read it, else left out. It is never learnt by receiving a message: every receive
  raises the message's receive count (after 5, SQS dead-letters it).

Never a dead letter's content: it quotes what people typed, channels and error texts, and is shown
only in the ops channel (the ``dlq`` skill).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.config import env
from shared.log import get_logger
from worker import aws, blockkit, deadletters, slack
from worker.mrkdwn import escape
from worker.skills import Ask, Reply, Skill, all_skills

logger = get_logger("worker")

MAX_VIEW_BLOCKS = 100  # Slack's limit for a Home tab (a message takes 50)
AGE_WINDOW = timedelta(minutes=15)  # SQS publishes its metrics every minute, a few minutes late
AGE_PERIOD_SECONDS = 60
_HEALTH_BLOCKS = 4  # divider, header, fields, context
_FIXED_BLOCKS = 1 + _HEALTH_BLOCKS + 1  # the skills' header, the health, a "more skills" note


@dataclass(frozen=True)
class Depth:
    visible: int
    in_flight: int

    @property
    def total(self) -> int:
        return self.visible + self.in_flight


@dataclass(frozen=True)
class Health:
    work_queue: Depth | None  # None: not configured, or SQS did not answer
    dead_letters: Depth | None
    oldest_age_seconds: float | None = None  # None: CloudWatch refused, failed or has no data point
    read_at: datetime | None = None


def run(ask: Ask) -> Reply:
    return Reply(
        text="My Home tab lists what I can do and how the pipeline is doing: click my name, then *Home*."
    )


def opened(ask: Ask) -> None:
    """``app_home_opened``: publish the Home tab for whoever opened it."""
    event = ask.payload.get("event")
    event = event if isinstance(event, dict) else {}
    user = event.get("user")
    if event.get("tab") != "home" or not isinstance(user, str) or not user:
        return None  # the Messages tab (or an event without a user): nothing to publish
    view = home_view(all_skills().values(), read_health())
    # An error answer from Slack becomes Permanent (invalid_arguments…) or Transient (5xx, 429).
    slack.call(ask.slack, "views.publish", user_id=user, view=view)
    return None


def home_view(skills: Iterable[Skill], health: Health) -> dict[str, Any]:
    listed = list(skills)
    room = MAX_VIEW_BLOCKS - _FIXED_BLOCKS
    blocks: list[dict[str, Any]] = [_header("What I can do")]
    blocks += [_skill_section(skill) for skill in listed[:room]]
    if len(listed) > room:
        blocks.append(_context(f"… and {len(listed) - room} more: say `help` to see them all."))
    blocks += _health_blocks(health)
    return {"type": "home", "blocks": blocks}


def ways_to_reach(skill: Skill) -> list[str]:
    """How a person reaches ``skill``: its slash commands, a mention or DM, its shortcuts."""
    ways = [f"`{command}`" for command in skill.commands]
    ways.append(f"mention or DM: `{skill.name}`")
    ways += [f"shortcut `{skill.name}:{name}`" for name in skill.shortcuts]
    return ways


def _skill_section(skill: Skill) -> dict[str, Any]:
    text = f"*`{skill.name}`*: {escape(skill.help)}\n{' · '.join(ways_to_reach(skill))}"
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": blockkit.truncate(text, blockkit.SECTION_TEXT)},
    }


def _health_blocks(health: Health) -> list[dict[str, Any]]:
    fields = [
        _field("Work queue", _depth(health.work_queue)),
        _field("Dead letters", _depth(health.dead_letters)),
    ]
    if health.oldest_age_seconds is not None:
        fields.append(_field("Oldest message waiting", duration(health.oldest_age_seconds)))
    source = "Counts from SQS" + (", age from CloudWatch" if health.oldest_age_seconds is not None else "")
    when = f"; read at {health.read_at:%H:%M} UTC, when you opened this tab" if health.read_at else ""
    return [
        {"type": "divider"},
        _header("How the pipeline is doing"),
        {"type": "section", "fields": fields},
        _context(f"{source}{when}."),
    ]


def _depth(depth: Depth | None) -> str:
    if depth is None:
        return "unavailable"
    return f"{depth.total} ({depth.visible} waiting, {depth.in_flight} in flight)"


def duration(seconds: float) -> str:
    """``42 s``, ``12 min 34 s``, ``3 h 5 min``."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, rest = divmod(whole, 3600)
    return f"{hours} h {rest // 60} min"


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[: blockkit.HEADER_TEXT]}}


def _field(title: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": f"*{title}*\n{value}"}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


# -- reading the health ------------------------------------------------------------------------------


def read_health(now: datetime | None = None) -> Health:
    now = now or datetime.now(UTC)
    queue_url, dlq_url = env("QUEUE_URL"), env("DLQ_URL")
    sqs = aws.client("sqs")
    return Health(
        work_queue=queue_depth(sqs, queue_url),
        dead_letters=queue_depth(sqs, dlq_url),
        oldest_age_seconds=oldest_message_age(aws.client("cloudwatch"), queue_url, now)
        if queue_url
        else None,
        read_at=now,
    )


def queue_depth(sqs: Any, queue_url: str) -> Depth | None:
    if not queue_url:
        return None
    try:
        counts = deadletters.depth(sqs, queue_url)
    except (BotoCoreError, ClientError) as error:
        logger.warning("queue depth unavailable", extra={"fields": {"error": error.__class__.__name__}})
        return None
    return Depth(counts["visible"], counts["in_flight"])


def oldest_message_age(cloudwatch: Any, queue_url: str, now: datetime) -> float | None:
    """The latest ``ApproximateAgeOfOldestMessage`` (Maximum) of the queue; None when it cannot be read."""
    try:
        answer = cloudwatch.get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Name": "QueueName", "Value": queue_name(queue_url)}],
            StartTime=now - AGE_WINDOW,
            EndTime=now,
            Period=AGE_PERIOD_SECONDS,
            Statistics=["Maximum"],
        )
    except (BotoCoreError, ClientError) as error:  # no permission, or CloudWatch unreachable: left out
        logger.warning("oldest message age unavailable", extra={"fields": {"error": _code(error)}})
        return None
    points = [p for p in answer.get("Datapoints", []) if isinstance(p.get("Maximum"), int | float)]
    if not points:
        return None
    latest = max(points, key=lambda point: point["Timestamp"])
    return float(latest["Maximum"])


def queue_name(queue_url: str) -> str:
    """``https://sqs.…/123456789012/name`` → ``name`` (CloudWatch's ``QueueName`` dimension)."""
    return queue_url.rstrip("/").rsplit("/", 1)[-1]


def _code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "ClientError"))
    return error.__class__.__name__


SKILL = Skill(
    name="home",
    help="my Home tab: what I can do, and the pipeline's health in numbers",
    run=run,
    events={"app_home_opened": opened},
)
