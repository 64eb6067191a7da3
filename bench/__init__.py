"""Benchmarks of the pipeline against the AWS SDK floor and against Bolt (``python -m bench``).

Every figure measures this code and its baseline side by side in the same run, interleaved, and
reports medians, p99 and ratios; ``bench/RESULTS.md`` is written from them. Benchmarks never fail on
timing: a missed target is reported, not raised.
"""
