"""What every cold probe shares: a Lambda-like context and the result line. Stdlib only, and tiny:
it is imported inside the timed region of every probe alike."""

import json
import sys
from typing import Any


class Context:
    """The attributes the Python runtime's context has that the handlers under test read."""

    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = "128"
    aws_request_id = "bench-cold-request"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"
    identity = None
    client_context = None

    def __init__(self, timeout_ms: int = 3000) -> None:
        self.timeout_ms = timeout_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


def peak_rss_kib() -> int:
    """This process's peak resident memory since its ``exec`` (``VmHWM``; ``ru_maxrss`` would count
    the parent's memory too, which a spawned child shares until ``exec``)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def report(status: Any, started: float, read: float, imported: float, acked: float, **extra: Any) -> None:
    """Print the probe's result as the last line of stdout (the handler may have logged before it)."""
    result = {
        "status": status,
        "total_ms": (acked - started) * 1000,
        "init_ms": (imported - started) * 1000,
        "ack_ms": (acked - imported) * 1000,
        "job_ms": (read - started) * 1000,
        "peak_rss_kib": peak_rss_kib(),
        **extra,
    }
    sys.stdout.write("BENCH_RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()
