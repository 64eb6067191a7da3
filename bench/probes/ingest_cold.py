"""A cold ingest: this process imports ``ingest.handler`` and acks one signed Slack event through SQS.

Run by path in a fresh interpreter (``python bench/probes/ingest_cold.py``) with the Lambda event in
``BENCH_JOB`` (JSON). The clock starts at the first statement; everything after it (reading the job,
the imports, the SQS client built at import, the first request) is what Lambda reports as the init
phase plus the first invocation. The last line of stdout is ``BENCH_RESULT {json}``.
"""

import time

started = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402

from bench.probes.probe_support import Context, report  # noqa: E402

job = json.loads(os.environ["BENCH_JOB"])
read = time.perf_counter()

from ingest.handler import lambda_handler  # noqa: E402

imported = time.perf_counter()
answer = lambda_handler(job["event"], Context())
acked = time.perf_counter()
import sys  # noqa: E402 (after the clock)

sdk_loaded = "boto3" in sys.modules or "botocore" in sys.modules
report(answer.get("statusCode"), started, read, imported, acked, sdk_loaded=sdk_loaded)
