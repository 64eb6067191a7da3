"""AWS Signature Version 4 for request headers, with ``hmac`` and ``hashlib`` only.

Why not botocore's ``SigV4Auth``: importing ``botocore.auth`` costs about 120 ms of a cold start, more
than the whole ingest without it. The algorithm is short and fully specified; this module follows
https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html and is proved against AWS's
published test suite (``tests/fixtures/sigv4/``) and against botocore on random requests.

Rules that are easy to get wrong, as the test suite and botocore apply them (services other than S3):
- the path is normalised (``.`` and ``..`` removed, repeated slashes collapsed) and then percent-encoded
  again, so a ``%`` already in it becomes ``%25``;
- query keys and values are encoded with only ``A-Z a-z 0-9 - _ . ~`` left as they are, then sorted by
  key and, for repeated keys, by value;
- header names are lower-cased, values trimmed with inner runs of whitespace collapsed to one space,
  and repeated headers joined with ``,`` in the order given.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from typing import NamedTuple
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"


class Credentials(NamedTuple):
    access_key: str
    secret_key: str
    token: str = ""  # a session token (Lambda's role credentials always have one)


class Signed(NamedTuple):
    """The headers to send (the caller's, plus ``X-Amz-Date``, the token and ``Authorization``) and
    the intermediate strings, which the test suite checks one by one."""

    headers: list[tuple[str, str]]
    canonical_request: str
    string_to_sign: str
    authorization: str


def sign(
    *,
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Iterable[tuple[str, str]],
    body: bytes,
    credentials: Credentials,
    region: str,
    service: str,
    amz_date: str,
) -> Signed:
    """Sign a request. ``headers`` must include ``Host``; every header given is signed.

    ``query`` holds decoded (key, value) pairs; ``amz_date`` is ``YYYYMMDD'T'HHMMSS'Z'`` in UTC.
    """
    replaced = {"authorization", "x-amz-date", "x-amz-security-token"}
    to_send = [(name, value) for name, value in headers if name.lower() not in replaced]
    to_send.append(("X-Amz-Date", amz_date))
    if credentials.token:
        to_send.append(("X-Amz-Security-Token", credentials.token))
    header_block, signed_names = _canonical_headers(to_send)
    canonical_request = "\n".join(
        (
            method.upper(),
            canonical_path(path),
            canonical_query(query),
            header_block,
            signed_names,
            hashlib.sha256(body).hexdigest(),
        )
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        (ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest())
    )
    key = signing_key(credentials.secret_key, amz_date[:8], region, service)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={signed_names}, Signature={signature}"
    )
    to_send.append(("Authorization", authorization))
    return Signed(to_send, canonical_request, string_to_sign, authorization)


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def canonical_path(path: str) -> str:
    # RFC 3986's dot-segment removal, plus the collapsing of empty segments that AWS requires.
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    normalised = "/" + "/".join(segments)
    if segments and path.endswith("/"):
        normalised += "/"
    return quote(normalised, safe="/~")


def canonical_query(pairs: Sequence[tuple[str, str]]) -> str:
    encoded = sorted((quote(key, safe="-_.~"), quote(value, safe="-_.~")) for key, value in pairs)
    return "&".join(f"{key}={value}" for key, value in encoded)


def _canonical_headers(headers: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """The canonical header block (each line ending in a newline) and the signed header names."""
    values: dict[str, list[str]] = {}
    for name, value in headers:
        values.setdefault(name.strip().lower(), []).append(" ".join(value.split()))
    names = sorted(values)
    block = "".join(f"{name}:{','.join(values[name])}\n" for name in names)
    return block, ";".join(names)
