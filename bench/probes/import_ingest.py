"""Import the packaged ingest as Lambda's runtime would: ``python3.13 import_ingest.py PATH...``.

Each PATH goes in front of ``sys.path`` (the package first, as ``/var/task`` is on Lambda). Prints
``BENCH_RESULT {"import_ms": ...}``: the time of ``import ingest.handler``, which builds its SQS
client at import. Run with ``-B`` so that no bytecode is written between runs (``/var/task`` is
read-only on Lambda).
"""

import sys
import time

sys.path[0:1] = sys.argv[1:]
started = time.perf_counter()
import ingest.handler  # noqa: E402, F401

imported = time.perf_counter()
sys.stdout.write('BENCH_RESULT {"import_ms": %.3f}\n' % ((imported - started) * 1000))
