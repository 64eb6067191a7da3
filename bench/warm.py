"""Figure 2: warm ack. The ingest's whole ack path in a warm container against a bare ``send_message``.

In this process, interleaved call by call (the order rotates): ``ingest.handler.lambda_handler`` on a
fresh signed event (verify, classify, build the envelope, send with the ingest's own SQS client, log
its line), a bare ``send_message`` of the very body and attributes the ingest sends (the floor: the
SQS call alone, from a default boto3 client), and Bolt's adapter on the same kind of event. Events are signed before
the clock starts. The queue is replaced every few dozen rounds so that moto's stays shallow.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from bench.env import SIGNING_SECRET, BenchEnv, patched_env
from bench.report import Figure, Table, Verdict, interval, ms, summary_cells, times
from bench.slack import signed_mention
from bench.stats import Summary, median_ratio_interval, ratio
from sandbox.poller import LambdaContext

TARGET = 1.0  # issue 15's: the whole warm ack no slower than a bare boto3 send_message (median)
VARIANTS = ("floor", "ingest", "bolt")
LABELS = {
    "floor": "bare `send_message` (same body and attributes)",
    "ingest": "**this ingest** (`lambda_handler`)",
    "bolt": "Bolt's Lambda adapter (+ boto3 send)",
}
ROTATE_EVERY = 40  # rounds per queue


OFFLINE_ROUNDS_PER_ROUND = 3  # the stubbed handlers are fast: more samples for the same time


@dataclass
class WarmResults:
    samples: dict[str, list[float]] = field(default_factory=lambda: {v: [] for v in VARIANTS})
    # The handlers' own work, with the SQS call stubbed out (no network, no moto).
    offline: dict[str, list[float]] = field(default_factory=lambda: {"ingest": [], "bolt": []})


class _StubSqs:
    def send_message(self, **_: Any) -> dict[str, Any]:
        return {"MessageId": "bench-stub"}


def measure_offline(results: WarmResults, rounds: int) -> None:
    """Both handlers with their SQS send replaced by a stub: what each does per request besides SQS."""
    from bench.probes.bolt_app import build
    from ingest import handler as ingest

    bolt = build(SIGNING_SECRET, sqs=_StubSqs())
    context = LambdaContext(3.0, "ingest")
    handlers: dict[str, Callable[[dict[str, Any], Any], dict[str, Any]]] = {
        "ingest": ingest.lambda_handler,
        "bolt": bolt,
    }
    ingest.queue.send = lambda *_, **__: "bench-stub"  # type: ignore[method-assign]
    try:
        for number in range(-50, rounds):  # 50 unmeasured rounds first
            for variant in ("ingest", "bolt") if number % 2 else ("bolt", "ingest"):
                event = signed_mention()
                started = time.perf_counter()
                answer = handlers[variant](event, context)
                elapsed = time.perf_counter() - started
                assert answer.get("statusCode") == 200, answer
                if number >= 0:
                    results.offline[variant].append(elapsed * 1000)
    finally:
        del ingest.queue.send  # the class's method again


def measure(env: BenchEnv, rounds: int, progress: Callable[[str], None]) -> WarmResults:
    from bench.probes.bolt_app import build
    from ingest.handler import lambda_handler

    results = WarmResults()
    queue_url = env.new_queue("warm")
    bare = boto3.client("sqs")
    bolt = build(SIGNING_SECRET)
    context = LambdaContext(3.0, "ingest")
    with (
        open(os.devnull, "w") as devnull,
        contextlib.redirect_stdout(devnull),
        patched_env(QUEUE_URL=queue_url),
    ):
        # The floor sends exactly what the ingest sends: take one of its messages as the model.
        lambda_handler(signed_mention(), context)
        model = env.receive_all(queue_url, 1)[0]
        body = model["Body"]
        attributes = {
            name: {"DataType": value["DataType"], "StringValue": value["StringValue"]}
            for name, value in model.get("MessageAttributes", {}).items()
        }

        def run(variant: str) -> float:
            if variant == "floor":
                started = time.perf_counter()
                bare.send_message(
                    QueueUrl=os.environ["QUEUE_URL"], MessageBody=body, MessageAttributes=attributes
                )
                return time.perf_counter() - started
            event = signed_mention()
            handler: Callable[[dict[str, Any], Any], dict[str, Any]] = (
                lambda_handler if variant == "ingest" else bolt
            )
            started = time.perf_counter()
            answer = handler(event, context)
            elapsed = time.perf_counter() - started
            if answer.get("statusCode") != 200:
                raise RuntimeError(
                    f"warm {variant} answered {answer.get('statusCode')}: {answer.get('body')}"
                )
            return elapsed

        for _ in range(20):  # warm-up: connections open, caches filled
            for variant in VARIANTS:
                run(variant)
        for number in range(rounds):
            if number % ROTATE_EVERY == 0:
                env.drop_queue(os.environ["QUEUE_URL"])
                os.environ["QUEUE_URL"] = env.new_queue("warm")
            order = VARIANTS[number % len(VARIANTS) :] + VARIANTS[: number % len(VARIANTS)]
            for variant in order:
                results.samples[variant].append(run(variant) * 1000)
            if number % 100 == 99:
                progress(f"  warm ack: {number + 1}/{rounds} rounds")
        env.drop_queue(os.environ["QUEUE_URL"])
        measure_offline(results, rounds * OFFLINE_ROUNDS_PER_ROUND)
    return results


def figure(results: WarmResults) -> Figure:
    fig = Figure(2, "warm", "Ingest warm ack", _method())
    floor = results.samples["floor"]
    floor_summary = Summary.of(floor)
    table = Table(["warm call", "n", "median", "p99", "× floor (median)", "× floor (p99)"])
    for variant in VARIANTS:
        summary = Summary.of(results.samples[variant])
        low, high = median_ratio_interval(results.samples[variant], floor)
        table.add(
            LABELS[variant],
            *summary_cells(summary),
            times(ratio(summary.median, floor_summary.median))
            + (interval(low, high) if variant != "floor" else ""),
            times(ratio(summary.p99, floor_summary.p99)),
        )
    fig.tables.append(table)
    ingest = Summary.of(results.samples["ingest"])
    value = ratio(ingest.median, floor_summary.median)
    low, high = median_ratio_interval(results.samples["ingest"], floor)
    fig.verdicts.append(
        Verdict(
            f"warm ack ≤ {TARGET} x a bare `send_message` (median)",
            f"{value:.2f} x{interval(low, high)}",
            value <= TARGET,
        )
    )
    offline = Table(["the handler's own work (SQS send stubbed out)", "n", "median", "p99", "× this ingest"])
    base = Summary.of(results.offline["ingest"])
    for variant in ("ingest", "bolt"):
        summary = Summary.of(results.offline[variant])
        offline.add(LABELS[variant], *summary_cells(summary), times(ratio(summary.median, base.median)))
    fig.tables.append(offline)
    p99 = ratio(ingest.p99, floor_summary.p99)
    fig.notes.append(
        f"At p99 the ingest is {p99:.2f} x the bare send's p99; its own work over the SQS call is "
        f"{ms(ingest.median - floor_summary.median)} at the median."
    )
    return fig


def _method() -> str:
    return (
        "One warm process, the three calls interleaved (the order rotates each round); events are "
        "signed before the clock starts; the ingest's JSON log line is written to `/dev/null`. The "
        "floor sends the same body and message attributes as the ingest's message, from a default "
        "boto3 client. moto's server (werkzeug) closes every connection after its answer, so each call "
        "on every side opens a TCP connection; the ingest's keep-alive reuse is proved by its tests "
        "against a loopback fake instead. moto's queue is replaced every "
        f"{ROTATE_EVERY} rounds to stay shallow. The second table is the same handlers with the SQS "
        "call replaced by a stub: the work each does per request besides SQS (verify, parse, log)."
    )
