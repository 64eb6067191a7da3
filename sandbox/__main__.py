"""``python -m sandbox`` (``make run``): the whole pipeline on this machine until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from sandbox import resources
from sandbox.stack import DEFAULT_PORT, Options, SandboxError, Stack

MAX_VISIBILITY_SECONDS = 43_200  # SQS's limit, 12 hours
MIN_VISIBILITY_SECONDS = 5  # the worker starts no record with less than 3 s left


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="python -m sandbox",
        description=__doc__,
        epilog="Through make: make run ARGS='--visibility-timeout 10' (or PORT=3001 make run).",
    )
    cli.add_argument("--host", default="127.0.0.1")
    cli.add_argument("--port", help=f"the sandbox's HTTP port (default $PORT, else {DEFAULT_PORT})")
    cli.add_argument("--moto-port", help="moto's port (default $MOTO_PORT, else a free one)")
    cli.add_argument("--pollers", type=int, default=3, help="concurrent poller invocations (default 3)")
    cli.add_argument("--batch-size", type=int, default=10)
    cli.add_argument("--batching-window", type=float, default=0.0, help="seconds (default 0)")
    cli.add_argument(
        "--visibility-timeout",
        metavar="SECONDS",
        help="the work queue's visibility timeout, shortened to watch retries run out"
        f" (default $SANDBOX_VISIBILITY_TIMEOUT, else the template's {resources.VISIBILITY_TIMEOUT_SECONDS})",
    )
    cli.add_argument("--env-file", type=Path, default=Path(".env"))
    return cli


def whole_number(raw: str, name: str, lowest: int, highest: int, what: str) -> int:
    """``raw`` as an int within bounds, or ``SandboxError`` naming ``name`` (a variable or an option)."""
    given = f"{name} {raw}" if name.startswith("--") else f"{name}={raw}"
    try:
        value = int(raw.strip())
    except ValueError:
        raise SandboxError(f"{given} is not {what} ({lowest}-{highest})") from None
    if not lowest <= value <= highest:
        raise SandboxError(f"{given} is not {what} ({lowest}-{highest})")
    return value


def setting(
    given: str | None, option: str, variable: str, environ: Mapping[str, str]
) -> tuple[str | None, str]:
    """The option's value, else the variable's; with the name to blame if it is wrong."""
    if given is not None:
        return given, option
    return environ.get(variable) or None, variable


def options_from(args: argparse.Namespace, environ: Mapping[str, str]) -> Options:
    raw_port, port_name = setting(args.port, "--port", "PORT", environ)
    raw_moto, moto_name = setting(args.moto_port, "--moto-port", "MOTO_PORT", environ)
    raw_visibility, visibility_name = setting(
        args.visibility_timeout, "--visibility-timeout", "SANDBOX_VISIBILITY_TIMEOUT", environ
    )
    return Options(
        host=args.host,
        port=whole_number(raw_port, port_name, 0, 65535, "a port number") if raw_port else DEFAULT_PORT,
        moto_port=whole_number(raw_moto, moto_name, 0, 65535, "a port number") if raw_moto else 0,
        pollers=args.pollers,
        batch_size=args.batch_size,
        batching_window_seconds=args.batching_window,
        visibility_timeout_seconds=whole_number(
            raw_visibility,
            visibility_name,
            MIN_VISIBILITY_SECONDS,
            MAX_VISIBILITY_SECONDS,
            "a number of seconds",
        )
        if raw_visibility
        else resources.VISIBILITY_TIMEOUT_SECONDS,
        env_file=args.env_file,
        state_dir=Path.cwd(),
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        options = options_from(args, os.environ)
    except SandboxError as error:
        print(f"sandbox: {error}", file=sys.stderr)
        return 2

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    stack = Stack(options)
    try:
        stack.start()
        print(stack.banner(), flush=True)
        stop.wait()
        print("stopping…", flush=True)
    except SandboxError as error:
        print(f"sandbox: {error}", file=sys.stderr)
        return 2
    except (OSError, RuntimeError) as error:
        print(f"sandbox: cannot start: {error}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
