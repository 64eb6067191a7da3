"""`dlq`: how many events are dead, the most common reasons why, and what to do about each category
of death as the runbook says (for the ops channel only).

Dead-letter reasons quote what failed (a channel, an error, sometimes a URL a user typed), so they are
shown only in ``OPS_CHANNEL`` or to the users listed in ``OPS_USERS`` (comma-separated user ids);
anyone else is told where to ask.
"""

from __future__ import annotations

from collections import Counter

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
    lines.append("What to do, by category (`slackbot dlq list` shows each one's; runbook: docs/runbook.md):")
    lines += [f"• {escape(category)} ({count}): {advice(category)}" for category, count in _categories(dead)]
    return Reply(text="\n".join(lines))


# What the runbook (docs/runbook.md, section 3) says to do with each category of dead letter.
ADVICE = {
    "poison": "it can never be read: keep a copy (`slackbot dlq show ID`), then `slackbot dlq drop ID`"
    " (runbook 3e)",
    "permanent": "Slack refused for good: fix the cause (the bot token, the bot's place in the channel),"
    " then `slackbot dlq redrive ID`; drop what can never succeed, such as an archived channel or a"
    " forged response_url (runbook 3a, 3b, 3f)",
    "retries exhausted": "a service was down or the worker failed: once it is back (or rolled back),"
    " `slackbot dlq redrive --all` (runbook 3c, 3d)",
    "alarm": "an alarm that could not be posted: see the alarm in CloudWatch, fix the bot's access to"
    " the ops channel, then `slackbot dlq drop ID`",
}


def advice(category: str) -> str:
    return ADVICE.get(category, "see `slackbot dlq show ID` and the runbook")


def _categories(dead: list[deadletters.DeadLetter]) -> list[tuple[str, int]]:
    return Counter(letter.category for letter in dead).most_common()


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
