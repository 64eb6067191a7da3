"""The AWS SDK floor: this process imports boto3, builds an SQS client and sends one message.

Run by path in a fresh interpreter with ``BENCH_JOB`` (JSON: ``queue_url``, ``body``); the same clock
and result line as ``ingest_cold.py``. Nothing can put a Slack event on SQS with less work.
"""

import time

started = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402

from bench.probes.probe_support import report  # noqa: E402

job = json.loads(os.environ["BENCH_JOB"])
read = time.perf_counter()

import boto3  # noqa: E402

client = boto3.client("sqs")
imported = time.perf_counter()
answer = client.send_message(QueueUrl=job["queue_url"], MessageBody=job["body"])
acked = time.perf_counter()
report(answer["ResponseMetadata"]["HTTPStatusCode"], started, read, imported, acked)
