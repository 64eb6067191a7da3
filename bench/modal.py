"""Figure 9: modals open in time (issue 13). ``/incident`` → ``views.open`` against Slack's 3 s trigger.

Warm, through the sandbox (``bench.modal_child`` in a fresh process, as ``make run`` starts it):
signed ``/incident`` commands over HTTP with a trigger id the stand-in minted, timed from just
before the POST to the moment the stand-in recorded the ``views.open`` that used the trigger.

Cold: a fresh process (``bench/probes/worker_cold.py``: imports ``worker.handler``, handles one SQS
batch) given one ``/incident`` batch queued by the ingest, timed from its spawn to the stand-in's
record of its ``views.open``. A cold worker's modal waits for the ingest, SQS and the event source
mapping as a warm one does, then for the fresh worker: the estimate adds the warm path up to the
worker's invocation to the fresh worker's spawn → ``views.open``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.env import BOT_TOKEN, PROBES, BenchEnv, patched_env, python, run_process
from bench.report import Figure, Table, Verdict, ms, summary_cells
from bench.slack import signed_request
from bench.stats import Summary
from sandbox.poller import LambdaContext, sqs_event
from sandbox.slack_payloads import slash_command

TRIGGER_MS = 3000.0  # Slack: a trigger_id opens a view within 3 s of the click or command
WINDOW_SECONDS = 1.0  # the batching window tried (the template's default is 0)
WARMUP = 5
LAMBDA_FULL_VCPU_MB = 1769  # Lambda: one vCPU's worth of CPU at 1,769 MB, proportional below
TEMPLATE_WORKER_MB = 512  # infra/template.yaml's worker MemorySize
MEMORY_SIZES = (TEMPLATE_WORKER_MB, 1024, LAMBDA_FULL_VCPU_MB)  # the estimate's rows
FORM = "application/x-www-form-urlencoded"
# Hops in order: (name, from, to). The modal is the skill's own Slack call, inside "skill".
SEGMENTS = (
    ("client → ingest handler (HTTP front, Function URL event)", "sent", "arrived"),
    ("ingest: verify, classify, enqueue, log", "arrived", "queued"),
    ("SQS → worker invoked (poller's long poll, batch event)", "queued", "picked_up"),
    ("worker: read envelope, route", "picked_up", "claim_start"),
    ("DynamoDB claim (one conditional write)", "claim_start", "claim_end"),
    ("skill: build the modal, `views.open` → stand-in records it", "claim_end", "opened"),
)


@dataclass(frozen=True)
class ColdOpen:
    """One fresh worker handling one ``/incident``."""

    to_open_ms: float  # from its spawn to the stand-in's record of its views.open
    imports_ms: float  # ``import worker.handler`` and what precedes it in the probe
    cpu_ms: float  # user + system time of the whole process
    accepted: bool  # the stand-in took the trigger (within 3 s of minting it, before the ingest)


@dataclass
class ModalResults:
    first: dict[str, Any] = field(default_factory=dict)  # the sandbox's first command after start-up
    commands: list[dict[str, Any]] = field(default_factory=list)
    windowed: list[dict[str, Any]] = field(default_factory=list)
    window_seconds: float = WINDOW_SECONDS
    cold: list[ColdOpen] = field(default_factory=list)

    def latencies(self, start: str = "sent", end: str = "opened", of: str = "commands") -> list[float]:
        commands: list[dict[str, Any]] = getattr(self, of)
        return span(commands, start, end)


def span(commands: list[dict[str, Any]], start: str, end: str) -> list[float]:
    """Milliseconds from hop ``start`` to hop ``end`` of each command that has both."""
    return [(c[end] - c[start]) * 1000 for c in commands if start in c and end in c]


def cold_estimate_ms(warm_to_worker_ms: float, fresh_worker_ms: float) -> float:
    """A cold worker's modal: the warm path up to the worker's invocation, then a fresh worker."""
    return warm_to_worker_ms + fresh_worker_ms


def cpu_share(memory_mb: int) -> float:
    """The share of a vCPU Lambda gives a function of ``memory_mb`` (one vCPU at 1,769 MB, proportional
    below; more than one above, which a single-threaded start-up cannot use)."""
    return min(1.0, memory_mb / LAMBDA_FULL_VCPU_MB)


def measure(env: BenchEnv, commands: int, cold_workers: int, progress: Callable[[str], None]) -> ModalResults:
    progress(f"  modals: starting the sandbox, then {commands} `/incident` commands")
    child_env = {k: v for k, v in os.environ.items() if k not in ("SLACK_BOT_TOKEN", "AWS_ENDPOINT_URL")}
    windowed = max(3, commands // 20)
    run = run_process(
        [python(), "-m", "bench.modal_child", str(commands), str(WARMUP), str(windowed), str(WINDOW_SECONDS)],
        env=child_env,
        timeout=300,
    )
    results = ModalResults(
        first=dict(run.result["first"]),
        commands=list(run.result["commands"]),
        windowed=list(run.result["windowed"]),
        window_seconds=float(run.result["window_seconds"]),
    )
    results.cold = measure_cold(env, cold_workers)
    progress(f"  modals: {cold_workers} cold workers")
    return results


_channels = itertools.count(1)


def measure_cold(env: BenchEnv, rounds: int) -> list[ColdOpen]:
    from ingest.handler import lambda_handler as ingest

    assert env.slack is not None
    opens: list[ColdOpen] = []
    for _ in range(rounds + 1):  # the first one writes bytecode caches: not counted
        queue_url = env.new_queue("modal")
        trigger_id = env.slack.new_trigger_id()
        body = slash_command(
            "",
            command="/incident",
            response_url=env.slack.new_response_url(),
            trigger_id=trigger_id,
            channel=f"C0MODAL{next(_channels)}",
        )
        with (
            open(os.devnull, "w") as devnull,
            contextlib.redirect_stdout(devnull),
            patched_env(QUEUE_URL=queue_url),
        ):
            answer = ingest(signed_request(body, FORM), LambdaContext(3.0, "ingest"))
            assert answer["statusCode"] == 200, answer
            messages = env.receive_all(queue_url, 1)
        event = sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:modal", "us-east-1")
        spawned = time.time()
        run = env.run_probe(
            [python(), str(PROBES / "worker_cold.py")],
            job=json.dumps({"event": event}),
            extra_env={"SLACK_BOT_TOKEN": BOT_TOKEN, "QUEUE_URL": queue_url},
        )
        env.drop_queue(queue_url)
        opened = [r for r in env.slack.calls("views.open") if r["args"].get("trigger_id") == trigger_id]
        if not opened:
            raise RuntimeError(f"the cold worker opened no modal:\n{run.stdout[-1500:]}")
        opens.append(
            ColdOpen(
                to_open_ms=(float(opened[0]["at"]) - spawned) * 1000,
                imports_ms=float(run.result["init_ms"]),
                cpu_ms=run.cpu_ms,
                accepted=bool(opened[0]["ok"]),
            )
        )
    return opens[1:]


def figure(results: ModalResults) -> Figure:
    fig = Figure(9, "modal", "Modals open in time: `/incident` → `views.open`", _method(results))
    total = Summary.of(results.latencies())
    table = Table(["`/incident`", "n", "median", "p99", "margin to 3 s (p99)"])
    table.add("**request → `views.open` recorded (warm worker)**", *summary_cells(total), _margin(total.p99))
    minted = Summary.of(results.latencies("minted"))
    table.add(
        "trigger minted → `views.open` (the stand-in's 3 s clock)",
        *summary_cells(minted),
        _margin(minted.p99),
    )
    table.add(
        "request → HTTP 200 ack (empty: the modal is the answer)",
        *summary_cells(Summary.of(results.latencies(end="acked"))),
        "",
    )
    first = span([results.first], "sent", "opened")
    table.add(
        "the sandbox's first command (the worker builds its settings and clients)",
        *summary_cells(Summary.of(first)),
        _margin(first[0]) if first else "",
    )
    windowed = Summary.of(results.latencies(of="windowed"))
    table.add(
        f"batching window {results.window_seconds:.0f} s (the template's default is 0)",
        *summary_cells(windowed),
        _margin(windowed.p99),
    )
    fig.tables.append(table)
    fig.tables.append(_hops(results))
    fig.tables.append(_fresh_worker(results))
    fig.tables.append(_cold_paths(results))
    fig.verdicts.append(
        Verdict(
            f"warm: p99 `/incident` → `views.open` ≤ {TRIGGER_MS / 1000:.0f} s (Slack's trigger_id)",
            f"p99 {ms(total.p99)} (p50 {ms(total.median)}); margin {ms(TRIGGER_MS - total.p99)}",
            total.p99 <= TRIGGER_MS,
        )
    )
    here = _cold_here(results)
    fig.verdicts.append(
        Verdict(
            f"cold worker on this machine (warm path to the worker + a fresh worker, medians) ≤ "
            f"{TRIGGER_MS / 1000:.0f} s",
            f"{ms(here)}; margin {ms(TRIGGER_MS - here)}",
            None if here != here else here <= TRIGGER_MS,
        )
    )
    fig.notes += _notes(results)
    return fig


def _margin(value: float) -> str:
    if value != value:  # NaN: nothing measured
        return "–"
    return f"{(TRIGGER_MS - value) / 1000:+.2f} s"


def _hops(results: ModalResults) -> Table:
    hops = Table(["hop, warm (medians add up to about the total)", "median", "p99"])
    for name, start, end in SEGMENTS:
        summary = Summary.of(results.latencies(start, end))
        hops.add(name, ms(summary.median), ms(summary.p99))
    return hops


def _fresh_worker(results: ModalResults) -> Table:
    table = Table(["a fresh worker process handling one `/incident` batch", "n", "median", "max"])
    rows = {
        "spawn → `views.open` recorded": [c.to_open_ms for c in results.cold],
        "of which imports (`worker.handler`)": [c.imports_ms for c in results.cold],
        "CPU time of the whole process (to its exit)": [c.cpu_ms for c in results.cold],
    }
    for name, values in rows.items():
        summary = Summary.of(values)
        table.add(name, str(summary.n), ms(summary.median), ms(summary.maximum))
    accepted = sum(1 for c in results.cold if c.accepted)
    table.add(
        "`views.open` accepted (its trigger minted before the ingest)",
        str(len(results.cold)),
        f"{accepted} of {len(results.cold)}",
        "",
    )
    return table


def _cold_paths(results: ModalResults) -> Table:
    """The cold path on this machine, and estimated at Lambda's CPU share for a few memory sizes."""
    table = Table(
        [
            "cold worker: `/incident` → `views.open`",
            "fresh worker (median)",
            "+ warm path to it (median)",
            "total",
            "margin to 3 s",
            "total with the slowest fresh worker",
        ]
    )
    to_worker = _warm_to_worker(results)
    fresh = Summary.of([c.to_open_ms for c in results.cold])
    rows = [("this machine, one full core (measured)", 1.0)]
    for memory in MEMORY_SIZES:
        share = cpu_share(memory)
        what = "the template's" if memory == TEMPLATE_WORKER_MB else "a full vCPU" if share == 1 else ""
        rows.append(
            (
                f"Lambda {memory} MB{f' ({what})' if what else ''}: {share:.2f} vCPU, all of it CPU-bound (estimate)",
                share,
            )
        )
    for label, share in rows:
        total = cold_estimate_ms(to_worker, fresh.median / share)
        slowest = cold_estimate_ms(to_worker, fresh.maximum / share)
        table.add(label, ms(fresh.median / share), ms(to_worker), ms(total), _margin(total), ms(slowest))
    return table


def _warm_to_worker(results: ModalResults) -> float:
    return Summary.of(results.latencies("sent", "picked_up")).median


def _cold_here(results: ModalResults) -> float:
    fresh = Summary.of([c.to_open_ms for c in results.cold]).median
    return cold_estimate_ms(_warm_to_worker(results), fresh)


def _notes(results: ModalResults) -> list[str]:
    fresh = Summary.of([c.to_open_ms for c in results.cold]).median
    cpu = Summary.of([c.cpu_ms for c in results.cold]).median
    window = Summary.of(results.latencies(of="windowed")).median - Summary.of(results.latencies()).median
    return [
        "The Lambda rows stretch the fresh worker's spawn → `views.open` by the CPU share Lambda documents "
        f"for each memory size (one vCPU at {LAMBDA_FULL_VCPU_MB} MB, proportional below), as if all of it "
        f"were CPU-bound (its process used {ms(cpu)} of CPU for {ms(fresh)} of wall time, exit included); "
        "if Lambda's init phase runs faster than the configured share, the truth lies between them and "
        "the measured row. None of the rows counts Slack → the front door, Lambda's own start of the "
        "execution environment, the event source mapping's poll, or `views.open`'s trip to slack.com: "
        "docs/deploy.md (*Modals within 3 seconds*) says what a deployment needs.",
        f"A batching window of {results.window_seconds:.0f} s delays every modal by about that much "
        f"({ms(window)} more at the median here): a lone message waits the whole window for a batch to fill.",
    ]


def _method(results: ModalResults) -> str:
    return (
        "`sandbox.stack.Stack` in a fresh process, as `make run` starts it (moto, the ingest behind its HTTP "
        "front, the SQS poller with long polling and no batching window, the worker, the Slack stand-in). "
        f"Each `/incident` goes as `slackbot say --command /incident` sends it: a `response_url` and a "
        "`trigger_id` from the sandbox (`POST /sandbox/response_url`, `/sandbox/trigger_id`; the stand-in "
        "lets a trigger open one view within 3 s), the signed command over HTTP, then a long poll of "
        "`/sandbox/messages` for the `views.open` that used the trigger; one at a time, after "
        f"{WARMUP} unmeasured ones. Then {len(results.windowed)} more with the poller's batching window at "
        f"{results.window_seconds:.0f} s. Cold: fresh worker processes (the figure-5 probe) each handling "
        "one `/incident` batch queued by the ingest, timed from spawn to the stand-in's record."
    )
