"""``slackbot say``: send a correctly signed request to the running sandbox, as Slack would, and
report what became of it: the bot's answer, or why there is none.

Every kind comes from team ``T0STANDIN`` and user ``U0HUMAN`` and names the stand-in's bot user:

- ``say TEXT``: a mention in ``C0SANDBOX``; ``--dm``: a direct message in ``D0SANDBOX``;
- ``--command /NAME [TEXT]``: a slash command in ``C0SANDBOX`` with a ``response_url`` and a
  ``trigger_id`` the sandbox mints, so the command may open a modal (``/incident`` does);
- ``--shortcut CALLBACK_ID``: a global shortcut with a freshly minted trigger id; done when the bot
  opened a modal with that trigger (``views.open``), which is printed with its inputs;
- ``--submit CALLBACK_ID --field NAME=VALUE …``: the submission of the modal with that callback id
  that the bot opened last. The view is taken as the stand-in recorded it (id, hash,
  ``private_metadata`` and all), because that is the only view Slack would let a person submit, and
  its metadata carries the rules the ingest enforces. Rebuilding it from the skill's code would
  submit a form the bot never showed, and opening one on the fly cannot be done in general (a
  modal's callback id need not be any shortcut's): when none was opened, ``say`` names the command
  that opens it. The ingest's field errors are printed (exit 1), else the announcement;
- ``--home``: ``app_home_opened`` for the Home tab; done when the bot published a Home tab for that
  user (``views.publish``), which is printed as text.

After the ingest's answer it waits (15 s by default) for the outcome the sandbox saw, matched by the
id the ingest and the worker both log (the message for a mention or DM, the event id for the Home
tab, the trigger id for a command, a shortcut or a submission): the answer (exit 0), or
``dead-lettered: <reason>`` or ``ignored: <reason>`` (exit 1), or ``no reply within 15 s`` with the
last failure, if any (exit 1). Each failed attempt is printed as it happens, since SQS delivers a
failed event again.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from ops import slack_views
from ops.failures import ExitCode, OpsError
from ops.render import printable
from sandbox import slack_payloads as payloads
from sandbox import statefile
from sandbox.console import reply_lines
from sandbox.slack_standin import BOT_USER_ID, TEAM_ID
from sandbox.stack import DEFAULT_PORT, read_env_file
from shared.envelope import dedupe_key

CHANNEL = "C0SANDBOX"
DM_CHANNEL = "D0SANDBOX"
USER = "U0HUMAN"  # the stand-in's Ada Lovelace: who every payload comes from
FORM = "application/x-www-form-urlencoded"
POLL_SECONDS = 2.5  # each long poll stays inside the sandbox's 3 s Function URL timeout
REPLY_WIDTH = 100
GUTTER = " " * len("bot     → ")  # where the text of every answer line starts
VIEW_METHODS = ("views.open", "views.push", "views.update")
MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update")

EXAMPLES = """\
examples:
  slackbot say "check https://example.org"          a mention in C0SANDBOX
  slackbot say --dm "help"                          a direct message
  slackbot say --command /incident "DB down"        a slash command (it may open a modal)
  slackbot say --shortcut incident:declare          prints the modal the bot opens
  slackbot say --submit incident:declare --field title="DB down" --field severity=SEV2 \\
      --field service=api --field summary="p99 over 5 s"
                                                    submits the modal the bot opened last
  slackbot say --home                               prints the Home tab the bot publishes

--shortcut, --submit and --home need the sandbox's Slack stand-in (not real Slack).
"""


@dataclass(frozen=True)
class Request:
    body: bytes
    content_type: str
    correlation_id: str  # what the ingest and the worker log for it (shared.envelope.dedupe_key)
    response_path: str = ""  # a slash command's response_url path: its reply is recorded there
    trigger_id: str = ""  # minted by the stand-in: a modal opened with it answers this request
    wants: str = "reply"  # what answers it: reply (any call), message (a post), modal, home


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "text",
        nargs="?",
        help='what to say, e.g. "check https://example.org" (a command\'s text may be empty)',
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--dm", action="store_true", help="as a direct message to the bot")
    what.add_argument("--command", metavar="/NAME", help="as a slash command, e.g. /ops")
    what.add_argument(
        "--shortcut",
        metavar="CALLBACK_ID",
        help="a global shortcut, e.g. incident:declare; prints the modal the bot opens (exit 1 if none)",
    )
    what.add_argument(
        "--submit",
        metavar="CALLBACK_ID",
        help="submit the modal with this callback id that the bot opened last (open it first with"
        " --shortcut or --command), filled with --field; prints its field errors (exit 1) or the bot's"
        " answer",
    )
    what.add_argument(
        "--home",
        action="store_true",
        help="open the bot's Home tab; prints the tab the bot publishes (exit 1 if none)",
    )
    parser.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help='with --submit: an input\'s value by its block_id, e.g. title="DB down"; a select takes an'
        " option's value; an input not given keeps its initial value, else is submitted empty",
    )
    parser.add_argument(
        "--url",
        help="the sandbox (default $SANDBOX_URL, else http://127.0.0.1:$PORT if PORT is set, else the"
        f" running sandbox found through .sandbox/state.json, else http://127.0.0.1:{DEFAULT_PORT})",
    )
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for the reply (15)")
    parser.set_defaults(run=run)


def usage_problem(args: argparse.Namespace) -> str:
    """What is wrong with the combination of arguments, in one line; "" when nothing is."""
    flag = _interaction_flag(args)
    if flag and args.text is not None:
        return f"{flag} takes no TEXT (got {args.text!r})"
    if not flag and not args.command and args.text is None:
        return "say what? give TEXT, or one of --command, --shortcut, --submit, --home"
    if args.field and not args.submit:
        return "--field goes with --submit"
    try:
        fields(args.field)
    except ValueError as error:
        return str(error)
    return ""


def fields(given: list[str]) -> dict[str, str | None]:
    """``--field NAME=VALUE`` values by input; an empty value is submitted empty, as Slack sends it."""
    values: dict[str, str | None] = {}
    for item in given:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise ValueError(f'--field {item!r}: write it as NAME=VALUE, e.g. title="DB down"')
        if name.strip() in values:
            raise ValueError(f"--field {name.strip()} is given twice")
        values[name.strip()] = value or None
    return values


def _interaction_flag(args: argparse.Namespace) -> str:
    """The option naming a shortcut, a submission or the Home tab; "" for a mention, DM or command."""
    if args.shortcut:
        return "--shortcut"
    if args.submit:
        return "--submit"
    return "--home" if args.home else ""


def run(args: argparse.Namespace) -> int:
    problem = usage_problem(args)
    if problem:
        raise OpsError(problem, ExitCode.USAGE)
    base = sandbox_url(args.url).rstrip("/")
    secret = _signing_secret()
    try:
        recorded = _get_json(f"{base}/sandbox/messages")
        request = _request(args, base, recorded)
        status, answer, ms = _post(base, request, secret)
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        print(
            f"slackbot: cannot reach the sandbox at {base} ({_reason(error)}); is `make run` running?",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    summary, errors = ingest_answer(answer)
    print(f"ingest  → HTTP {status} in {ms:.0f} ms{(': ' + summary) if summary else ''}")
    if status != 200:
        return ExitCode.NOTHING
    if errors:  # a refused submission: nothing was queued, the modal stays open with these
        for block_id, message in errors.items():
            print(f"{GUTTER}{printable(block_id)}: {printable(message)}")
        return ExitCode.NOTHING
    return _await_outcome(base, request, _last_seq(recorded), args.timeout)


def sandbox_url(given: str | None) -> str:
    """The sandbox to talk to; says on stderr when it was found through its state file."""
    if given:
        return given
    if os.environ.get("SANDBOX_URL"):
        return os.environ["SANDBOX_URL"]
    if os.environ.get("PORT"):
        return f"http://127.0.0.1:{os.environ['PORT']}"
    found = statefile.find()
    if found is not None:
        state, path = found
        print(f"slackbot: using {statefile.describe(state, path)}", file=sys.stderr)
        return state.url
    return f"http://127.0.0.1:{DEFAULT_PORT}"


def _signing_secret() -> str:
    return (
        (os.environ.get("SLACK_SIGNING_SECRET") or read_env_file_secret() or payloads.DEV_SIGNING_SECRET)
        .split(",")[0]
        .strip()
    )


def read_env_file_secret() -> str:
    return read_env_file(Path(".env")).get("SLACK_SIGNING_SECRET", "")


def _request(args: argparse.Namespace, base: str, recorded: dict[str, Any]) -> Request:
    flag = _interaction_flag(args)
    if flag and recorded.get("mode") == "slack":
        raise OpsError(
            f"{flag} needs the sandbox's Slack stand-in; this sandbox talks to real Slack (use Slack itself)",
            ExitCode.USAGE,
        )
    if args.command:
        return _command(args.command, args.text or "", base)
    if args.shortcut:
        return _shortcut(args.shortcut, base)
    if args.submit:
        return _submission(args.submit, fields(args.field), recorded.get("messages") or [], base)
    if args.home:
        body = payloads.app_home_opened(user=USER, channel=DM_CHANNEL, team=TEAM_ID, bot_user=BOT_USER_ID)
        return Request(body, "application/json", dedupe_key("event", json.loads(body)) or "", wants="home")
    if args.dm:
        body = payloads.direct_message(args.text, channel=DM_CHANNEL, bot_user=BOT_USER_ID, team=TEAM_ID)
    else:
        body = payloads.mention(
            f"<@{BOT_USER_ID}> {args.text}", channel=CHANNEL, bot_user=BOT_USER_ID, team=TEAM_ID
        )
    return Request(body, "application/json", dedupe_key("event", json.loads(body)) or "")


def _command(name: str, text: str, base: str) -> Request:
    command = name if name.startswith("/") else "/" + name
    response_url = _get_json(f"{base}/sandbox/response_url", method="POST").get("response_url", "")
    if not response_url:  # real Slack mode: the reply goes to Slack, nowhere to read it here
        response_url = "https://hooks.slack.com/commands/T0001/0/sandbox"
    trigger_id = _mint_trigger_id(base)
    body = payloads.slash_command(
        text,
        command=command,
        response_url=response_url,
        trigger_id=trigger_id or None,
        channel=CHANNEL,
        team=TEAM_ID,
    )
    form = dict(parse_qsl(body.decode()))
    return Request(
        body, FORM, dedupe_key("command", form) or "", urlsplit(response_url).path, trigger_id=trigger_id
    )


def _shortcut(callback_id: str, base: str) -> Request:
    trigger_id = _mint_trigger_id(base)
    payload = payloads.global_shortcut(callback_id, user=USER, trigger_id=trigger_id, team=TEAM_ID)
    return _interaction(payload, trigger_id, wants="modal")


def _submission(callback_id: str, values: dict[str, str | None], records: list[Any], base: str) -> Request:
    view = last_opened_view(records, callback_id)
    if view is None:
        raise OpsError(
            f"the bot has opened no modal {callback_id!r} in this sandbox yet; open it first"
            f" (slackbot say --shortcut {callback_id}, or the command that opens it)",
            ExitCode.USAGE,
        )
    names = [block["block_id"] for block in slack_views.inputs(view)]
    unknown = [name for name in values if name not in names]
    if unknown:
        raise OpsError(
            f"the modal {callback_id!r} has no input {', '.join(map(repr, unknown))};"
            f" its inputs: {', '.join(names) or 'none'}",
            ExitCode.USAGE,
        )
    trigger_id = _mint_trigger_id(base)
    submitted = {**slack_views.initial_values(view), **values}
    payload = payloads.view_submission(view, submitted, user=USER, trigger_id=trigger_id, team=TEAM_ID)
    return _interaction(payload, trigger_id, wants="message")


def _interaction(payload: dict[str, Any], trigger_id: str, *, wants: str) -> Request:
    correlation_id = dedupe_key("interaction", payload) or ""
    return Request(payloads.interaction(payload), FORM, correlation_id, trigger_id=trigger_id, wants=wants)


def last_opened_view(records: list[Any], callback_id: str) -> dict[str, Any] | None:
    """The modal with ``callback_id`` as the stand-in last showed it (``views.open``, ``.push``, ``.update``)."""
    for record in reversed(records):
        if not isinstance(record, dict) or not record.get("ok") or record.get("method") not in VIEW_METHODS:
            continue
        view = answered_view(record)
        if view is not None and view.get("callback_id") == callback_id:
            return view
    return None


def _mint_trigger_id(base: str) -> str:
    """A trigger id the stand-in accepts for one view in the next 3 s; "" with real Slack."""
    return str(_get_json(f"{base}/sandbox/trigger_id", method="POST").get("trigger_id") or "")


def _post(base: str, request: Request, secret: str) -> tuple[int, str, float]:
    headers = payloads.slack_headers(request.body, secret=secret, content_type=request.content_type)
    http = urllib.request.Request(f"{base}/slack/events", data=request.body, headers=headers, method="POST")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(http, timeout=10) as response:
            status, text = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode("utf-8", "replace")
    return status, text, (time.monotonic() - started) * 1000


def ingest_answer(body: str) -> tuple[str, dict[str, str]]:
    """What to print of the ingest's answer, and a refused submission's field errors by block_id."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return printable(body), {}
    if not isinstance(data, dict):
        return printable(body), {}
    errors = data.get("errors")
    if data.get("response_action") == "errors" and isinstance(errors, dict):
        return "the modal's field errors", {str(k): str(v) for k, v in errors.items()}
    text = data.get("text")
    return printable(text if isinstance(text, str) else body), {}


def _await_outcome(base: str, request: Request, since: int, timeout: float) -> int:
    """Wait for what became of the request; print it; the exit code."""
    deadline = time.monotonic() + timeout
    seen = 0
    last_failure = ""
    while (left := deadline - time.monotonic()) > 0:
        outcome = _get_json(
            f"{base}/sandbox/outcome?id={quote(request.correlation_id, safe='')}"
            f"&seen={seen}&wait={min(left, POLL_SECONDS):.1f}"
        )
        attempts = [a for a in outcome.get("attempts", []) if isinstance(a, dict)]
        for attempt in attempts[seen:]:
            if attempt.get("outcome") in ("failed", "not_started"):
                last_failure = printable(str(attempt.get("reason", "")))
                receive = f" on receive {attempt['receive']} of {outcome.get('max_receive_count', '?')}"
                print(
                    f"worker  → failed{receive if attempt.get('receive') else ''}: {last_failure};"
                    " SQS delivers it again"
                )
        seen = max(seen, len(attempts))
        final, reason = outcome.get("outcome"), printable(str(outcome.get("reason", "")))
        if final == "answered":
            return _print_answer(base, request, since)
        if final == "dead_lettered":
            print(f"dead-lettered: {reason}")
            short_id = printable(str(outcome.get("message_id", "")))[:8]  # as the console shows it
            print(f"  explain it: slackbot dlq show {short_id}   (every dead letter: slackbot dlq list)")
            return ExitCode.NOTHING
        if final == "ignored":
            print(f"ignored: {reason}")
            return ExitCode.NOTHING
    print(
        f"no reply within {timeout:g} s" + (f" (last attempt failed: {last_failure})" if last_failure else "")
    )
    return ExitCode.NOTHING


def _print_answer(base: str, request: Request, since: int) -> int:
    """Print what the bot did for ``request`` (recorded by the stand-in after ``since``); the exit code."""
    data = _get_json(f"{base}/sandbox/messages?since={since}")
    if data.get("mode") == "slack":
        print("answered: the reply went to real Slack")
        return ExitCode.OK
    calls = [m for m in data.get("messages", []) if m.get("ok") and m.get("method") != "auth.test"]
    modal = opened_with(calls, request.trigger_id)
    if request.wants == "modal":
        return _print_modal(modal) if modal else _nothing("answered, but no modal was opened")
    if request.wants == "home":
        home = published_home(calls, USER)
        return _print_home(home) if home else _nothing(f"answered, but no Home tab was published for {USER}")
    replies = [m for m in calls if m.get("method") not in (*VIEW_METHODS, "views.publish")]
    if request.wants == "message":  # a submission's announcement, not the conversation it opened for it
        replies = [
            m for m in replies if m.get("kind") == "response_url" or m.get("method") in MESSAGE_METHODS
        ]
    if request.response_path:  # a slash command: its own response_url, else the calls its skill made
        own = [m for m in replies if m.get("path") == request.response_path]
        replies = own or [m for m in replies if m.get("kind") != "response_url"]
    if modal:
        _print_modal(modal)
    elif not replies:
        print("answered (nothing was posted)")
    for reply in replies:
        lines = reply_lines(as_shown(reply), REPLY_WIDTH)
        print("bot     → " + f"\n{GUTTER}".join(lines))
    return ExitCode.OK


def as_shown(reply: dict[str, Any]) -> dict[str, Any]:
    """The reply as a person sees it: a message with blocks shows them (its text only notifies)."""
    args = reply.get("args")
    if isinstance(args, dict) and isinstance(args.get("blocks"), list) and args["blocks"]:
        return {**reply, "args": {**args, "text": ""}}
    return reply


def opened_with(calls: list[dict[str, Any]], trigger_id: str) -> dict[str, Any] | None:
    """The view the bot opened with ``trigger_id`` (``views.open`` or ``views.push``), as the stand-in shows it."""
    if not trigger_id:
        return None
    for call in calls:
        args = call_args(call)
        used = args.get("trigger_id") or args.get("interactivity_pointer")
        view = answered_view(call)
        if call.get("method") in VIEW_METHODS[:2] and used == trigger_id and view is not None:
            return view
    return None


def published_home(calls: list[dict[str, Any]], user: str) -> dict[str, Any] | None:
    """The Home tab the bot last published for ``user`` (``views.publish``)."""
    for call in reversed(calls):
        if call.get("method") == "views.publish" and call_args(call).get("user_id") == user:
            return answered_view(call)
    return None


def call_args(record: dict[str, Any]) -> dict[str, Any]:
    args = record.get("args")
    return args if isinstance(args, dict) else {}


def answered_view(record: dict[str, Any]) -> dict[str, Any] | None:
    """The view in the stand-in's answer to a ``views.*`` call (with the id and hash it gave it)."""
    response = record.get("response")
    view = response.get("view") if isinstance(response, dict) else None
    return view if isinstance(view, dict) else None


def _print_modal(view: dict[str, Any]) -> int:
    lines = slack_views.modal_lines(view)
    print("modal   → " + f"\n{GUTTER}".join(lines))
    required = [b["block_id"] for b in slack_views.inputs(view) if not b.get("optional")]
    callback_id = printable(str(view.get("callback_id") or ""))
    if callback_id:
        to_fill = "".join(f" --field {printable(name)}=…" for name in required)
        print(f"{GUTTER}submit it: slackbot say --submit {callback_id}{to_fill}")
    return ExitCode.OK


def _print_home(view: dict[str, Any]) -> int:
    print(f"home    → the Home tab of {USER} (views.publish)")
    for line in slack_views.home_lines(view, REPLY_WIDTH - len(GUTTER)):
        print(f"{GUTTER}{line}".rstrip())
    return ExitCode.OK


def _nothing(what: str) -> int:
    print(what)
    return ExitCode.NOTHING


def _last_seq(recorded: dict[str, Any]) -> int:
    messages = recorded.get("messages") or []
    return max([0] + [int(m.get("seq", 0)) for m in messages if isinstance(m, dict)])


def _get_json(url: str, method: str = "GET") -> dict[str, Any]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            data = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            data = json.loads(error.read() or b"{}")
        except ValueError:
            data = {}
    return data if isinstance(data, dict) else {}


def _reason(error: BaseException) -> str:
    return str(getattr(error, "reason", error))
