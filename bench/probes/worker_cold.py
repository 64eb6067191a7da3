"""A cold worker: this process imports ``worker.handler`` and handles one SQS batch (a ``ping``).

Run by path in a fresh interpreter with the SQS event in ``BENCH_JOB``; the same clock and result
line as ``ingest_cold.py``, plus the batch's failures.
"""

import time

started = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402

from bench.probes.probe_support import Context, report  # noqa: E402

job = json.loads(os.environ["BENCH_JOB"])
read = time.perf_counter()

from worker.handler import lambda_handler  # noqa: E402

imported = time.perf_counter()
answer = lambda_handler(job["event"], Context(60_000))
acked = time.perf_counter()
report(200, started, read, imported, acked, failures=len(answer.get("batchItemFailures", [])))
