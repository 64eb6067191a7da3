"""``slackbot``: the project's command line. ``slackbot --help`` lists the commands."""

from __future__ import annotations

import argparse
import sys

from ops import say


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="slackbot", description="slackbot-pipeline's command line")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    say.add_arguments(
        commands.add_parser("say", help="send a signed mention, DM or slash command to the local sandbox")
    )
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
