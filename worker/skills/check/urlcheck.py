"""SSRF-safe HTTP(S) health checks for the bot's `check <url> …` skill.

`check_url` checks one URL and never raises; `check_all` checks many at once and joins every thread before
it returns (Lambda freezes threads when the handler returns); `extract_urls` pulls URLs out of a Slack
message.

How a check stays safe: every hop (the URL and each redirect target) is resolved and vetted with
`netguard.resolve`, and the socket is connected to the vetted IP address itself, never by name, so a
DNS answer that changes between the vetting and the connect (rebinding) cannot send it elsewhere. The
original host name still goes in the `Host` header, in SNI and in certificate verification. One deadline,
`timeout` seconds from the start, bounds the whole check: name lookups (`netguard.resolve` stops waiting for
`getaddrinfo` at the deadline), connects, TLS handshakes, the request and every read across all hops, the
status line and headers included (each socket operation gets only the time that is left, so a server
dribbling its headers a byte at a time is cut off at the deadline).

What a hostile server can make the checker hold is bounded too: the status line and headers together at
most `MAX_HEADER_BYTES` (a larger head is an error, not read further), then at most `MAX_BODY_BYTES` of
body, discarded; at most `MAX_REDIRECTS` redirects are followed.

Credentials in a URL (`https://user:pass@host/`) are accepted but never sent and never echoed in results.

Stdlib only.
"""

from __future__ import annotations

import functools
import http.client
import io
import math
import re
import socket
import ssl
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

from worker.skills.check import netguard

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_REDIRECTS",
    "MAX_URLS",
    "USER_AGENT",
    "CheckResult",
    "check_all",
    "check_url",
    "extract_urls",
    "is_checkable_url",
]

USER_AGENT = "slackbot-pipeline-check/1"
#: At most this much of a final response's body is read (and discarded).
MAX_BODY_BYTES = 64 * 1024
#: The status line and every header of one response together: a larger head fails the check.
MAX_HEADER_BYTES = 64 * 1024
#: Redirects followed per URL (so at most MAX_REDIRECTS + 1 requests per URL).
MAX_REDIRECTS = 3
#: URLs checked per request (the `check` skill checks the first ones and says so).
MAX_URLS = 5

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_CHARS = re.compile(r"[A-Za-z0-9._:%\-]+")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#]*@")
# Characters left as they are in the request target; everything else (spaces, controls, non-ASCII) is
# percent-encoded, so nothing in a URL can break the request line or add a header.
_TARGET_SAFE = "!$%&'()*+,/:;=?@[]~"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one URL.

    `url` and `final_url` never contain credentials. `status` is the last HTTP status received (the final
    response's when there was no error; a redirect's when the redirect could not be followed). `ok` is
    true when the final response arrived with a status below 400. `latency_ms` is the time from the start of
    the check to the final response's headers: DNS, connects, TLS handshakes and every redirect hop included.
    `cert_days_left` is the final hop's certificate validity left in whole days (floor), https only.
    `error` is a short human reason when the check failed, else None.
    """

    url: str
    ok: bool
    status: int | None
    latency_ms: float | None
    cert_days_left: int | None
    final_url: str
    error: str | None
    redirects: int


class _Failure(Exception):
    """A check failed for a reason already worded for the user."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # ASCII host name or bare IP literal: what is resolved, sent as SNI and verified
    port: int
    host_header: str
    request_target: str
    display: str  # the URL without credentials


@dataclass(frozen=True)
class _Response:
    status: int
    location: str | None
    cert_days_left: int | None
    headers_at: float  # time.monotonic() when the headers had been read


def _redact(url: str) -> str:
    """`url` without any `user:password@`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _USERINFO.sub(r"\1", url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _parse(url: str) -> _Target:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise _Failure(f"invalid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise _Failure(f"unsupported scheme {scheme + ':' if scheme else '(none)'} (only http and https)")
    host = unquote(parts.hostname or "")
    if not host:
        raise _Failure("invalid URL: no host")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise _Failure("invalid URL: bad host name") from exc
    if not _HOST_CHARS.fullmatch(host):
        raise _Failure("invalid URL: bad host name")
    default_port = _DEFAULT_PORTS[scheme]
    if port is None:
        port = default_port
    elif port == 0:
        raise _Failure("invalid URL: port 0")
    host_header = f"[{host}]" if ":" in host else host
    if port != default_port:
        host_header = f"{host_header}:{port}"
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    return _Target(
        scheme=scheme,
        host=host,
        port=port,
        host_header=host_header,
        request_target=quote(target, safe=_TARGET_SAFE),
        display=_redact(url.strip()),
    )


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


class _ResponseTooLarge(http.client.HTTPException):
    """The server sent more than the checker reads (a header bomb)."""


class _DeadlineReader(io.RawIOBase):
    """Reads from a socket, giving each read only the time left before the shared deadline.

    `budget` is how many more bytes it may take from the socket: once spent, a read raises
    `_ResponseTooLarge` instead of reading on, so http.client never holds more than that.
    """

    def __init__(self, sock: socket.socket, deadline: float, budget: int) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline
        self.budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        if self.budget <= 0:
            raise _ResponseTooLarge("read budget spent")
        self._sock.settimeout(_remaining(self._deadline))
        with memoryview(buffer) as view:
            received = self._sock.recv_into(view[: self.budget])
        self.budget -= received
        return received


class _DeadlineSocket:
    """What `http.client.HTTPResponse` needs of a socket: `makefile("rb")`, reading under the deadline.

    Until `allow_body` is called, only MAX_HEADER_BYTES may be read: the status line and the headers.
    """

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._reader = _DeadlineReader(sock, deadline, MAX_HEADER_BYTES)

    def makefile(self, mode: str) -> io.BufferedReader:
        if mode != "rb":
            raise ValueError(f"unsupported mode {mode!r}")
        return io.BufferedReader(self._reader)

    def allow_body(self) -> None:
        """The headers are in: what the body reader takes may now be read from the socket."""
        self._reader.budget = MAX_BODY_BYTES


def _connect(endpoints: Sequence[netguard.Endpoint], deadline: float) -> socket.socket:
    """Connect to the first vetted address that answers (pinning: the address, never the name)."""
    last: OSError = ConnectionError("no address to connect to")
    for endpoint in endpoints:
        sock = socket.socket(endpoint.family, socket.SOCK_STREAM)
        try:
            sock.settimeout(_remaining(deadline))
            sock.connect(endpoint.sockaddr)
        except OSError as exc:
            sock.close()
            if isinstance(exc, TimeoutError):
                raise
            last = exc
            continue
        return sock
    raise last


def _cert_days_left(tls: ssl.SSLSocket) -> int | None:
    cert = tls.getpeercert()  # empty when the context does not verify certificates
    not_after = cert.get("notAfter") if cert else None
    if not isinstance(not_after, str):
        return None
    return math.floor((ssl.cert_time_to_seconds(not_after) - time.time()) / 86400)


def _read_body(response: http.client.HTTPResponse) -> None:
    """Read at most MAX_BODY_BYTES and discard them. Errors here do not change the result."""
    left = MAX_BODY_BYTES
    try:
        while left > 0:
            chunk = response.read(min(left, 16384))
            if not chunk:
                return
            left -= len(chunk)
    except (OSError, http.client.HTTPException):
        return


def _fetch(
    target: _Target, endpoints: Sequence[netguard.Endpoint], deadline: float, ctx: ssl.SSLContext | None
) -> _Response:
    raw = _connect(endpoints, deadline)
    conn = raw
    try:
        cert_days_left = None
        if target.scheme == "https":
            if ctx is None:
                raise ValueError("an https hop needs an SSL context")
            raw.settimeout(_remaining(deadline))
            tls = ctx.wrap_socket(raw, server_hostname=target.host)
            conn = tls
            cert_days_left = _cert_days_left(tls)
        request = (
            f"GET {target.request_target} HTTP/1.1\r\n"
            f"Host: {target.host_header}\r\n"
            f"User-Agent: {USER_AGENT}\r\n"
            "Accept: */*\r\n"
            "Accept-Encoding: identity\r\n"
            "Connection: close\r\n"
            "\r\n"
        )
        conn.settimeout(_remaining(deadline))
        conn.sendall(request.encode("ascii"))
        reading = _DeadlineSocket(conn, deadline)
        response = http.client.HTTPResponse(cast(socket.socket, reading), method="GET")
        try:
            response.begin()
            headers_at = time.monotonic()
            reading.allow_body()
            location = response.getheader("Location")
            if response.status in _REDIRECT_STATUSES and location:
                return _Response(response.status, location.strip(), cert_days_left, headers_at)
            _read_body(response)
            return _Response(response.status, None, cert_days_left, headers_at)
        finally:
            response.close()
    finally:
        conn.close()
        raw.close()  # a no-op once wrapped (the TLS socket took the descriptor)


def _describe(exc: BaseException, timeout: float) -> str:
    """A short human reason for a failed hop."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS: {exc.verify_message or exc.reason or exc}"
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or str(exc)
        return f"TLS: {reason.lower().replace('_', ' ')}"
    if isinstance(exc, _ResponseTooLarge):
        return f"response headers larger than {MAX_HEADER_BYTES // 1024} KiB"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "connection closed without a response"
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout:.1f} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by peer"
    if isinstance(exc, http.client.HTTPException):
        return f"bad HTTP response ({type(exc).__name__})"
    if isinstance(exc, OSError):
        return f"connection failed: {exc.strerror or exc}"
    return f"failed: {type(exc).__name__}"


def _check(
    url: str,
    *,
    timeout: float,
    allow_private: bool,
    max_redirects: int,
    ssl_context: ssl.SSLContext | None,
    resolver: netguard.Resolver | None,
) -> CheckResult:
    if not timeout > 0:  # negative or NaN: no time at all
        timeout = 0.0
    start = time.monotonic()
    deadline = start + timeout
    display = _redact(url)
    current = url
    final_display = display
    redirects = 0
    status: int | None = None
    ctx = ssl_context
    while True:
        error: str
        final_display = _redact(current.strip())  # the hop named in an error, even one that cannot parse
        try:
            target = _parse(current)
            final_display = target.display
            if target.scheme == "https" and ctx is None:
                ctx = default_ssl_context()
            _remaining(deadline)
            endpoints = netguard.resolve(
                target.host, target.port, allow_private=allow_private, deadline=deadline, resolver=resolver
            )
            response = _fetch(target, endpoints, deadline, ctx)
        except _Failure as exc:
            error = exc.error
        except netguard.RefusedAddress as exc:
            error = f"refused: {exc.reason}"
        except netguard.UnresolvableHost:
            error = "DNS: no such host"
        except netguard.LookupTimedOut:
            error = f"DNS lookup timed out after {timeout:.1f} s"
        except (OSError, http.client.HTTPException) as exc:
            error = _describe(exc, timeout)
        else:
            status = response.status
            if response.location is None:
                return CheckResult(
                    url=display,
                    ok=status < 400,
                    status=status,
                    latency_ms=(response.headers_at - start) * 1000.0,
                    cert_days_left=response.cert_days_left,
                    final_url=final_display,
                    error=None,
                    redirects=redirects,
                )
            if redirects < max_redirects:
                redirects += 1
                current = urljoin(current, response.location)
                continue
            error = f"too many redirects (more than {max_redirects})"
            return _failed(display, final_display, status, error, redirects)
        if redirects:  # name the hop that failed
            error = f"{error} (redirect {redirects} to {final_display})"
        return _failed(display, final_display, status, error, redirects)


def _failed(url: str, final_url: str, status: int | None, error: str, redirects: int) -> CheckResult:
    return CheckResult(
        url=url,
        ok=False,
        status=status,
        latency_ms=None,
        cert_days_left=None,
        final_url=final_url,
        error=error,
        redirects=redirects,
    )


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """The system trust store with host name checking, built once per process.

    Building a context loads the whole CA bundle (tens of milliseconds of CPU each time); one context
    is safe to share between threads.
    """
    return ssl.create_default_context()


def check_url(
    url: str,
    *,
    timeout: float = 5.0,
    allow_private: bool = False,
    max_redirects: int = MAX_REDIRECTS,
    ssl_context: ssl.SSLContext | None = None,
    resolver: netguard.Resolver | None = None,
) -> CheckResult:
    """Check one http(s) URL, following up to `max_redirects` redirects, all within `timeout` seconds.

    Never raises: every failure is a `CheckResult` with `ok=False` and a short `error`.
    `ssl_context` defaults to `ssl.create_default_context()` (system trust store, host name checking).
    `resolver` defaults to `socket.getaddrinfo` (see `netguard.resolve`).
    """
    try:
        return _check(
            url,
            timeout=timeout,
            allow_private=allow_private,
            max_redirects=max_redirects,
            ssl_context=ssl_context,
            resolver=resolver,
        )
    except Exception as exc:  # a bug in here must not fail the whole skill
        display = _redact(url)
        return _failed(display, display, None, f"internal error ({type(exc).__name__})", 0)


def check_all(
    urls: Sequence[str],
    *,
    timeout: float = 5.0,
    allow_private: bool = False,
    max_workers: int = 8,
    deadline: float | None = None,
    ssl_context: ssl.SSLContext | None = None,
    resolver: netguard.Resolver | None = None,
) -> list[CheckResult]:
    """Check every URL concurrently; results in input order.

    Every worker thread has finished when this returns. `deadline` (a `time.monotonic()` value, e.g. the
    Lambda's remaining time less a margin) caps each URL's timeout at the time left when its check starts.
    """
    if not urls:
        return []
    ctx = ssl_context

    def one(url: str) -> CheckResult:
        budget = timeout if deadline is None else min(timeout, deadline - time.monotonic())
        return check_url(
            url, timeout=max(budget, 0.0), allow_private=allow_private, ssl_context=ctx, resolver=resolver
        )

    workers = max(1, min(max_workers, len(urls)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="urlcheck") as pool:
        return list(pool.map(one, urls))


_SLACK_TOKEN = re.compile(r"<([^<>]*)>|(\S+)")
_SCHEME_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_BARE_HOST = re.compile(
    r"(?:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}|\d{1,3}(?:\.\d{1,3}){3})"
    r"(?::\d{1,5})?(?:[/?#]\S*)?",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}>\"'"
_LEADING = "([{<\"'"


def _unescape(text: str) -> str:
    """Undo Slack's escaping of `&`, `<` and `>` in message text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def is_checkable_url(word: str) -> bool:
    """`word` is one whole http(s) URL, as `extract_urls` returns them (no Slack markup, no spaces)."""
    return _SCHEME_URL.fullmatch(word) is not None


def extract_urls(text: str) -> list[str]:
    """Every http(s) URL in a Slack message text, deduplicated, in order (the caller caps how many it checks).

    Understands Slack's `<https://x.y/path>` and `<https://x.y|label>`, bare `http(s)://…` words and bare
    host names (`example.org` → `https://example.org`). When Slack itself turned a bare host name the user
    typed into `<http://example.org|example.org>`, the user's bare name wins (→ `https://example.org`).
    Other Slack markup (`<@U123>`, `<#C123|general>`, `<!here>`, `<mailto:…>`) is ignored.

    The URLs come back un-escaped (`&lt;` → `<`): they are what gets requested, not text to post. Whoever
    shows one in a reply escapes it again (`worker.mrkdwn.escape`).
    """
    found: dict[str, None] = {}  # ordered, with set-speed membership
    for match in _SLACK_TOKEN.finditer(text):
        url: str | None = None
        if match.group(1) is not None:
            link, _, label = match.group(1).partition("|")
            link = _unescape(link.strip())
            label = _unescape(label.strip())
            if _SCHEME_URL.fullmatch(link):
                url = link
                if label and link.lower().startswith("http://") and link[len("http://") :] == label:
                    url = f"https://{label}"
        else:
            word = _unescape(match.group(2)).rstrip(_TRAILING).lstrip(_LEADING)
            if _SCHEME_URL.fullmatch(word):
                url = word
            elif _BARE_HOST.fullmatch(word):
                url = f"https://{word}"
        if url is not None:
            found[url] = None
    return list(found)
