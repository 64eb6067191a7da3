"""The one request and response type of the ingest, and the adapter from the three front doors.

Slack reaches the ingest through a Lambda Function URL, an API Gateway HTTP API (both payload format
2.0) or an API Gateway REST API (payload format 1.0). Each has its own event shape; ``from_lambda_event``
turns any of them into one ``HttpRequest`` and ``to_lambda_result`` turns our ``HttpResponse`` back into
what all three accept. Nothing past this module knows which door was used.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple


# NamedTuples rather than dataclasses throughout the ingest: importing ``dataclasses`` (it imports
# ``inspect``, ``ast``, ``dis``) costs a cold start about 9 ms, and each class made with it more.
class HttpRequest(NamedTuple):
    method: str
    path: str
    headers: Mapping[str, str]  # names lowercased
    body: bytes
    request_id: str = ""
    # Set when the Lambda event itself is broken (not Slack's content): the answer is 400.
    malformed: str | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


_NO_HEADERS: Mapping[str, str] = MappingProxyType({})  # a default no answer can change for the others


class HttpResponse(NamedTuple):
    status: int
    body: str = ""
    headers: Mapping[str, str] = _NO_HEADERS

    @classmethod
    def json(cls, status: int, data: Any, headers: dict[str, str] | None = None) -> HttpResponse:
        return cls(status, json.dumps(data), {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def text(cls, status: int, text: str, headers: dict[str, str] | None = None) -> HttpResponse:
        return cls(status, text, {"Content-Type": "text/plain; charset=utf-8", **(headers or {})})


def from_lambda_event(event: Any) -> HttpRequest:
    """Read a Function URL / HTTP API (2.0) or REST API (1.0) event. Never raises."""
    if not isinstance(event, dict):
        return HttpRequest("", "", {}, b"", malformed="the Lambda event is not an object")
    context = event.get("requestContext")
    context = context if isinstance(context, dict) else {}
    http = context.get("http")
    if isinstance(http, dict):  # payload format 2.0: Function URL and HTTP API
        method = http.get("method")
        path = event.get("rawPath") or http.get("path") or ""
        headers = _headers_v2(event.get("headers"))
    else:  # payload format 1.0: REST API
        method = event.get("httpMethod")
        path = event.get("path") or ""
        headers = _headers_v1(event.get("headers"), event.get("multiValueHeaders"))
    request_id = context.get("requestId")
    body, problem = _body(event.get("body"), event.get("isBase64Encoded"))
    return HttpRequest(
        method=method.upper() if isinstance(method, str) else "",
        path=path if isinstance(path, str) else "",
        headers=headers,
        body=body,
        request_id=request_id if isinstance(request_id, str) else "",
        malformed=problem,
    )


def _headers_v2(raw: Any) -> dict[str, str]:
    # HTTP API and Function URLs already lowercase names and join repeated headers with commas.
    if not isinstance(raw, dict):
        return {}
    return {str(k).lower(): v for k, v in raw.items() if isinstance(v, str)}


def _headers_v1(raw: Any, multi: Any) -> dict[str, str]:
    # REST APIs keep names as sent; ``headers`` holds the last value, ``multiValueHeaders`` all of
    # them. Either may be missing or null.
    headers: dict[str, str] = {}
    if isinstance(multi, dict):
        for name, values in multi.items():
            if isinstance(values, list) and values and isinstance(values[0], str):
                headers[str(name).lower()] = values[0]
    if isinstance(raw, dict):
        for name, value in raw.items():
            if isinstance(value, str):
                headers.setdefault(str(name).lower(), value)
    return headers


def _body(raw: Any, is_base64: Any) -> tuple[bytes, str | None]:
    if raw is None:
        return b"", None
    if not isinstance(raw, str):
        return b"", "the body is not a string"
    if is_base64 is True:
        try:
            return base64.b64decode(raw, validate=True), None
        except (binascii.Error, ValueError):
            return b"", "the body is not valid base64"
    try:
        return raw.encode("utf-8"), None
    except UnicodeEncodeError:  # lone surrogates cannot have come from Slack
        return b"", "the body is not valid UTF-8"


def to_lambda_result(response: HttpResponse) -> dict[str, Any]:
    """A result every front door accepts (2.0 would also take a bare string; 1.0 would not)."""
    return {
        "statusCode": response.status,
        "headers": dict(response.headers),
        "body": response.body,
        "isBase64Encoded": False,
    }
