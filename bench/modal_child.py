"""Figure 9's measuring process: the sandbox stack in this process, and a client that sends ``/incident``.

``python -m bench.modal_child COMMANDS WARMUP WINDOWED WINDOW_SECONDS`` starts ``sandbox.stack.Stack``
as ``make run`` does (``bench.e2e_child.sandbox``), then, one at a time over HTTP as ``slackbot say
--command /incident`` does: asks the sandbox for a ``response_url`` and a ``trigger_id``
(``POST /sandbox/response_url``, ``POST /sandbox/trigger_id``; the stand-in lets a trigger open one
view within 3 s of being minted, as Slack does), posts the signed command to ``/slack/events``, and
long-polls ``GET /sandbox/messages`` until the stand-in has recorded the ``views.open`` that used that
trigger. The first command after start-up is kept apart (the worker builds its settings and clients
on its first invocation), then WARMUP unmeasured ones, then COMMANDS measured with the template's
batching window (0), then WINDOWED more with the poller's batching window set to WINDOW_SECONDS.
Prints ``BENCH_RESULT {json}``: per command, when each hop happened (one clock).
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from typing import Any

from bench.e2e_child import HopConsole, post_signed, sandbox
from sandbox.slack_payloads import slash_command

FORM = "application/x-www-form-urlencoded"
WAIT_SECONDS = 10.0  # for one views.open; far past the trigger's 3 s


def _post_json(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, data=b"{}", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        data = json.loads(answer.read())
    return data if isinstance(data, dict) else {}


class Client:
    """Sends ``/incident`` to the sandbox and waits for the modal, as ``slackbot say`` would."""

    def __init__(self, url: str, console: HopConsole) -> None:
        self.url = url
        self.console = console
        self.seq = 0  # the stand-in's records seen so far

    def open_modal(self) -> dict[str, Any]:
        response_url = str(_post_json(f"{self.url}/sandbox/response_url")["response_url"])
        trigger_id = str(_post_json(f"{self.url}/sandbox/trigger_id")["trigger_id"])
        minted = time.time()  # the trigger's 3 s run from here (a hair before the stand-in's own clock)
        body = slash_command(
            "", command="/incident", response_url=response_url, trigger_id=trigger_id, channel="C0SANDBOX"
        )
        sent, acked = post_signed(self.url, body, FORM)
        opened = self._views_open(trigger_id)
        return {
            "minted": minted,
            "sent": sent,
            "acked": acked,
            "opened": float(opened["at"]),
            "ok": 1.0 if opened.get("ok") else 0.0,
            "error": str(opened.get("error") or ""),
            "trigger_id": trigger_id,
        }

    def _views_open(self, trigger_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            with urllib.request.urlopen(
                f"{self.url}/sandbox/messages?since={self.seq}&wait=2", timeout=10
            ) as got:
                records = json.loads(got.read())["messages"]
            if records:
                self.seq = max(self.seq, *(int(r["seq"]) for r in records))
            for record in records:
                if record.get("method") == "views.open" and record["args"].get("trigger_id") == trigger_id:
                    return dict(record)
        raise RuntimeError(f"no views.open with trigger {trigger_id} within {WAIT_SECONDS:.0f} s")

    def settled(self, command: dict[str, Any], timeout: float = 5.0) -> None:
        """Wait until the worker has settled ``command``'s claim (that comes after its views.open)."""
        deadline = time.monotonic() + timeout
        while "complete_end" not in self.hops(command) and time.monotonic() < deadline:
            time.sleep(0.01)

    def hops(self, command: dict[str, Any]) -> dict[str, Any]:
        """The command's times with the pipeline's hops (the ingest's and worker's) added."""
        hops = {**self.console.hops(f"command:{command['trigger_id']}"), **command}
        if "queued" in hops and "picked_up" in hops:
            # It was queued before it was picked up, whenever the ingest got round to logging it (as
            # the sandbox's console shows it).
            hops["queued"] = min(hops["queued"], hops["picked_up"])
        return hops


def main(argv: list[str]) -> int:
    commands, warmup, windowed, window = int(argv[0]), int(argv[1]), int(argv[2]), float(argv[3])
    with sandbox() as (stack, console):
        assert stack.front is not None and stack.poller is not None
        client = Client(stack.front.url, console)
        first = client.open_modal()
        for _ in range(warmup):
            client.open_modal()
        measured = [client.open_modal() for _ in range(commands)]
        # The event source mapping's batching window: the poller waits that long to fill a batch.
        stack.poller.batching_window_seconds = window
        delayed = [client.open_modal() for _ in range(windowed)]
        stack.poller.batching_window_seconds = 0.0
        client.settled(delayed[-1] if delayed else measured[-1])
        result = {
            "first": client.hops(first),
            "commands": [client.hops(c) for c in measured],
            "windowed": [client.hops(c) for c in delayed],
            "window_seconds": window,
        }
    sys.stdout.write("BENCH_RESULT " + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
