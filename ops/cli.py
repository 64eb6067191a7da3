"""``slackbot``: the project's command line. ``slackbot --help`` lists the commands."""

from __future__ import annotations

import argparse
import sys

from botocore.exceptions import BotoCoreError, ClientError

from ops import aws, dlq, queue, say
from ops.failures import EXIT_CODES_HELP, OpsError, from_aws

CONFIGURATION_HELP = """\
configuration (dlq, queue): QUEUE_URL, DLQ_URL and STATE_TABLE, or --stack NAME to read the
CloudFormation stack's outputs WorkQueueUrl, DeadLetterQueueUrl and StateTableName; AWS credentials,
region and AWS_ENDPOINT_URL as boto3 reads them. With none of these set, a sandbox (make run) running
from this directory or a parent is used, found through its .sandbox/state.json; stderr says so.
The runbook: docs/runbook.md.
"""


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="slackbot",
        description="slackbot-pipeline's command line",
        epilog=CONFIGURATION_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    say.add_arguments(
        commands.add_parser(
            "say",
            help="send a signed mention, DM, slash command, shortcut, modal submission or Home tab opening"
            " to the local sandbox",
            description="Send a request signed as Slack signs it to the local sandbox (make run) and\n"
            "print what became of it: the bot's answer, or why there is none.",
            epilog=say.EXAMPLES + "\n" + EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    dlq.add_arguments(
        commands.add_parser(
            "dlq",
            help="the dead-letter queue: list, show, redrive, drop",
            epilog=EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    queue.add_arguments(commands.add_parser("queue", help="queue depths and ages: stats"))
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    aws.forget_clients()
    try:
        return int(args.run(args))
    except OpsError as error:
        return _fail(error)
    except (BotoCoreError, ClientError) as error:
        return _fail(from_aws(error))
    except KeyboardInterrupt:
        return 130


def _fail(error: OpsError) -> int:
    print(f"slackbot: {error}", file=sys.stderr)
    return int(error.code)


if __name__ == "__main__":
    sys.exit(main())
