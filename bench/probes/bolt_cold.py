"""Bolt's AWS Lambda adapter, cold: this process builds the Bolt app of ``bolt_app.py`` and acks one event.

Run by path in a fresh interpreter with the Lambda event in ``BENCH_JOB``; the same clock and result
line as ``ingest_cold.py``.
"""

import time

started = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402

from bench.probes.probe_support import Context, report  # noqa: E402

job = json.loads(os.environ["BENCH_JOB"])
read = time.perf_counter()

from bench.probes.bolt_app import build  # noqa: E402

handle = build(os.environ["SLACK_SIGNING_SECRET"])
imported = time.perf_counter()
answer = handle(job["event"], Context())
acked = time.perf_counter()
report(answer.get("statusCode"), started, read, imported, acked)
