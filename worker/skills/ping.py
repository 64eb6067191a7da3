"""`ping`: answers `pong` and how long the event took from Slack to this answer."""

from __future__ import annotations

import time

from worker.skills import Ask, Reply, Skill


def run(ask: Ask) -> Reply:
    now = time.time()
    parts = []
    if ask.slack_time is not None:
        parts.append(f"Slack → answer {_ms(now - ask.slack_time)}")
    if ask.received_at is not None:
        parts.append(f"ingest → answer {_ms(now - ask.received_at)}")
    return Reply(text="pong" + (f" ({', '.join(parts)})" if parts else ""))


def _ms(seconds: float) -> str:
    return f"{max(seconds, 0) * 1000:.0f} ms"


SKILL = Skill(name="ping", help="answer `pong` with the pipeline's latency", run=run)
