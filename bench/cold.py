"""Figure 1: cold start. A fresh process acks one signed Slack event through SQS (moto server).

Four kinds of fresh process, interleaved round by round (the order rotates every round):

- ``python -c pass``: the interpreter alone, for reference;
- the AWS SDK floor: import boto3, build an SQS client, send one message;
- this ingest: import ``ingest.handler`` (which builds its own SQS client at import: no boto3), ack
  one event;
- Bolt for Python's AWS Lambda adapter: build the app, ack one event with a listener that sends it
  to SQS with boto3.

Each probe starts its clock at its first statement and stops it when the ack is in hand: init phase
plus first invocation, what a cold Lambda spends of the 3 s Slack waits. The wall time from spawn to
exit and the peak memory (``VmHWM``) of each process are recorded too (figures 5 and 7 use them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.env import PROBES, BenchEnv, ProcessResult, python
from bench.report import Figure, Table, Verdict, interval, mib, ms, summary_cells, times
from bench.slack import mention_body, signed_mention
from bench.stats import Summary, median_ratio_interval, ratio

TARGET = 0.35  # issue 15's: cold init + first ack at most 0.35 x the SDK floor
VARIANTS = ("startup", "floor", "ingest", "bolt")
LABELS = {
    "startup": "the interpreter alone (`python -c` printing its peak memory)",
    "floor": "AWS SDK floor (boto3 + SQS client + send)",
    "ingest": "**this ingest** (`ingest.handler`)",
    "bolt": "Bolt's Lambda adapter (+ boto3 send)",
}


@dataclass
class ColdResults:
    runs: dict[str, list[ProcessResult]] = field(default_factory=lambda: {v: [] for v in VARIANTS})
    importtime: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)

    def values(self, variant: str, key: str = "total_ms") -> list[float]:
        return [float(run.result[key]) for run in self.runs[variant]]

    def wall(self, variant: str) -> list[float]:
        return [run.wall_ms for run in self.runs[variant]]

    def rss(self, variant: str) -> list[float]:
        return [float(run.maxrss_kib) for run in self.runs[variant]]

    def cpu(self, variant: str) -> list[float]:
        return [run.cpu_ms for run in self.runs[variant]]


# The interpreter alone: start, print its peak memory, exit (no import beyond the startup's own).
_STARTUP = (
    "for line in open('/proc/self/status'):\n"
    "    if line.startswith('VmHWM:'):\n"
    "        print('BENCH_RESULT {\"peak_rss_kib\": %s}' % line.split()[1])\n"
)


def _command(variant: str, *flags: str) -> list[str]:
    if variant == "startup":
        return [python(), *flags, "-c", _STARTUP]
    return [python(), *flags, str(PROBES / f"{variant}_cold.py")]


def _job(variant: str, queue_url: str) -> str:
    if variant in ("ingest", "bolt"):
        return json.dumps({"event": signed_mention()})
    if variant == "floor":
        return json.dumps({"queue_url": queue_url, "body": mention_body().decode()})
    return ""


def _run(env: BenchEnv, variant: str, queue_url: str, *flags: str) -> ProcessResult:
    run = env.run_probe(
        _command(variant, *flags),
        job=_job(variant, queue_url),
        extra_env={"QUEUE_URL": queue_url},
    )
    status = run.result.get("status", 200)
    if status != 200:
        raise RuntimeError(f"cold {variant} answered {status}:\n{run.stdout[-1000:]}")
    return run


def measure(env: BenchEnv, rounds: int, progress: Callable[[str], None]) -> ColdResults:
    results = ColdResults()
    queue_url = env.new_queue("cold")
    for variant in VARIANTS:  # a warm-up round: bytecode caches written, files in the page cache
        _run(env, variant, queue_url)
    for number in range(rounds):
        order = VARIANTS[number % len(VARIANTS) :] + VARIANTS[: number % len(VARIANTS)]
        for variant in order:
            results.runs[variant].append(_run(env, variant, queue_url))
        if number % 10 == 9:
            env.drop_queue(queue_url)  # keep moto's queue shallow
            queue_url = env.new_queue("cold")
            progress(f"  cold start: {number + 1}/{rounds} rounds")
    env.drop_queue(queue_url)
    # One more run of each under -X importtime: which modules each imports, and their cost.
    queue_url = env.new_queue("cold")
    for variant in ("floor", "ingest", "bolt"):
        run = _run(env, variant, queue_url, "-X", "importtime")
        results.importtime[variant] = parse_importtime(run.stderr)
    env.drop_queue(queue_url)
    return results


_IMPORT_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def parse_importtime(stderr: str) -> dict[str, tuple[int, int]]:
    """``-X importtime`` lines → {module: (self µs, cumulative µs)}."""
    modules: dict[str, tuple[int, int]] = {}
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            modules[match.group(4)] = (int(match.group(1)), int(match.group(2)))
    return modules


def figure(results: ColdResults) -> Figure:
    fig = Figure(1, "cold", "Ingest cold start", _method())
    floor = results.values("floor")
    table = Table(
        [
            "fresh process",
            "n",
            "median",
            "p99",
            "× floor (median)",
            "imports + client",
            "first ack",
            "spawn → exit",
            "CPU (whole process)",
            "peak RSS",
        ]
    )
    floor_cpu = Summary.of(results.cpu("floor")).median
    for variant in VARIANTS:
        cpu = Summary.of(results.cpu(variant)).median
        wall_and_rss = [
            ms(Summary.of(results.wall(variant)).median),
            ms(cpu) + ("" if variant in ("startup", "floor") else f" ({times(ratio(cpu, floor_cpu))})"),
            mib(Summary.of(results.rss(variant)).median),
        ]
        if variant == "startup":
            table.add(
                LABELS[variant], str(len(results.runs[variant])), "–", "–", "–", "–", "–", *wall_and_rss
            )
            continue
        total = results.values(variant)
        summary = Summary.of(total)
        share = times(ratio(summary.median, Summary.of(floor).median))
        if variant in ("ingest", "bolt"):
            share += interval(*median_ratio_interval(total, floor))
        table.add(
            LABELS[variant],
            *summary_cells(summary),
            share,
            ms(Summary.of(results.values(variant, "init_ms")).median),
            ms(Summary.of(results.values(variant, "ack_ms")).median),
            *wall_and_rss,
        )
    fig.tables.append(table)

    ingest = results.values("ingest")
    bolt = results.values("bolt")
    value = ratio(Summary.of(ingest).median, Summary.of(floor).median)
    low, high = median_ratio_interval(ingest, floor)
    fig.verdicts.append(
        Verdict(
            f"cold init + first ack ≤ {TARGET} x the SDK floor (median)",
            f"{value:.2f} x{interval(low, high)}; {_against_bolt(ingest, bolt)}",
            value <= TARGET,
        )
    )
    bolt_ratio = ratio(Summary.of(bolt).median, Summary.of(floor).median)
    fig.notes.append(
        f"Bolt's adapter: {bolt_ratio:.2f} x the floor; this ingest: {_against_bolt(ingest, bolt)}."
    )
    sdk = sum(bool(run.result.get("sdk_loaded")) for run in results.runs["ingest"])
    fig.notes.append(f"Cold ingests that imported boto3 or botocore: {sdk} of {len(results.runs['ingest'])}.")
    fig.tables += _importtime_tables(results)
    if results.importtime:
        fig.notes.append(IMPORTTIME_NOTE)
    return fig


def _against_bolt(ingest: list[float], bolt: list[float]) -> str:
    low, high = median_ratio_interval(ingest, bolt)
    return f"{ratio(Summary.of(ingest).median, Summary.of(bolt).median):.2f} x Bolt{interval(low, high)}"


def _importtime_tables(results: ColdResults) -> list[Table]:
    if not {"floor", "ingest", "bolt"} <= results.importtime.keys():
        return []
    floor = results.importtime["floor"]
    summary = Table(
        [
            "`-X importtime` (one run each)",
            "modules",
            "import time (self, all modules)",
            "beyond the floor's",
            "their import time (self)",
        ]
    )
    for variant in ("floor", "ingest", "bolt"):
        modules = results.importtime[variant]
        extra = {name: value for name, value in modules.items() if name not in floor}
        summary.add(
            LABELS[variant],
            str(len(modules)),
            ms(sum(v[0] for v in modules.values()) / 1000),
            str(len(extra)) if variant != "floor" else "–",
            ms(sum(v[0] for v in extra.values()) / 1000) if variant != "floor" else "–",
        )
    sdk = sorted(name for name in results.importtime["ingest"] if name.split(".")[0] in ("boto3", "botocore"))
    top = Table(["the ingest's imports (top 10 by self time)", "self", "cumulative"])
    for name, (own, cumulative) in sorted(results.importtime["ingest"].items(), key=lambda item: -item[1][0])[
        :10
    ]:
        top.add(f"`{name}`", ms(own / 1000), ms(cumulative / 1000))
    top.add("boto3 or botocore modules among them", str(len(sdk)), "")
    return [summary, top]


IMPORTTIME_NOTE = (
    "`ingest.handler`'s self time includes building its SQS client at import (so Lambda's init phase "
    "does it); the floor builds its client outside any import, so its import time does not show it. "
    "Against moto's plain-HTTP endpoint neither side loads a CA bundle or shakes hands over TLS; against "
    "AWS both do (figure 6 imports the ingest with the real, HTTPS endpoint, CA bundle included)."
)


def _method() -> str:
    return (
        "Fresh processes, interleaved round by round (the order rotates each round), each acking one "
        "signed `app_mention` through moto in server mode, with AWS credentials in the environment as "
        "on Lambda (so the ingest uses its own SQS client, not boto3). A probe's clock starts at its first "
        "statement and stops when the ack is in hand (init phase + first invocation); *imports + "
        "client* is up to the handler being ready, *first ack* the first request. *spawn → exit* adds "
        "the interpreter's start and exit, seen from the parent; *CPU* is the process's user + system "
        "time (`wait4`), less sensitive to a noisy neighbour than wall time; peak RSS is its `VmHWM`. "
        "Ratios are of medians, with a paired bootstrap interval."
    )
