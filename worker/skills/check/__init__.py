"""`check <url> …`: HTTPS health check of each URL, all at once, with a Re-check button.

Each URL gets its own section: a status emoji, the HTTP status, the latency and, for https, the days
left on its TLS certificate. Addresses the checker must not reach (link-local, cloud metadata, and
private networks unless CHECK_ALLOW_PRIVATE_NETWORKS=true) are refused, and the reply says why.

Every URL, redirect target and error text in a reply comes from outside (the user, or the server
checked) and is escaped (`worker.mrkdwn.escape`): a URL such as `https://x.invalid/<!channel>` or a
`Location: <https://evil.example|Slack login>` shows as text, never as a ping or a disguised link.

What one person can make the bot fetch is bounded: the first MAX_URLS URLs of a message (the reply says
when there were more), MAX_REDIRECTS redirects each, and RATE_LIMIT checks per person per
RATE_LIMIT_WINDOW_SECONDS, counted in the state table (Re-check clicks count too). Over the limit, the
reply says so and nothing is fetched.

A package, so that what only this skill needs lives with it: this file is the skill (the words, the
reply, the rate limit), ``urlcheck`` the SSRF-safe HTTP(S) checker, ``netguard`` which addresses the
checker may reach.
"""

from __future__ import annotations

import math
import time
from typing import Any

from shared.config import env, env_bool
from worker import aws
from worker.mrkdwn import escape
from worker.skills import Ask, Reply, Skill
from worker.skills.check.urlcheck import MAX_URLS, CheckResult, check_all, extract_urls, is_checkable_url
from worker.state import StateTable

TIMEOUT_SECONDS = 5.0
CERT_WARNING_DAYS = 14
RATE_LIMIT = 10  # checks per person …
RATE_LIMIT_WINDOW_SECONDS = 600  # … per this fixed window
MAX_BUTTON_VALUE = 2000  # Slack's limit on a button's value
USAGE = "Usage: `check <url> [<url> …]`, for example `check https://example.org`"


def run(ask: Ask) -> Reply:
    return _check(ask, extract_urls(ask.text))


def recheck(ask: Ask) -> Reply:
    """A Re-check click: the value is the bot's own list of URLs, one per word, taken as they are."""
    return _check(ask, [word for word in ask.text.split() if is_checkable_url(word)])


def _check(ask: Ask, urls: list[str]) -> Reply:
    if not urls:
        return Reply(text=USAGE)
    limited = _rate_limited(ask)
    if limited is not None:
        return limited
    results = check_all(
        urls[:MAX_URLS],
        timeout=min(TIMEOUT_SECONDS, max(ask.seconds_left() - 2.0, 0.5)),
        allow_private=env_bool("CHECK_ALLOW_PRIVATE_NETWORKS"),
        deadline=ask.deadline - 1.0,
    )
    return render(results, given=len(urls))


def _rate_limited(ask: Ask) -> Reply | None:
    """The reply when this person has used up their checks, else None (and one more is counted)."""
    table = env("STATE_TABLE")
    if not table:  # no state table (a unit test, a bare local run): nothing to count in
        return None
    key = f"ratelimit:check:{ask.team or '-'}:{ask.user or '-'}"
    now = time.time()
    if StateTable(table, aws.client("dynamodb")).count(key, RATE_LIMIT_WINDOW_SECONDS, now=now) <= RATE_LIMIT:
        return None
    minutes = math.ceil((RATE_LIMIT_WINDOW_SECONDS - now % RATE_LIMIT_WINDOW_SECONDS) / 60)
    return Reply(
        text=f":hourglass: `check` runs at most {RATE_LIMIT} times per person every "
        f"{RATE_LIMIT_WINDOW_SECONDS // 60} minutes, so nothing was checked this time. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


def render(results: list[CheckResult], given: int | None = None) -> Reply:
    """The reply for `results`; `given` is how many URLs were asked for, when more than were checked."""
    lines = [_line(result) for result in results]
    healthy = sum(1 for result in results if result.ok)
    summary = f"{healthy}/{len(results)} healthy"
    if given is not None and given > len(results):
        summary += f"; checked the first {len(results)} of {given} URLs, at most {MAX_URLS} per check"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Health check*: {summary}"}}
    ]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": line}} for line in lines]
    recheck_value = _button_value([result.url for result in results])
    if recheck_value:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "check:recheck",
                        "text": {"type": "plain_text", "text": "Re-check"},
                        "value": recheck_value,
                    }
                ],
            }
        )
    return Reply(text=f"Health check ({summary}):\n" + "\n".join(lines), blocks=blocks)


def _button_value(urls: list[str]) -> str:
    """As many whole URLs as fit in a button's value, space-separated (never half a URL)."""
    value = ""
    for url in urls:
        joined = f"{value} {url}" if value else url
        if len(joined) <= MAX_BUTTON_VALUE:
            value = joined
    return value


def _line(result: CheckResult) -> str:
    url = escape(result.url)
    if result.error:
        emoji = ":no_entry:" if result.error.startswith("refused") else ":red_circle:"
        return f"{emoji} {url}: {escape(result.error)}"
    emoji = ":large_green_circle:" if result.ok else ":red_circle:"
    parts = [f"HTTP {result.status}"]
    if result.latency_ms is not None:
        parts.append(f"{result.latency_ms:.0f} ms")
    if result.cert_days_left is not None:
        warn = " :warning:" if result.cert_days_left < CERT_WARNING_DAYS else ""
        parts.append(f"certificate: {result.cert_days_left} days left{warn}")
    if result.redirects:
        parts.append(f"→ {escape(result.final_url)}")
    return f"{emoji} {url}: " + ", ".join(parts)


SKILL = Skill(
    name="check",
    help="HTTPS health check of each URL: status, latency, certificate days left",
    run=run,
    actions={"recheck": recheck},
)
