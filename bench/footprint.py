"""Figure 5: footprint. Package sizes, peak memory of a cold ingest against the SDK floor's, the worker's.

Peak memory is the peak resident set (``VmHWM``) of figure 1's fresh processes (median over its rounds). The
worker's is a fresh process that imports ``worker.handler`` and handles one SQS batch holding a
``ping`` (moto, the Slack stand-in).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.cold import LABELS as COLD_LABELS
from bench.cold import ColdResults
from bench.env import BOT_TOKEN, PROBES, BenchEnv, ProcessResult, patched_env, python
from bench.package import Built, zip_contents
from bench.report import Figure, Table, Verdict, mib, ms, size, times
from bench.slack import signed_mention
from bench.stats import Summary, ratio
from sandbox.poller import LambdaContext, sqs_event

TARGET = 0.6  # issue 15's: a cold ingest's peak memory at most 0.6 x the floor's
LIMITS = {"ingest": 1024 * 1024, "worker": 6 * 1024 * 1024}  # infra.package's own limits


@dataclass
class FootprintResults:
    built: Built
    worker: list[ProcessResult] = field(default_factory=list)


def measure_worker(env: BenchEnv, rounds: int, progress: Callable[[str], None]) -> list[ProcessResult]:
    from ingest.handler import lambda_handler as ingest

    runs: list[ProcessResult] = []
    for _ in range(rounds + 1):  # the first one writes bytecode caches: not counted
        queue_url = env.new_queue("footprint")
        with (
            open(os.devnull, "w") as devnull,
            contextlib.redirect_stdout(devnull),
            patched_env(QUEUE_URL=queue_url),
        ):
            answer = ingest(signed_mention("<@UBOT> ping"), LambdaContext(3.0, "ingest"))
            assert answer["statusCode"] == 200, answer
            messages = env.receive_all(queue_url, 1)
        event = sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:footprint", "us-east-1")
        run = env.run_probe(
            [python(), str(PROBES / "worker_cold.py")],
            job=json.dumps({"event": event}),
            extra_env={"SLACK_BOT_TOKEN": BOT_TOKEN, "QUEUE_URL": queue_url},
        )
        env.drop_queue(queue_url)
        if run.result.get("failures"):
            raise RuntimeError(f"the cold worker failed its batch:\n{run.stdout[-1500:]}")
        runs.append(run)
    progress(f"  footprint: {rounds} cold workers")
    return runs[1:]


def figure(results: FootprintResults, cold: ColdResults) -> Figure:
    fig = Figure(5, "footprint", "Footprint", _method())
    sizes = Table(["package", "zip", "unzipped", "files", "bytecode", "limit"])
    packages: dict[str, Path | None] = {"ingest": results.built.ingest, "worker": results.built.worker}
    for name, path in packages.items():
        if path is None:
            sizes.add(f"`{name}.zip`", "not built", "", "", "", "")
            continue
        files, unzipped, tags = zip_contents(path)
        sizes.add(
            f"`{name}.zip`",
            size(path.stat().st_size),
            size(unzipped),
            str(files),
            ", ".join(tags) or "none",
            size(LIMITS[name]),
        )
    fig.tables.append(sizes)
    if results.built.problem:
        fig.notes.append(f"Packages not built: {results.built.problem}.")

    memory = Table(["fresh process", "n", "peak RSS (median)", "× floor", "time to first answer (median)"])
    floor_rss = Summary.of(cold.rss("floor")).median
    for variant in ("startup", "floor", "ingest", "bolt"):
        rss = Summary.of(cold.rss(variant))
        total = "–" if variant == "startup" else ms(Summary.of(cold.values(variant)).median)
        memory.add(
            COLD_LABELS[variant], str(rss.n), mib(rss.median), times(ratio(rss.median, floor_rss)), total
        )
    worker_rss = Summary.of([float(run.maxrss_kib) for run in results.worker])
    worker_time = Summary.of([float(run.result["total_ms"]) for run in results.worker])
    memory.add(
        "the worker (`worker.handler`, one `ping` batch)",
        str(worker_rss.n),
        mib(worker_rss.median),
        times(ratio(worker_rss.median, floor_rss)),
        ms(worker_time.median),
    )
    fig.tables.append(memory)
    value = ratio(Summary.of(cold.rss("ingest")).median, floor_rss)
    ingest_zip = results.built.ingest
    fig.verdicts.append(
        Verdict(
            f"cold ingest's peak memory ≤ {TARGET} x the SDK floor's",
            f"{value:.2f} x ({mib(Summary.of(cold.rss('ingest')).median)} against {mib(floor_rss)})"
            + (f"; `ingest.zip` {size(ingest_zip.stat().st_size)}" if ingest_zip is not None else ""),
            value <= TARGET,
        )
    )
    init = Summary.of([float(run.result["init_ms"]) for run in results.worker]).median
    fig.notes.append(
        f"The worker's cold start: {ms(init)} of imports, {ms(worker_time.median - init)} for its first batch."
    )
    return fig


def _method() -> str:
    return (
        "Packages built by `python -m infra.package` into a temporary folder (sizes as Lambda would "
        "receive them). Peak memory is each fresh process's peak resident set (`VmHWM`, read by the "
        "process itself as it ends), median over figure 1's rounds; the worker is a fresh process "
        "handling one `ping` batch end to end (moto, stand-in)."
    )
