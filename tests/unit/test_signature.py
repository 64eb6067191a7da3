"""The signature check agrees with Slack's published example and with slack_sdk's verifier."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import given, settings
from slack_sdk.signature import SignatureVerifier

from ingest import signature

# https://api.slack.com/authentication/verifying-requests-from-slack (the worked example)
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = "1531420618"
DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


class FixedClock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_slacks_published_example_verifies() -> None:
    assert signature.sign(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY) == DOC_SIGNATURE
    now = int(DOC_TIMESTAMP) + 10
    assert signature.check([DOC_SECRET], DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, now) is None


def test_slacks_published_example_fails_when_anything_changes() -> None:
    now = int(DOC_TIMESTAMP)
    assert signature.check([DOC_SECRET], DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY + b"x", now) == "mismatch"
    assert signature.check(["other"], DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, now) == "mismatch"
    assert signature.check([DOC_SECRET], "1531420619", DOC_SIGNATURE, DOC_BODY, now) == "mismatch"
    assert signature.check([DOC_SECRET], DOC_TIMESTAMP, DOC_SIGNATURE.upper(), DOC_BODY, now) == "mismatch"


def test_the_replay_window_holds_in_both_directions() -> None:
    ts = int(DOC_TIMESTAMP)
    check = signature.check
    assert check([DOC_SECRET], DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, ts + 300) is None
    assert check([DOC_SECRET], DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, ts - 300) is None
    assert check([DOC_SECRET], DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, ts + 301) == "stale"
    assert check([DOC_SECRET], DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, ts - 301) == "stale"


def test_missing_and_nonsense_headers_are_refused() -> None:
    now = int(DOC_TIMESTAMP)
    assert signature.check([DOC_SECRET], None, DOC_SIGNATURE, DOC_BODY, now) == "missing"
    assert signature.check([DOC_SECRET], DOC_TIMESTAMP, None, DOC_BODY, now) == "missing"
    assert signature.check([DOC_SECRET], DOC_TIMESTAMP, "", DOC_BODY, now) == "missing"
    for ts in ("-1531420618", "+1531420618", " 1531420618", "1_531_420_618", "1531420618.0", "١٥٣١٤٢٠٦١٨"):
        assert signature.check([DOC_SECRET], ts, DOC_SIGNATURE, DOC_BODY, now) is not None


def test_any_secret_of_a_rotation_list_is_accepted() -> None:
    now = int(DOC_TIMESTAMP)
    secrets = signature.parse_secrets(f" new-secret , {DOC_SECRET},,")
    assert secrets == ["new-secret", DOC_SECRET]
    assert signature.check(secrets, DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, now) is None
    other = signature.sign("new-secret", DOC_TIMESTAMP, DOC_BODY)
    assert signature.check(secrets, DOC_TIMESTAMP, other, DOC_BODY, now) is None


@settings(max_examples=500, deadline=None)
@given(
    secret=st.text(min_size=1, max_size=40).filter(lambda s: "," not in s and s.strip() == s and s),
    body=st.text(max_size=300),
    skew=st.integers(min_value=-400, max_value=400),
    tamper=st.sampled_from(["none", "signature", "body", "secret"]),
)
def test_agrees_with_slack_sdk_signature_verifier(secret: str, body: str, skew: int, tamper: str) -> None:
    now = 1_700_000_000
    timestamp = str(now + skew)
    reference = SignatureVerifier(secret, clock=FixedClock(now))  # type: ignore[arg-type]
    good = reference.generate_signature(timestamp=timestamp, body=body)
    assert good is not None
    presented, checked_body, checked_secret = good, body, secret
    if tamper == "signature":
        presented = good[:-1] + ("0" if good[-1] != "0" else "1")
    elif tamper == "body":
        checked_body = body + " "
    elif tamper == "secret":
        checked_secret = secret + "x"
    ours = signature.check([checked_secret], timestamp, presented, checked_body.encode(), now) is None
    theirs = SignatureVerifier(checked_secret, clock=FixedClock(now)).is_valid(  # type: ignore[arg-type]
        body=checked_body, timestamp=timestamp, signature=presented
    )
    assert ours == theirs
    assert signature.sign(secret, timestamp, body.encode()) == good


@settings(max_examples=300, deadline=None)
@given(timestamp=st.text(max_size=15), presented=st.text(max_size=80), body=st.binary(max_size=200))
def test_never_raises_on_arbitrary_headers(timestamp: str, presented: str, body: bytes) -> None:
    result = signature.check([DOC_SECRET], timestamp, presented, body, 1_700_000_000)
    assert result in (None, "missing", "stale", "mismatch")
    assert result is not None  # a random string is never a valid signature
