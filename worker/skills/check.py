"""`check <url> …`: HTTPS health check of each URL, all at once, with a Re-check button.

Each URL gets its own section: a status emoji, the HTTP status, the latency and, for https, the days
left on its TLS certificate. Addresses the checker must not reach (link-local, cloud metadata, and
private networks unless CHECK_ALLOW_PRIVATE_NETWORKS=true) are refused, and the reply says why.
"""

from __future__ import annotations

from typing import Any

from shared.config import env_bool
from worker.skills import Ask, Reply, Skill
from worker.urlcheck import CheckResult, check_all, extract_urls

TIMEOUT_SECONDS = 5.0
CERT_WARNING_DAYS = 14
USAGE = "Usage: `check <url> [<url> …]`, for example `check https://example.org`"


def run(ask: Ask) -> Reply:
    urls = extract_urls(ask.text)
    if not urls:
        return Reply(text=USAGE)
    results = check_all(
        urls,
        timeout=min(TIMEOUT_SECONDS, max(ask.seconds_left() - 2.0, 0.5)),
        allow_private=env_bool("CHECK_ALLOW_PRIVATE_NETWORKS"),
        deadline=ask.deadline - 1.0,
    )
    return render(results)


def render(results: list[CheckResult]) -> Reply:
    lines = [_line(result) for result in results]
    healthy = sum(1 for result in results if result.ok)
    summary = f"{healthy}/{len(results)} healthy"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Health check*: {summary}"}}
    ]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": line}} for line in lines]
    recheck = " ".join(result.url for result in results)[:2000]
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "check:recheck",
                    "text": {"type": "plain_text", "text": "Re-check"},
                    "value": recheck,
                }
            ],
        }
    )
    return Reply(text=f"Health check ({summary}):\n" + "\n".join(lines), blocks=blocks)


def _line(result: CheckResult) -> str:
    if result.error:
        emoji = ":no_entry:" if result.error.startswith("refused") else ":red_circle:"
        return f"{emoji} {result.url}: {result.error}"
    emoji = ":large_green_circle:" if result.ok else ":red_circle:"
    parts = [f"HTTP {result.status}"]
    if result.latency_ms is not None:
        parts.append(f"{result.latency_ms:.0f} ms")
    if result.cert_days_left is not None:
        warn = " :warning:" if result.cert_days_left < CERT_WARNING_DAYS else ""
        parts.append(f"certificate: {result.cert_days_left} days left{warn}")
    if result.redirects:
        parts.append(f"→ {result.final_url}")
    return f"{emoji} {result.url}: " + ", ".join(parts)


SKILL = Skill(
    name="check",
    help="HTTPS health check of each URL: status, latency, certificate days left",
    run=run,
    actions={"recheck": run},
)
