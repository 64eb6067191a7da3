"""The ingest's SigV4 signer: AWS's published test suite, and botocore's ``SigV4Auth`` on random requests."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path
from unittest import mock
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.aws.sigv4 import Credentials, canonical_path, sign

SUITE = Path(__file__).resolve().parents[1] / "fixtures" / "sigv4"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
AMZ_DATE = "20150830T123600Z"


@dataclass
class RawRequest:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes


def parse_request(text: str) -> RawRequest:
    """A suite ``.req`` file. Written by hand rather than with ``http.server``, whose parser refuses
    ``get-space``'s request line (botocore skips that case for this reason)."""
    head, _, body = text.partition("\n\n")
    request_line, *lines = head.split("\n")
    method, _, rest = request_line.partition(" ")
    target = rest.rsplit(" ", 1)[0]  # the target may hold a space; the protocol is the last word
    path, _, query = target.partition("?")
    headers: list[tuple[str, str]] = []
    for line in filter(None, lines):  # some files end their head with a newline, some do not
        if line[:1] in (" ", "\t"):  # a folded continuation of the header above
            name, value = headers.pop()
            headers.append((name, f"{value} {line.strip()}"))
        else:
            name, _, value = line.partition(":")
            headers.append((name, value))
    pairs = [pair.partition("=") for pair in query.split("&")] if query else []
    return RawRequest(
        method,
        path,
        [(unquote(key), unquote(value)) for key, _, value in pairs],
        headers,
        body.encode(),
    )


def suite_cases() -> list[str]:
    return sorted(str(req.parent.relative_to(SUITE)) for req in SUITE.rglob("*.req"))


def test_the_suite_is_all_there() -> None:
    # 34 cases in AWS's suite as botocore vendors it; a missing file would silently shrink the proof.
    assert len(suite_cases()) == 34


@pytest.mark.parametrize("case", suite_cases())
def test_aws_sigv4_test_suite(case: str) -> None:
    folder = SUITE / case
    expected = {
        suffix: (folder / f"{folder.name}.{suffix}").read_text(encoding="utf-8").replace("\r", "")
        for suffix in ("req", "creq", "sts", "authz")
    }
    request = parse_request(expected["req"])
    token = re.search(r"^x-amz-security-token:(.*)$", expected["creq"], re.MULTILINE)
    signed = sign(
        method=request.method,
        path=request.path,
        query=request.query,
        headers=request.headers,
        body=request.body,
        credentials=Credentials(ACCESS_KEY, SECRET_KEY, token.group(1) if token else ""),
        region="us-east-1",
        service="service",
        amz_date=AMZ_DATE,
    )
    assert signed.canonical_request == expected["creq"]
    assert signed.string_to_sign == expected["sts"]
    assert signed.authorization == expected["authz"]
    assert ("X-Amz-Date", AMZ_DATE) in signed.headers


def test_path_normalisation_keeps_a_trailing_slash_and_never_climbs_above_the_root() -> None:
    assert canonical_path("") == "/"
    assert canonical_path("/a/b/../../..") == "/"
    assert canonical_path("/a//b/./c/") == "/a/b/c/"
    assert canonical_path("/%41 b") == "/%2541%20b"  # encoded again: services other than S3


# botocore leaves these out of the signature (or reads them itself); the ingest never sends them.
BOTOCORE_SPECIAL = {
    "authorization",
    "baggage",
    "connection",
    "content-length",
    "date",
    "expect",
    "host",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "traceparent",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amz-content-sha256",
    "x-amz-date",
    "x-amz-security-token",
    "x-amzn-trace-id",
}
TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
header_names = st.text(TOKEN_CHARS, min_size=1, max_size=12).filter(
    lambda name: name.lower() not in BOTOCORE_SPECIAL
)
header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.just("\t"), max_size=30)
# Any character but the URL's own delimiters and controls (urlsplit drops tabs and newlines).
path_text = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="?#"), max_size=20)
names = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    host=st.sampled_from(["sqs.eu-west-1.amazonaws.com", "127.0.0.1:4566", "example.com"]),
    segments=st.lists(path_text | st.sampled_from([".", "..", ""]), max_size=6),
    trailing_slash=st.booleans(),
    query=st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=5),
    headers=st.lists(st.tuples(header_names, header_values), max_size=6),
    body=st.binary(max_size=200),
    access_key=names,
    secret_key=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40),
    token=st.none() | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1),
    region=names,
    service=names,
    when=st.datetimes(datetime.datetime(2000, 1, 1), datetime.datetime(2099, 12, 31)),
)
def test_agrees_with_botocore_sigv4auth(
    method: str,
    host: str,
    segments: list[str],
    trailing_slash: bool,
    query: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    body: bytes,
    access_key: str,
    secret_key: str,
    token: str | None,
    region: str,
    service: str,
    when: datetime.datetime,
) -> None:
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotocoreCredentials

    path = "/" + "/".join(segments) + ("/" if trailing_slash else "")
    request = AWSRequest(method=method, url=f"https://{host}{path}", data=body)
    request.headers["Host"] = host
    for name, value in headers:
        request.headers[name] = value  # appends: a repeated name keeps every value, in order
    request.params = query
    auth = botocore.auth.SigV4Auth(BotocoreCredentials(access_key, secret_key, token), service, region)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        auth.add_auth(request)

    ours = sign(
        method=method,
        path=path,
        query=query,
        headers=[("Host", host), *headers],
        body=body,
        credentials=Credentials(access_key, secret_key, token or ""),
        region=region,
        service=service,
        amz_date=when.strftime("%Y%m%dT%H%M%SZ"),
    )
    assert ours.authorization == request.headers["Authorization"]
    added = {name: value for name, value in ours.headers if name.lower().startswith("x-amz-")}
    assert added == {
        name: request.headers[name]
        for name in ("X-Amz-Date", "X-Amz-Security-Token")
        if name in request.headers
    }
