"""Figure 3: worker concurrency. A batch of 10 events whose skill waits on a 300 ms HTTP call.

Each event is a mention ``check <http://127.0.0.1:PORT/sandbox/slow?ms=300>`` (the Slack stand-in's
slow endpoint; ``CHECK_ALLOW_PRIVATE_NETWORKS=true``), queued by the real ingest, received from SQS
(moto) and handed to the worker's handler (``worker.handler.handle``: ``lambda_handler`` once the
container's settings are built) as the SQS event Lambda builds: claims in DynamoDB, the check, the
reply to the stand-in, all of it. Interleaved per round against one bare
HTTP call to the same URL (the baseline) and a batch of one.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bench.env import BOT_TOKEN, BenchEnv, patched_env
from bench.hops import STEPS, HopRecorder
from bench.report import Figure, Table, Verdict, interval, ms, summary_cells, times
from bench.slack import signed_mention
from bench.stats import Summary, median_ratio_interval, ratio
from sandbox.poller import LambdaContext, sqs_event

TARGET = 1.5  # the issue's: a batch of 10 at most 1.5 x one call
SLOW_MS = 300
STUB_LATENCY_SECONDS = 0.010
VARIANTS = ("call", "batch1", "batch10", "batch10_stub")
LABELS = {
    "call": f"one bare HTTP call to the {SLOW_MS} ms endpoint",
    "batch1": "worker: a batch of 1 `check`",
    "batch10": "**worker: a batch of 10 `check`s**",
    "batch10_stub": (
        f"diagnostic: the same batch of 10, DynamoDB stubbed ({STUB_LATENCY_SECONDS * 1000:.0f} ms a call, "
        "concurrent calls in parallel)"
    ),
}


@dataclass
class WorkerResults:
    samples: dict[str, list[float]] = field(default_factory=lambda: {v: [] for v in VARIANTS})
    records: dict[str, list[dict[str, float]]] = field(default_factory=lambda: {v: [] for v in VARIANTS})
    failures: int = 0
    stub_calls: dict[str, int] = field(default_factory=dict)  # the pipeline's DynamoDB calls, stubbed variant


class ParallelDynamoDB:
    """Answers every DynamoDB call with success after a fixed latency, concurrent calls in parallel
    (as the real service does; moto is one Python process). Claims always win: events are unique."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.calls: Counter[str] = Counter()  # operation → calls: what a record of the batch costs
        self._lock = threading.Lock()

    def __getattr__(self, operation: str) -> Callable[..., dict[str, Any]]:
        def call(**_: Any) -> dict[str, Any]:
            with self._lock:
                self.calls[operation] += 1
            time.sleep(self.latency)  # stands for the network round trip; releases the GIL
            return {}

        return call


_senders = itertools.count(1)


def measure(env: BenchEnv, rounds: int, progress: Callable[[str], None]) -> WorkerResults:
    assert env.slack is not None
    import worker.handler
    from ingest.handler import lambda_handler as ingest
    from worker import container
    from worker.state import StateTable

    slow_url = f"{env.slack.url}/sandbox/slow?ms={SLOW_MS}"
    results = WorkerResults()
    recorder = HopRecorder()
    stub = ParallelDynamoDB(STUB_LATENCY_SECONDS)

    def batch(variant: str, size: int) -> float:
        queue_url = env.new_queue("worker")
        with patched_env(QUEUE_URL=queue_url):
            for _ in range(size):
                # One person and one channel per check: `check` allows each person 10 checks per 10
                # minutes, and the worker paces its posts to one channel (Slack's 1 message per second);
                # this figure measures the worker's concurrency, not those limits.
                n = next(_senders)
                event = signed_mention(
                    f"<@UBOT> check <{slow_url}>", user=f"U0BENCH{n}", channel=f"C0BENCH{n}"
                )
                answer = ingest(event, LambdaContext(3.0, "ingest"))
                assert answer["statusCode"] == 200, answer
            messages = env.receive_all(queue_url, size)
        event = sqs_event(
            messages, f"arn:aws:sqs:us-east-1:123456789012:{queue_url.rsplit('/', 1)[-1]}", "us-east-1"
        )
        assert env.slack is not None
        before = len(env.slack.replies())
        # The container's settings (built on the first batch), with this batch's queue; the diagnostic
        # variant's state table answers through the stub.
        settings = replace(worker.handler.container_settings.get(), queue_url=queue_url)
        if variant == "batch10_stub":
            assert settings.state is not None
            settings = replace(settings, state=StateTable(settings.state.table, stub))
        started = time.perf_counter()
        handler_started = time.time()
        answer = worker.handler.handle(event, LambdaContext(60.0, "worker"), settings)
        elapsed = time.perf_counter() - started
        for message in messages:
            results.records[variant].append({**recorder.of(message["MessageId"]), "handler": handler_started})
        env.drop_queue(queue_url)
        replies = env.slack.replies()[before:]
        healthy = sum(1 for reply in replies if "1/1 healthy" in str(reply["args"].get("text", "")))
        results.failures += len(answer.get("batchItemFailures", [])) + (size - healthy)
        return elapsed

    def call() -> float:
        started = time.perf_counter()
        with urllib.request.urlopen(slow_url, timeout=10) as response:
            response.read()
        return time.perf_counter() - started

    runs: dict[str, Callable[[], float]] = {
        "call": call,
        "batch1": lambda: batch("batch1", 1),
        "batch10": lambda: batch("batch10", 10),
        "batch10_stub": lambda: batch("batch10_stub", 10),
    }
    undo = recorder.instrument()
    with (
        open(os.devnull, "w") as devnull,
        contextlib.redirect_stdout(devnull),
        patched_env(SLACK_BOT_TOKEN=BOT_TOKEN),
    ):
        container.reset()  # the worker's settings are built from this environment
        for variant in VARIANTS:  # warm-up: imports done, clients built, connections open
            runs[variant]()
        results.failures = 0
        results.records = {v: [] for v in VARIANTS}
        stub.calls.clear()
        for number in range(rounds):
            order = VARIANTS[number % len(VARIANTS) :] + VARIANTS[: number % len(VARIANTS)]
            for variant in order:
                results.samples[variant].append(runs[variant]() * 1000)
            if number % 5 == 4:
                progress(f"  worker batches: {number + 1}/{rounds} rounds")
    undo()
    results.stub_calls = dict(stub.calls)
    return results


def figure(results: WorkerResults) -> Figure:
    fig = Figure(3, "worker", "Worker concurrency", _method())
    call = results.samples["call"]
    table = Table(["", "n", "median", "p99", "× one call (median)"])
    for variant in VARIANTS:
        summary = Summary.of(results.samples[variant])
        low, high = median_ratio_interval(results.samples[variant], call)
        table.add(
            LABELS[variant],
            *summary_cells(summary),
            times(ratio(summary.median, Summary.of(call).median))
            + (interval(low, high) if variant != "call" else ""),
        )
    fig.tables.append(table)
    value = ratio(Summary.of(results.samples["batch10"]).median, Summary.of(call).median)
    low, high = median_ratio_interval(results.samples["batch10"], call)
    fig.verdicts.append(
        Verdict(
            f"a batch of 10 ≤ {TARGET} x one {SLOW_MS} ms call (median)",
            f"{value:.2f} x{interval(low, high)}",
            value <= TARGET,
        )
    )
    stub = ratio(Summary.of(results.samples["batch10_stub"]).median, Summary.of(call).median)

    def step(variant: str, name: str) -> float:
        start, end = STEPS[name]
        return Summary.of(
            [(r[end] - r[start]) * 1000 for r in results.records[variant] if start in r and end in r]
        ).median

    fig.notes.append(
        f"With DynamoDB stubbed, answering concurrent calls in parallel (the diagnostic row), the batch of 10 "
        f"takes {stub:.2f} x one call. Per record, the DynamoDB claim takes {ms(step('batch10', 'DynamoDB claim'))} "
        f"in the batch of 10 with moto (one Python process), {ms(step('batch1', 'DynamoDB claim'))} in a batch of 1, "
        f"{ms(step('batch10_stub', 'DynamoDB claim'))} stubbed; the skill (one {SLOW_MS} ms check) takes "
        f"{ms(step('batch10', 'skill'))} in the batch of 10, {ms(step('batch1', 'skill'))} in a batch of 1."
    )
    fig.tables.append(_steps(results))
    sequential = 10 * Summary.of(call).median
    fig.notes.append(
        f"One after another the ten would take about {ms(sequential)}; "
        f"records not answered healthy or reported failed: {results.failures}."
    )
    fig.notes.append(_claim_note(results))
    return fig


def _claim_note(results: WorkerResults) -> str:
    """What the state table's steps cost: the claim is one conditional write, the settle one more."""
    records = len(results.records["batch10_stub"])
    calls = sum(results.stub_calls.values())
    per_record = f"{calls / records:.2f}" if records else "–"
    operations = ", ".join(f"`{name}` × {count}" for name, count in sorted(results.stub_calls.items()))
    return (
        "The claim is one conditional write (`UpdateItem` that returns the holder when refused) and the "
        f"settle one more: the stubbed batches made {per_record} state-table calls per record "
        f"({operations or 'none'} over {records} records); figure 8 counts every DynamoDB request on the "
        "wire. Each `check` also counts one use of its per-person limit (the skill's own write, to moto "
        "in every row)."
    )


def _steps(results: WorkerResults) -> Table:
    """Where a record spends its time (medians over every record of every round)."""
    table = Table(
        [
            "a record: step",
            "batch of 1 (moto)",
            "batch of 10 (moto): median",
            "max",
            "batch of 10, DynamoDB stubbed",
        ]
    )
    rows = [
        ("waits for its thread to start", "handler", "start"),
        *((n, a, b) for n, (a, b) in STEPS.items()),
    ]
    rows.append(("whole record", "start", "end"))
    for name, start, end in rows:
        cells: dict[str, Summary] = {}
        for variant in ("batch1", "batch10", "batch10_stub"):
            values = [(r[end] - r[start]) * 1000 for r in results.records[variant] if start in r and end in r]
            cells[variant] = Summary.of(values)
        table.add(
            name,
            ms(cells["batch1"].median),
            ms(cells["batch10"].median),
            ms(cells["batch10"].maximum),
            ms(cells["batch10_stub"].median),
        )
    return table


def _method() -> str:
    return (
        "Each round (order rotating): one bare HTTP GET of the stand-in's `/sandbox/slow?ms=300`, the "
        "worker handler on a batch of 1 and on a batch of 10 `check` mentions of that URL, each from "
        "its own person in its own channel (`check`'s per-person limit and the worker's one-post-a-"
        "second pace per channel are not what this figure measures), queued by the ingest and "
        "received from moto as Lambda's SQS event. The worker's time is the whole "
        "handler: DynamoDB claims, the checks, the replies to the stand-in, the settling. The last "
        "row swaps moto's DynamoDB for a stub that answers after a fixed latency, to tell the worker's "
        "concurrency from moto's throughput; the step table comes from timers wrapped around the "
        "worker's claim, reply and settle."
    )
