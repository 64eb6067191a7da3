"""`dlq`: how many events are dead, and the most common reasons why."""

from __future__ import annotations

from shared.config import env
from worker import aws, deadletters
from worker.skills import Ask, Reply, Skill

SAMPLE = 50  # dead letters read for the reasons (the depth is SQS's own count)


def run(ask: Ask) -> Reply:
    dlq_url = env("DLQ_URL")
    if not dlq_url:
        return Reply(text="The dead-letter queue is not configured (DLQ_URL).")
    sqs = aws.client("sqs")
    depth = deadletters.depth(sqs, dlq_url)
    total = depth["visible"] + depth["in_flight"]
    if total == 0:
        return Reply(text=":white_check_mark: The dead-letter queue is empty.")
    dead = deadletters.scan(sqs, dlq_url, limit=SAMPLE, hold_seconds=5)
    deadletters.explain(dead, aws.client("dynamodb"), env("STATE_TABLE"))
    lines = [f":skull: {total} dead letter{'s' if total != 1 else ''} in the DLQ. Most common reasons:"]
    lines += [f"• {count} × {reason}" for reason, count in deadletters.common_reasons(dead)]
    lines.append("SREs: `slackbot dlq list`, then `slackbot dlq redrive` once the cause is fixed.")
    return Reply(text="\n".join(lines))


SKILL = Skill(name="dlq", help="how many events died, and why", run=run)
