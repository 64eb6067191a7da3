"""``python -m sandbox`` (``make run``): the whole pipeline on this machine until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from sandbox.stack import DEFAULT_PORT, Options, Stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", DEFAULT_PORT)))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", 0)))
    parser.add_argument("--pollers", type=int, default=3, help="concurrent poller invocations (default 3)")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--batching-window", type=float, default=0.0, help="seconds (default 0)")
    parser.add_argument("--env-file", type=Path, default=Path(".env"))
    args = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    stack = Stack(
        Options(
            host=args.host,
            port=args.port,
            moto_port=args.moto_port,
            pollers=args.pollers,
            batch_size=args.batch_size,
            batching_window_seconds=args.batching_window,
            env_file=args.env_file,
        )
    )
    try:
        stack.start()
        print(stack.banner(), flush=True)
        stop.wait()
        print("stopping…", flush=True)
    except OSError as error:
        print(f"sandbox: cannot start: {error}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
