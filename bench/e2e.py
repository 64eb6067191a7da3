"""Figure 4: end to end through the sandbox. Request → reply latency of ``ping``s, hop by hop.

The sandbox stack runs in a fresh process (``bench.e2e_child``) as ``make run`` starts it; pings go
one at a time over HTTP, and the reply is read back from the Slack stand-in. Latency runs from just
before the POST to the moment the stand-in recorded the reply (``chat.postMessage``), on one clock.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.env import python as interpreter
from bench.env import run_process
from bench.report import Figure, Table, Verdict, ms, summary_cells
from bench.stats import Summary, percentile

TARGET_MS = 100.0  # the issue's: p50 under 100 ms
# Hops in order: (name, from, to). The reply is recorded during "deliver".
SEGMENTS = (
    ("client → ingest handler (HTTP front, Function URL event)", "sent", "arrived"),
    ("ingest: verify, classify, enqueue, log", "arrived", "queued"),
    ("SQS → worker invoked (poller's long poll, batch event)", "queued", "picked_up"),
    ("worker: read envelope, route", "picked_up", "claim_start"),
    ("DynamoDB claim (one conditional write)", "claim_start", "claim_end"),
    ("skill runs, Slack client built", "claim_end", "deliver_start"),
    ("`chat.postMessage` → stand-in records it", "deliver_start", "replied"),
)
AFTER = (
    ("after the reply: post returns to the worker", "replied", "deliver_end"),
    ("after the reply: DynamoDB `done`", "complete_start", "complete_end"),
)


@dataclass
class EndToEndResults:
    pings: list[dict[str, float]] = field(default_factory=list)

    def latencies(self, start: str = "sent", end: str = "replied") -> list[float]:
        return [(p[end] - p[start]) * 1000 for p in self.pings if start in p and end in p]


def measure(pings: int, progress: Callable[[str], None]) -> EndToEndResults:
    progress(f"  end to end: starting the sandbox, then {pings} pings")
    env = {k: v for k, v in os.environ.items() if k not in ("SLACK_BOT_TOKEN", "AWS_ENDPOINT_URL")}
    run = run_process([interpreter(), "-m", "bench.e2e_child", str(pings), "10"], env=env, timeout=300)
    return EndToEndResults(pings=list(run.result["pings"]))


def figure(results: EndToEndResults) -> Figure:
    fig = Figure(4, "e2e", "End to end through the sandbox", _method())
    total = Summary.of(results.latencies())
    table = Table(["", "n", "median", "p99"])
    table.add("**request → reply recorded by the stand-in**", *summary_cells(total))
    table.add(
        "request → reply seen by the client (long poll)",
        *summary_cells(Summary.of(results.latencies("sent", "seen"))),
    )
    table.add("request → HTTP 200 ack", *summary_cells(Summary.of(results.latencies("sent", "acked"))))
    fig.tables.append(table)

    hops = Table(["hop (medians add up to about the total)", "median", "p90", "p99", "share of the median"])
    medians = 0.0
    for name, start, end in SEGMENTS + AFTER:
        values = results.latencies(start, end)
        if not values:
            hops.add(name, "–", "–", "–", "")
            continue
        median = statistics.median(values)
        after = name.startswith("after")
        medians += 0 if after else median
        share = "" if after or not total.median else f"{median / total.median:.0%}"
        hops.add(name, ms(median), ms(percentile(values, 90)), ms(percentile(values, 99)), share)
    fig.tables.append(hops)
    fig.verdicts.append(
        Verdict(
            f"p50 request → reply < {TARGET_MS:.0f} ms",
            f"{ms(total.median)} (p99 {ms(total.p99)})",
            total.median < TARGET_MS,
        )
    )
    slowest = max(
        SEGMENTS, key=lambda segment: statistics.median(results.latencies(segment[1], segment[2]) or [0.0])
    )
    fig.notes.append(f"The hops' medians add up to {ms(medians)}; the largest is “{slowest[0]}”.")
    return fig


def _method() -> str:
    return (
        "`sandbox.stack.Stack` in a fresh process (moto server, ingest behind its HTTP front, the "
        "SQS poller with 3 concurrent invocations and long polling, the worker, the Slack stand-in), "
        "then signed `<@UBOT> ping` mentions sent one at a time over HTTP after 10 unmeasured ones. "
        "Hop times come from the functions' own log records (the sandbox's console is made from "
        "them) and from timers around the worker's claim, reply and settle."
    )
