"""``slackbot queue stats``: depth, in-flight and oldest age of the work queue and the dead-letter queue.

Depth and in-flight are SQS's own approximate counts. SQS does not tell the age of the oldest message;
CloudWatch's ``ApproximateAgeOfOldestMessage`` does (the metric the age alarm watches), so that is
read first: the newest datapoint of the last 15 minutes. Without one (moto, a new queue, no
permission), the dead-letter queue is peeked (the oldest ``SentTimestamp`` among up to 100 messages,
shown as ``≥`` when more are waiting) and the work queue's age is ``n/a``: peeking the work queue would
count as a receive towards its 5-receive redrive limit and hide messages from the worker.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ops import aws, config
from ops.failures import ExitCode
from ops.render import age, table
from worker import deadletters

PEEK_LIMIT = 100
PEEK_HOLD_SECONDS = 10
METRIC_WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class QueueStats:
    queue: str  # "work" | "dead-letter"
    url: str
    visible: int
    in_flight: int
    oldest_age_seconds: int | None
    oldest_age_source: str  # "cloudwatch" | "peek" | "n/a"
    oldest_age_lower_bound: bool = False  # peeked fewer messages than were waiting

    def oldest(self) -> str:
        shown = age(self.oldest_age_seconds)
        return f"≥{shown}" if self.oldest_age_lower_bound else shown


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="queue_command", required=True, metavar="COMMAND")
    stats = commands.add_parser("stats", help="depth, in flight and oldest age of both queues")
    stats.add_argument("--json", action="store_true", help="JSON, for scripts")
    config.add_arguments(stats)
    stats.set_defaults(run=run_stats)


def run_stats(args: argparse.Namespace) -> int:
    settings = config.load(args, "queue_url", "dlq_url")
    found = [
        measure("work", settings.queue_url, peek=False),
        measure("dead-letter", settings.dlq_url, peek=True),
    ]
    if args.json:
        print(json.dumps({stats.queue: asdict(stats) for stats in found}, indent=2))
        return ExitCode.OK
    rows = [[s.queue, str(s.visible), str(s.in_flight), s.oldest(), s.oldest_age_source] for s in found]
    print(table(["QUEUE", "VISIBLE", "IN FLIGHT", "OLDEST", "AGE FROM"], rows))
    return ExitCode.OK


def measure(name: str, url: str, *, peek: bool) -> QueueStats:
    sqs = aws.client("sqs")
    depth = deadletters.depth(sqs, url)
    stats = QueueStats(
        name, url, depth["visible"], depth["in_flight"], oldest_age_from_cloudwatch(url), "cloudwatch"
    )
    if stats.oldest_age_seconds is None and peek and stats.visible:
        stats = _oldest_by_peeking(sqs, stats)
    if stats.oldest_age_seconds is None:
        stats = replace(stats, oldest_age_source="n/a")
    return stats


def oldest_age_from_cloudwatch(url: str) -> int | None:
    now = time.time()
    try:
        answer: dict[str, Any] = aws.client("cloudwatch").get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Name": "QueueName", "Value": url.rstrip("/").rsplit("/", 1)[-1]}],
            StartTime=now - METRIC_WINDOW_SECONDS,
            EndTime=now,
            Period=60,
            Statistics=["Maximum"],
        )
    except (BotoCoreError, ClientError):  # optional: SQS's own numbers are what matters here
        return None
    points = sorted(answer.get("Datapoints", []), key=lambda point: point["Timestamp"])
    return int(points[-1]["Maximum"]) if points else None


def _oldest_by_peeking(sqs: Any, stats: QueueStats) -> QueueStats:
    letters = deadletters.scan(sqs, stats.url, limit=PEEK_LIMIT, hold_seconds=PEEK_HOLD_SECONDS)
    if not letters:
        return stats
    oldest = int(time.time() - min(letter.sent_at for letter in letters))
    return replace(
        stats,
        oldest_age_seconds=oldest,
        oldest_age_source="peek",
        oldest_age_lower_bound=len(letters) < stats.visible,
    )
