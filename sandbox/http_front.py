"""The ingest behind a plain HTTP server, the way a Lambda Function URL puts it on the internet.

Each request to a Lambda route (``/slack/events`` by default) becomes the Function URL event (payload
format 2.0: lowercase header names, repeated headers joined with commas, ``cookies``, form bodies
base64-encoded), the handler is called with a ``LambdaContext``, and its answer is turned back into
HTTP as a Function URL does (``statusCode``/``headers``/``cookies``/``body``, or any other JSON value
as a 200 ``application/json`` body). A handler that raises or overruns its timeout gets the Function
URL's 502 ``{"message": "Internal Server Error"}``; a body over Lambda's 6 MB payload limit gets 413::

    with HttpFront(ingest.handler.lambda_handler, port=3000) as front:
        print(front.url + "/slack/events")

``extra_get_routes`` mounts plain GET endpoints (``/sandbox/messages`` and the like) on the same port.
Stdlib only (and the sandbox's ``LambdaContext``).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.poller import LambdaContext
from sandbox.serving import BackgroundServer, BodyTooLarge, LoopbackServer, QuietHandler
from shared import config as shared_config

__all__ = [
    "MAX_BODY_BYTES",
    "HttpFront",
    "RequestReport",
    "function_url_event",
    "is_textual",
    "to_http",
]

Handler = Callable[[dict[str, Any], Any], Any]
GetRoute = Callable[[], tuple[int, dict[str, str], bytes]]
HeaderList = list[tuple[str, str]]

SLACK_PATH = "/slack/events"
MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload limit
_MAX_DRAIN_BYTES = 64 * 1024 * 1024
URL_ID = "sandbox" + uuid.uuid4().hex[:25]  # a Function URL id is 32 lowercase letters and digits
_INTERNAL_ERROR = {"message": "Internal Server Error"}
_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "application/xml",
        "application/xhtml+xml",
        "application/x-ndjson",
    }
)

_log = logging.getLogger(__name__)


# -- the event ---------------------------------------------------------------------------------------


def is_textual(content_type: str | None) -> bool:
    """Whether a Function URL passes a body of this type as text (otherwise it base64-encodes it).

    ``application/x-www-form-urlencoded`` is not textual: form bodies (Slack's slash commands and
    interactions) arrive base64-encoded.
    """
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return (
        media.startswith("text/") or media in _TEXT_TYPES or media.endswith("+json") or media.endswith("+xml")
    )


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"


def function_url_event(
    method: str,
    path: str,
    query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    *,
    url_id: str = URL_ID,
    region: str | None = None,
    request_id: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The event a Lambda Function URL (auth type NONE) builds for this HTTP request."""
    region = region or shared_config.region()
    now = time.time() if now is None else now
    cookies: list[str] = []
    joined: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    forwarded = joined.get("x-forwarded-for")
    joined["x-forwarded-for"] = f"{forwarded}, {source_ip}" if forwarded else source_ip
    joined.setdefault("x-forwarded-proto", "http")
    joined.setdefault("x-amzn-trace-id", _trace_id())

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = joined
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    if parameters:
        event["queryStringParameters"] = parameters
    event["requestContext"] = {
        "accountId": "anonymous",
        "apiId": url_id,
        "domainName": f"{url_id}.lambda-url.{region}.on.aws",
        "domainPrefix": url_id,
        "http": {
            "method": method.upper(),
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": joined.get("user-agent", ""),
        },
        "requestId": request_id or str(uuid.uuid4()),
        "routeKey": "$default",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    encode = True
    if body:
        text: str | None = None
        if is_textual(joined.get("content-type")):
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        encode = text is None
        event["body"] = base64.b64encode(body).decode("ascii") if text is None else text
    else:
        encode = False
    event["isBase64Encoded"] = encode
    return event


# -- the answer --------------------------------------------------------------------------------------


class BadResponse(Exception):
    """The handler's answer is not a response a Function URL can send: it answers 502."""


def to_http(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Interpret a handler's return as a Function URL does. Raises ``BadResponse`` if it cannot."""
    try:
        result = json.loads(json.dumps(result))  # the answer travels as JSON
    except (TypeError, ValueError) as error:
        raise BadResponse(f"the response is not JSON serialisable: {error}") from error
    if isinstance(result, dict) and "statusCode" in result:
        status = result["statusCode"]
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise BadResponse(f"statusCode {status!r} is not an HTTP status")
        headers: HeaderList = []
        raw_headers = result.get("headers") or {}
        if not isinstance(raw_headers, dict):
            raise BadResponse("headers is not an object")
        for name, value in raw_headers.items():
            headers.append((str(name), value if isinstance(value, str) else json.dumps(value)))
        cookies = result.get("cookies") or []
        if not isinstance(cookies, list):
            raise BadResponse("cookies is not a list")
        headers.extend(("Set-Cookie", str(cookie)) for cookie in cookies)
        body = result.get("body")
        if body is None:
            return status, headers, b""
        if not isinstance(body, str):
            body = json.dumps(body)
        if result.get("isBase64Encoded") is True:
            try:
                return status, headers, base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError) as error:
                raise BadResponse("the body is not valid base64") from error
        return status, headers, body.encode("utf-8")
    json_type = [("Content-Type", "application/json")]
    if isinstance(result, str):
        return 200, json_type, result.encode("utf-8")
    return 200, json_type, json.dumps(result).encode("utf-8")


# -- the server --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestReport:
    """One HTTP request, for the sandbox's console lines."""

    method: str
    path: str
    status: int
    duration_ms: float
    request_id: str = ""
    error: str | None = None


class HttpFront(BackgroundServer):
    """A Function URL on loopback: Lambda routes, plain GET routes, everything else 404.

    ``handler`` serves ``/slack/events``; ``routes`` maps further paths (or ``/slack/events`` itself)
    to Lambda handlers. The socket is bound in the constructor, so ``port`` and ``url`` are known
    before ``start()``; ``start()``, ``stop()`` and ``with`` come from ``BackgroundServer``.
    """

    thread_name = "http-front"
    poll_interval = 0.05

    def __init__(
        self,
        handler: Handler,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        routes: dict[str, Handler] | None = None,
        extra_get_routes: dict[str, GetRoute] | None = None,
        on_request: Callable[[RequestReport], None] | None = None,
        function_timeout_seconds: float = 3.0,
        function_name: str = "ingest",
    ) -> None:
        self.routes: dict[str, Handler] = {SLACK_PATH: handler, **(routes or {})}
        self.get_routes: dict[str, GetRoute] = dict(extra_get_routes or {})
        self.on_request = on_request
        self.function_timeout_seconds = function_timeout_seconds
        self.function_name = function_name
        super().__init__(host, port, _Handler)

    # -- one request -------------------------------------------------------------------------------

    def invoke(self, handler: Handler, event: dict[str, Any]) -> tuple[int, HeaderList, bytes, str | None]:
        """Call a Lambda handler as a Function URL does; returns status, headers, body and an error."""
        context = LambdaContext(
            timeout_seconds=self.function_timeout_seconds, function_name=self.function_name
        )
        started = time.monotonic()
        try:
            result = handler(event, context)
        except Exception as raised:
            _log.exception("http front: the function raised")
            return (*_internal_error(), f"function error: {type(raised).__name__}: {raised}")
        elapsed = time.monotonic() - started
        if elapsed > self.function_timeout_seconds:
            return (*_internal_error(), f"function timed out after {self.function_timeout_seconds:g} s")
        try:
            status, headers, body = to_http(result)
        except BadResponse as problem:
            return (*_internal_error(), f"bad function response: {problem}")
        return status, headers, body, None


def _internal_error() -> tuple[int, HeaderList, bytes]:
    return 502, [("Content-Type", "application/json")], json.dumps(_INTERNAL_ERROR).encode()


class _Handler(QuietHandler):
    server_version = "SandboxFunctionUrl/1.0"
    timeout = 60  # idle keep-alive connections are closed after this
    server: LoopbackServer[HttpFront]

    def _dispatch(self) -> None:
        front = self.server.owner
        started = time.monotonic()
        method = self.command
        parts = urlsplit(self.path)
        path = parts.path or "/"
        request_id = str(uuid.uuid4())
        error: str | None = None
        try:
            body = self._read_body()
        except BodyTooLarge:
            status, headers, payload = (
                413,
                [("Content-Type", "application/json")],
                json.dumps({"message": "Request Entity Too Large"}).encode(),
            )
        except (ValueError, OSError) as problem:
            self.close_connection = True
            status, headers, payload = (
                400,
                [("Content-Type", "application/json")],
                json.dumps({"message": "Bad Request"}).encode(),
            )
            error = f"unreadable request body: {problem}"
        else:
            handler = front.routes.get(path)
            get_route = front.get_routes.get(path)
            if handler is not None:
                event = function_url_event(
                    method,
                    path,
                    parts.query,
                    list(self.headers.items()),
                    body,
                    self.client_address[0],
                    request_id=request_id,
                )
                status, headers, payload, error = front.invoke(handler, event)
            elif get_route is not None and method in ("GET", "HEAD"):
                try:
                    status, plain_headers, payload = get_route()
                    headers = list(plain_headers.items())
                except Exception as raised:
                    _log.exception("http front: GET route %s failed", path)
                    status, headers, payload = 500, [("Content-Type", "text/plain")], b"internal error"
                    error = f"route error: {type(raised).__name__}: {raised}"
            elif get_route is not None:
                status, headers, payload = 405, [("Allow", "GET, HEAD")], b""
            else:
                status, headers = 404, [("Content-Type", "application/json")]
                payload = json.dumps({"message": "Not Found"}).encode()
        # Reported before the answer is written, so whoever got the answer can rely on the report.
        if front.on_request is not None:
            report = RequestReport(
                method=method,
                path=path,
                status=status,
                duration_ms=round((time.monotonic() - started) * 1000, 1),
                request_id=request_id,
                error=error,
            )
            try:
                front.on_request(report)
            except Exception:
                _log.exception("http front: on_request callback failed")
        self._write(status, headers, payload, request_id)

    # Every method reaches the function, as with a Function URL: the ingest answers 405 itself.
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self.read_chunked(MAX_BODY_BYTES)
        length_header = self.headers.get("Content-Length")
        if not length_header:
            return b""
        length = int(length_header)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > MAX_BODY_BYTES:
            if length <= _MAX_DRAIN_BYTES:  # read it away so that the client sees the answer
                remaining = length
                while remaining > 0:
                    got = self.rfile.read(min(remaining, 1 << 20))
                    if not got:
                        break
                    remaining -= len(got)
            else:
                self.close_connection = True
            raise BodyTooLarge
        return self.rfile.read(length)

    def _write(self, status: int, headers: HeaderList, payload: bytes, request_id: str) -> None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        self.send_response(status, phrase)
        names = set()
        for name, value in headers:
            if name.lower() in ("content-length", "connection", "transfer-encoding", "date", "server"):
                continue
            names.add(name.lower())
            self.send_header(name, value)
        if "x-amzn-requestid" not in names:
            self.send_header("x-amzn-RequestId", request_id)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)
