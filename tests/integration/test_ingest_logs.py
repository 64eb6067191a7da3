"""One JSON log line per request, with what an SRE needs and nothing secret."""

from __future__ import annotations

import json

import pytest

from ingest.handler import lambda_handler
from tests.conftest import Aws
from tests.support import slack_requests as sr


def test_one_json_line_per_request_without_secrets(
    aws: Aws, signing_secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    accepted = sr.signed_event("function_url", sr.mention(event_id="Ev0LOGGED", channel="C0LOG"), retry_num=2)
    forged = sr.signed_event("rest_api", sr.mention(), secret="wrong-secret-123456")
    for event in (accepted, forged):
        lambda_handler(event, None)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 2
    ok, refused = lines
    assert ok["outcome"] == "queued" and ok["status"] == 200
    assert ok["event_id"] == "Ev0LOGGED" and ok["channel"] == "C0LOG" and ok["team"] == "T0001"
    assert ok["retry_num"] == 2 and ok["retry_reason"] == "http_timeout"
    assert ok["kind"] == "event" and isinstance(ok["ms"], float)
    assert refused["outcome"] == "rejected_signature_mismatch" and refused["status"] == 401
    text = json.dumps(lines)
    for secret in (signing_secret, "wrong-secret-123456", accepted["headers"]["x-slack-signature"]):
        assert secret not in text


def test_the_redactor_masks_tokens_and_configured_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.log import redact

    monkeypatch.setenv("SLACK_SIGNING_SECRET", "old-secret-abcdef,new-secret-ghijkl")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1234-5678-abcdefgh")
    text = redact("saw xoxb-1234-5678-abcdefgh and new-secret-ghijkl and v0=" + "a" * 64 + " and xoxp-9-9")
    assert (
        "xoxb-1234" not in text and "new-secret" not in text and "aaaa" not in text and "xoxp-9" not in text
    )
    assert text.count("[REDACTED]") == 4
