"""``python -m sandbox.slack_standin --port 4000``: the stand-in alone, printing each call it gets."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from sandbox.slack_standin.printing import format_reply
from sandbox.slack_standin.server import SlackStandIn
from sandbox.slack_standin.wire import Record


def main(argv: list[str] | None = None) -> int:
    """``python -m sandbox.slack_standin --port 4000``: serve until Ctrl-C (or SIGTERM)."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.slack_standin", description="A stand-in for the Slack Web API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4000)
    parser.add_argument("--token", action="append", help="accept only these tokens (default: any xoxb-...)")
    options = parser.parse_args(argv)

    def show(record: Record) -> None:
        print(format_reply(record), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    tokens = set(options.token) if options.token else None
    with SlackStandIn(options.host, options.port, valid_tokens=tokens, on_record=show) as standin:
        print(f"Slack stand-in listening: SLACK_API_URL={standin.api_url}", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    print("Slack stand-in stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
