"""Security: no secret in any log line, on any path; the signature check is constant-time."""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any

import pytest

import worker.skills.ping
from ingest import signature
from tests.support import slack_requests as sr
from tests.support.moto_server import free_port
from tests.support.pipeline import Pipeline

SIGNING_SECRET = "9f86d081884c7d659a2feaa0c55ad015"
OLD_SECRET = "a3bb189e8bf9388899b2d9e2bb5d0d8c"
BOT_TOKEN = "xoxb-2719012345678-2719087654321-Q3vXh7LmNpRsTuVwXyZaBcDe"


def test_no_secret_token_or_signature_reaches_any_log_line(
    pipeline: Pipeline,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", f"{SIGNING_SECRET},{OLD_SECRET}")
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    pipeline.slack.valid_tokens = {BOT_TOKEN}
    caplog.set_level(logging.DEBUG)
    signatures: list[str] = []

    def post(body: bytes, content_type: str = "application/json", **kw: Any) -> dict[str, Any]:
        event = sr.signed_event(
            "function_url", body, content_type, secret=kw.pop("secret", SIGNING_SECRET), **kw
        )
        signatures.append(event["headers"]["x-slack-signature"])
        return pipeline.post_event(event)

    # Every ingest path: accepted, old secret, forged, stale, malformed, bot message, queue down.
    post(sr.mention("<@UBOT> ping", channel="C0OK"))
    post(sr.mention("<@UBOT> help", channel="C0OLD"), secret=OLD_SECRET)
    post(sr.mention("<@UBOT> ping"), secret=BOT_TOKEN)  # forged with the wrong key
    post(sr.mention("<@UBOT> ping"), timestamp=int(time.time()) - 3600)
    post(b"{broken json")
    post(sr.event_callback({"type": "message", "bot_id": "B1", "text": "x", "channel": "C1", "ts": "1.1"}))
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", f"http://127.0.0.1:{free_port()}")
    post(sr.mention("<@UBOT> ping"))
    monkeypatch.delenv("AWS_ENDPOINT_URL_SQS")

    # Every worker path: answered, Slack refusing the token, a skill crashing with the token in its message.
    pipeline.slack.add_fault(method="chat.postMessage", status=200, error="invalid_auth", times=1)
    post(sr.mention("<@UBOT> ping", channel="C0AUTH"))
    pipeline.drain()

    def leaky(ask: Any) -> Any:
        raise RuntimeError(f"boom with {BOT_TOKEN} and {SIGNING_SECRET}")

    monkeypatch.setitem(worker.skills.all_skills(), "ping", worker.skills.Skill("ping", "x", leaky))
    post(sr.mention("<@UBOT> ping", channel="C0CRASH"))
    invocation = pipeline.run_worker()
    assert invocation is not None and invocation.failed  # the crash was real and retried
    pipeline.slack.add_fault(method="chat.postMessage", status=500, times=10)
    post(sr.direct_message("help", channel="D0DOWN"))
    pipeline.run_worker()

    logged = capsys.readouterr().out + "\n".join(
        r.getMessage() + str(getattr(r, "fields", "")) for r in caplog.records
    )
    assert "outcome" in logged and "invalid_auth" in logged and "RuntimeError" in logged  # the paths ran
    import os

    import boto3

    stored = str(boto3.client("dynamodb").scan(TableName=os.environ["STATE_TABLE"])["Items"])
    assert "RuntimeError" in stored  # the crash's reason was kept for the SREs…
    for secret in (SIGNING_SECRET, OLD_SECRET, BOT_TOKEN, BOT_TOKEN.split("-")[-1], *signatures):
        assert secret not in logged, f"{secret[:6]}… leaked into the logs"
        assert secret not in stored, f"{secret[:6]}… leaked into the state table"  # …without the secret


def test_the_signature_check_compares_in_constant_time_against_every_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signature.hmac, "compare_digest", spy)
    now = int(time.time())
    body = b'{"type":"event_callback"}'
    good = signature.sign("first", str(now), body)
    assert signature.check(["first", "second", "third"], str(now), good, body, now) is None
    assert len(compared) == 3  # no early exit once the first secret matched
    compared.clear()
    assert signature.check(["first", "second"], str(now), "v0=" + "0" * 64, body, now) == "mismatch"
    assert len(compared) == 2 and all(len(a) == len(b) for a, b in compared)


def test_the_replay_window_holds_in_both_directions() -> None:
    body = b"{}"
    for skew, expected in ((-301, "stale"), (301, "stale"), (-299, None), (299, None)):
        now = 1_800_000_000
        ts = str(now + skew)
        assert signature.check(["s"], ts, signature.sign("s", ts, body), body, now) == expected
