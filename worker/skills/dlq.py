"""`dlq`: how many events are dead, and the most common reasons why (for the ops channel only).

Dead-letter reasons quote what failed (a channel, an error, sometimes a URL a user typed), so they are
shown only in ``OPS_CHANNEL`` or to the users listed in ``OPS_USERS`` (comma-separated user ids);
anyone else is told where to ask.
"""

from __future__ import annotations

from shared.config import env
from worker import aws, deadletters
from worker.mrkdwn import escape
from worker.skills import Ask, Reply, Skill

SAMPLE = 50  # dead letters read for the reasons (the depth is SQS's own count)


def run(ask: Ask) -> Reply:
    if not may_see_dead_letters(ask):
        return Reply(text=_where_to_ask())
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
    lines += [f"• {count} × {escape(reason)}" for reason, count in deadletters.common_reasons(dead)]
    lines.append("SREs: `slackbot dlq list`, then `slackbot dlq redrive` once the cause is fixed.")
    return Reply(text="\n".join(lines))


def may_see_dead_letters(ask: Ask) -> bool:
    """Asked in the ops channel, or by one of the ops users."""
    ops_channel = env("OPS_CHANNEL")
    ops_users = {user.strip() for user in env("OPS_USERS").split(",") if user.strip()}
    return bool(ops_channel and ask.channel == ops_channel) or bool(ask.user and ask.user in ops_users)


def _where_to_ask() -> str:
    ops_channel = env("OPS_CHANNEL")
    if not ops_channel:
        return "`dlq` answers only in the ops channel, and none is configured (OPS_CHANNEL)."
    return f"`dlq` answers only in the ops channel <#{escape(ops_channel)}>."


SKILL = Skill(name="dlq", help="how many events died, and why (in the ops channel)", run=run)
