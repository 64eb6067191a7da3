"""Import the packaged ingest as Lambda's runtime would: ``python3.13 import_ingest.py PATH...``.

Each PATH goes in front of ``sys.path`` (the package first, as ``/var/task`` is on Lambda). Prints
``BENCH_RESULT {"import_ms": ..., "sdk_loaded": ...}``: the time of ``import ingest.handler``, which
builds its SQS client at import, and whether boto3 or botocore got imported (they must not, with
credentials in the environment). Run with ``-B`` so that no bytecode is written between runs
(``/var/task`` is read-only on Lambda).
"""

import sys
import time

sys.path[0:1] = sys.argv[1:]
started = time.perf_counter()
import ingest.handler  # noqa: E402, F401

imported = time.perf_counter()
import json  # noqa: E402 (after the clock: not the ingest's import)

result = {
    "import_ms": (imported - started) * 1000,
    "sdk_loaded": "boto3" in sys.modules or "botocore" in sys.modules,
}
sys.stdout.write("BENCH_RESULT " + json.dumps(result) + "\n")
