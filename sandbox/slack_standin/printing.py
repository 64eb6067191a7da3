"""The stand-in's records as readable lines, for a console and for the message of a failed wait."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sandbox.slack_standin.wire import Record

__all__ = ["format_reply", "summary"]


def format_reply(record: Record) -> str:
    """A readable one-liner for a record, e.g. ``#C123 ← pong (thread 1700000000.000100)``."""
    args = record.get("args") or {}
    text = args.get("text") if isinstance(args.get("text"), str) else ""
    if not text and args.get("blocks"):
        text = " | ".join(_block_texts(args["blocks"]))
    text = _one_line(text or "")
    failure = "" if record.get("ok") else f"  [{record.get('status')} {record.get('error')}]"
    if record.get("kind") == "response_url":
        tags = [args["response_type"]] if isinstance(args.get("response_type"), str) else []
        if args.get("replace_original"):
            tags.append("replace")
        if args.get("delete_original"):
            tags.append("delete")
        tag = f" ({', '.join(tags)})" if tags else ""
        return f"response_url ← {text}{tag}{failure}"
    method = record.get("method")
    channel = args.get("channel", "?")
    if method == "chat.postMessage":
        thread = f" (thread {args['thread_ts']})" if args.get("thread_ts") else ""
        return f"#{channel} ← {text}{thread}{failure}"
    if method == "chat.postEphemeral":
        return f"#{channel} ← (only {args.get('user', '?')}) {text}{failure}"
    if method == "chat.update":
        return f"#{channel} ← (edit {args.get('ts', '?')}) {text}{failure}"
    outcome = "ok" if record.get("ok") else f"{record.get('status')} {record.get('error')}"
    return f"{method or record.get('path')} → {outcome}"


def summary(headline: str, records: list[Record], limit: int = 20) -> str:
    lines = [f"{headline}; {len(records)} record(s):"]
    for r in records[-limit:]:
        outcome = "ok" if r["ok"] else f"error={r['error']}"
        args = json.dumps(r["args"], default=str)
        if len(args) > 200:
            args = args[:199] + "…"
        lines.append(
            f"  #{r['seq']} {r['kind']} {r['method'] or r['path']} -> {r['status']} {outcome} {args}"
        )
    if len(records) > limit:
        lines.insert(1, f"  ... {len(records) - limit} earlier record(s) omitted")
    return "\n".join(lines)


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ⏎ ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _block_texts(node: Any) -> Iterable[str]:
    """The human-readable strings in a Block Kit structure, in order."""
    if isinstance(node, list):
        for item in node:
            yield from _block_texts(item)
    elif isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text", "text") and isinstance(node.get("text"), str):
            yield node["text"]
            return
        for key, value in node.items():
            if key not in ("type", "block_id", "action_id", "url", "value", "image_url"):
                yield from _block_texts(value)
