"""The URL checker against loopback servers started here (there is no internet in tests)."""

from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support import hostile_http
from worker.skills.check.urlcheck import (
    MAX_HEADER_BYTES,
    MAX_REDIRECTS,
    USER_AGENT,
    CheckResult,
    check_all,
    check_url,
    extract_urls,
    is_checkable_url,
)

# --- a loopback HTTP server with a few routes ------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.requests: list[tuple[str, dict[str, str]]] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def paths(self) -> list[str]:
        with self.lock:
            return [path for path, _ in self.requests]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", location: str | None = None) -> None:
        self.send_response(status)
        if location is not None:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the checker stops reading after 64 KiB
            self.wfile.write(body)

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.requests.append((self.path, dict(self.headers.items())))
        route = self.path.split("?", 1)[0]
        port = self.server.port
        if route == "/ok":
            self._send(200, b"hello")
        elif route == "/fail":
            self._send(500, b"oops")
        elif route == "/chain":
            self._send(302, location="/chain2")
        elif route == "/chain2":
            self._send(301, location=f"http://127.0.0.1:{port}/ok")
        elif route == "/to-metadata":
            self._send(302, location="http://169.254.169.254/latest/meta-data/")
        elif route == "/to-metadata-hex":
            self._send(307, location="http://0xa9fea9fe/latest/meta-data/")
        elif route == "/loop":
            self._send(302, location="/loop")
        elif route == "/slow":
            time.sleep(0.3)  # the behaviour under test (a slow endpoint), not synchronisation
            self._send(200, b"slow")
        elif route == "/big":
            self._send(200, b"x" * (1024 * 1024))
        else:
            self._send(404)


@contextlib.contextmanager
def _running(server: _Server) -> Iterator[_Server]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[_Server]:
    with _running(_Server()) as srv:
        yield srv


def _url(srv: _Server, path: str, scheme: str = "http", host: str = "127.0.0.1") -> str:
    return f"{scheme}://{host}:{srv.port}{path}"


# --- plain HTTP -----------------------------------------------------------------------------------


def test_ok(server: _Server) -> None:
    result = check_url(_url(server, "/ok"), allow_private=True)
    assert result.ok and result.status == 200 and result.error is None
    assert result.latency_ms is not None and 0 < result.latency_ms < 5000
    assert result.cert_days_left is None
    assert result.redirects == 0
    assert result.final_url == result.url == _url(server, "/ok")
    ((path, headers),) = server.requests
    assert path == "/ok"
    assert headers["User-Agent"] == USER_AGENT
    assert headers["Host"] == f"127.0.0.1:{server.port}"


def test_server_error_is_not_ok(server: _Server) -> None:
    result = check_url(_url(server, "/fail"), allow_private=True)
    assert not result.ok
    assert result.status == 500
    assert result.error is None
    assert result.latency_ms is not None


def test_redirect_chain_ends_at_200(server: _Server) -> None:
    result = check_url(_url(server, "/chain"), allow_private=True)
    assert result.ok and result.status == 200
    assert result.redirects == 2
    assert result.final_url == _url(server, "/ok")
    assert server.paths == ["/chain", "/chain2", "/ok"]


@pytest.mark.parametrize("path", ["/to-metadata", "/to-metadata-hex"])
def test_redirect_to_metadata_is_refused_before_connecting(
    server: _Server, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    connected: list[Any] = []
    real_connect = socket.socket.connect

    def recording_connect(self: socket.socket, address: Any) -> None:
        connected.append(address)
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    result = check_url(_url(server, path), allow_private=True)
    assert not result.ok
    assert result.error is not None
    assert result.error.startswith("refused: 169.254.169.254 is link-local (cloud metadata)")
    assert "redirect 1" in result.error
    assert result.redirects == 1
    assert result.final_url.endswith("/latest/meta-data/")
    assert server.paths == [path]  # the server never got a second request
    assert connected == [("127.0.0.1", server.port)]  # and nothing else was connected to


def test_redirect_loop(server: _Server) -> None:
    result = check_url(_url(server, "/loop"), allow_private=True, max_redirects=2)
    assert not result.ok
    assert result.error is not None and result.error.startswith("too many redirects")
    assert result.redirects == 2
    assert server.paths == ["/loop"] * 3


def test_at_most_three_redirects_are_followed_by_default(server: _Server) -> None:
    """Fan-out: each URL costs at most four requests, however long the server's redirect chain."""
    result = check_url(_url(server, "/loop"), allow_private=True)
    assert MAX_REDIRECTS == 3
    assert result.error == "too many redirects (more than 3)"
    assert server.paths == ["/loop"] * 4


def test_large_body_is_not_read_in_full(server: _Server) -> None:
    result = check_url(_url(server, "/big"), allow_private=True)
    assert result.ok and result.status == 200


def test_loopback_refused_unless_private_allowed(server: _Server) -> None:
    for url in (
        _url(server, "/ok"),
        _url(server, "/ok", host="localhost"),
        _url(server, "/ok", host="127.1"),
    ):
        result = check_url(url)
        assert not result.ok
        assert result.status is None
        assert result.error is not None and result.error.startswith("refused: ")
        assert "loopback" in result.error and "CHECK_ALLOW_PRIVATE_NETWORKS" in result.error
    assert server.paths == []


def test_credentials_are_never_echoed_nor_sent(server: _Server) -> None:
    url = f"http://alice:s3cret@127.0.0.1:{server.port}/chain"
    result = check_url(url, allow_private=True)
    assert result.ok
    assert "s3cret" not in repr(result) and "alice" not in repr(result)
    assert result.url == _url(server, "/chain")
    assert all("Authorization" not in headers for _, headers in server.requests)

    refused = check_url("http://bob:hunter2@169.254.169.254/")
    assert refused.error is not None and refused.error.startswith("refused:")
    assert "hunter2" not in repr(refused)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://example.org/file", "unsupported scheme"),
        ("file:///etc/passwd", "unsupported scheme"),
        ("gopher://127.0.0.1:70/", "unsupported scheme"),
        ("example.org", "unsupported scheme"),
        ("http://", "invalid URL"),
        ("http://example.org:99999/", "invalid URL"),
        ("http://example.org:0/", "invalid URL"),
        ("http://metadata.google.internal/computeMetadata/v1/", "refused: "),
        ("http://[fd00:ec2::254]/latest/meta-data/", "refused: "),
        ("http://[::ffff:169.254.169.254]/", "refused: "),
        ("http://2852039166/", "refused: "),
    ],
)
def test_rejected_before_any_connection(url: str, error: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_connect(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"connected to {address}")

    monkeypatch.setattr(socket.socket, "connect", no_connect)
    result = check_url(url, allow_private=True)
    assert not result.ok
    assert result.error is not None and result.error.startswith(error), result.error


def test_dns_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def gai(*args: object, **kwargs: object) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", gai)
    result = check_url("https://nosuch.example/")
    assert not result.ok and result.error == "DNS: no such host"


def test_connects_to_the_vetted_address_not_a_second_lookup(
    server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the first answer is vetted and pinned; a later answer is never used."""
    answers = iter(["127.0.0.1", "169.254.169.254", "169.254.169.254"])
    lookups: list[str] = []

    def gai(host: str, port: int, *args: object, **kwargs: object) -> Any:
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", gai)
    result = check_url(f"http://rebind.example:{server.port}/ok", allow_private=True)
    assert result.ok, result.error
    assert lookups == ["rebind.example"]
    ((_, headers),) = server.requests
    assert headers["Host"] == f"rebind.example:{server.port}"


def test_connection_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    result = check_url(f"http://127.0.0.1:{port}/", allow_private=True)
    assert not result.ok and result.error == "connection refused"


# --- hostile servers --------------------------------------------------------------------------------


def test_a_header_bomb_fails_fast_in_little_memory() -> None:
    """90 header lines of 64 KiB each (5.6 MiB of head): before the cap one such check peaked at 47 MB."""
    routes = {"/bomb": hostile_http.header_bomb(lines=90)}
    with hostile_http.hostile_server(routes) as hostile:
        tracemalloc.start()
        try:
            started = time.monotonic()
            results = check_all([hostile.url(f"/bomb?{n}") for n in range(5)], allow_private=True, timeout=5)
            elapsed = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert [r.error for r in results] == ["response headers larger than 64 KiB"] * 5
    assert not any(r.ok for r in results)
    assert elapsed < 2.0
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_a_large_but_honest_head_under_the_cap_is_read() -> None:
    with hostile_http.hostile_server(
        {"/big-head": hostile_http.headers_of(MAX_HEADER_BYTES - 2048)}
    ) as hostile:
        result = check_url(hostile.url("/big-head"), allow_private=True)
    assert result.ok and result.status == 200, result.error


def test_a_head_just_over_the_cap_is_refused() -> None:
    with hostile_http.hostile_server(
        {"/big-head": hostile_http.headers_of(MAX_HEADER_BYTES + 2048)}
    ) as hostile:
        result = check_url(hostile.url("/big-head"), allow_private=True)
    assert result.error == "response headers larger than 64 KiB"


def test_headers_dribbled_a_byte_at_a_time_end_at_the_deadline() -> None:
    with hostile_http.hostile_server({"/drip": hostile_http.dribble(0.02)}) as hostile:
        started = time.monotonic()
        result = check_url(hostile.url("/drip"), allow_private=True, timeout=0.5)
        elapsed = time.monotonic() - started
    assert result.error == "timed out after 0.5 s"
    assert elapsed < 1.0


def _hanging_resolver(release: threading.Event, calls: list[str]) -> Any:
    """A resolver that hangs (as getaddrinfo does with a broken resolver) until `release` is set."""

    def resolver(host: str, port: int, *args: Any) -> Any:
        calls.append(host)
        release.wait(timeout=30)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    return resolver


def _join_dns_threads() -> None:
    for thread in threading.enumerate():
        if thread.name.startswith("dns-"):
            thread.join(timeout=5)


def test_a_hanging_resolver_ends_at_the_checks_deadline() -> None:
    release = threading.Event()
    calls: list[str] = []
    try:
        started = time.monotonic()
        result = check_url("https://hangs.example/", timeout=0.5, resolver=_hanging_resolver(release, calls))
        elapsed = time.monotonic() - started
    finally:
        release.set()
        _join_dns_threads()
    assert calls == ["hangs.example"]
    assert result.error == "DNS lookup timed out after 0.5 s"
    assert 0.4 < elapsed < 1.0


def test_a_hanging_system_resolver_ends_at_check_alls_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default resolver is socket.getaddrinfo, bounded the same way: the worker's deadline holds."""
    release = threading.Event()
    calls: list[str] = []
    monkeypatch.setattr(socket, "getaddrinfo", _hanging_resolver(release, calls))
    try:
        started = time.monotonic()
        results = check_all(
            ["https://a.hangs.example/", "https://b.hangs.example/"],
            timeout=5.0,
            deadline=time.monotonic() + 0.5,
        )
        elapsed = time.monotonic() - started
    finally:
        release.set()
        _join_dns_threads()
    assert sorted(calls) == ["a.hangs.example", "b.hangs.example"]
    assert all(r.error is not None and r.error.startswith("DNS lookup timed out") for r in results)
    assert elapsed < 1.0


# --- deadlines --------------------------------------------------------------------------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as listener:
        yield listener.getsockname()[1]


def test_server_that_never_answers_times_out(silent_port: int) -> None:
    started = time.monotonic()
    result = check_url(f"http://127.0.0.1:{silent_port}/", timeout=0.5, allow_private=True)
    elapsed = time.monotonic() - started
    assert not result.ok
    assert result.error == "timed out after 0.5 s"
    assert 0.4 < elapsed < 1.0


@pytest.fixture
def dripping_port() -> Iterator[int]:
    """A server that sends a status line, then one header line every 0.05 s, forever."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))

    def drip() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.wait(0.05):
                try:
                    conn.sendall(b"X-Drip: 1\r\n")
                except OSError:
                    return

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=5)


def test_timeout_is_one_deadline_not_per_read(dripping_port: int) -> None:
    """Each read gets data within 0.05 s, so only an overall deadline can end this check in time."""
    started = time.monotonic()
    result = check_url(f"http://127.0.0.1:{dripping_port}/", timeout=0.4, allow_private=True)
    elapsed = time.monotonic() - started
    assert result.error == "timed out after 0.4 s"
    assert elapsed < 0.9


def test_check_all_is_concurrent_and_ordered(server: _Server) -> None:
    urls = [_url(server, f"/slow?n={n}") for n in range(8)]
    started = time.monotonic()
    results = check_all(urls, allow_private=True)
    elapsed = time.monotonic() - started
    assert [r.url for r in results] == urls
    assert all(r.ok and r.status == 200 for r in results)
    assert elapsed < 1.2  # sequential would take at least 8 × 0.3 s = 2.4 s
    assert sorted(server.paths) == sorted(u.split(str(server.port), 1)[1] for u in urls)
    assert not [t for t in threading.enumerate() if t.name.startswith("urlcheck")]


def test_check_all_deadline_caps_the_timeout(silent_port: int, server: _Server) -> None:
    urls = [f"http://127.0.0.1:{silent_port}/{n}" for n in range(3)] + [_url(server, "/ok")]
    started = time.monotonic()
    results = check_all(urls, timeout=5.0, allow_private=True, deadline=time.monotonic() + 0.3)
    elapsed = time.monotonic() - started
    assert elapsed < 0.8
    assert [r.error is not None and r.error.startswith("timed out") for r in results] == [True] * 3 + [False]
    assert results[3].ok


def test_check_all_of_nothing() -> None:
    assert check_all([]) == []


def test_check_all_mixes_outcomes(server: _Server) -> None:
    results = check_all([_url(server, "/ok"), "ftp://x.example/", _url(server, "/fail")], allow_private=True)
    assert [(r.ok, r.status) for r in results] == [(True, 200), (False, None), (False, 500)]


# --- HTTPS --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cert:
    cert: Path
    key: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def _make_cert(directory: Path, host: str, days: int, label: str) -> _Cert:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    not_after = now + datetime.timedelta(days=days)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now, not_after) - datetime.timedelta(days=1))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    paths = _Cert(directory / f"{label}.crt", directory / f"{label}.key")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, _Cert]:
    directory = tmp_path_factory.mktemp("certs")
    return {
        "localhost": _make_cert(directory, "localhost", 30, "localhost"),
        "wrong": _make_cert(directory, "wrong.example", 30, "wrong"),
        "expired": _make_cert(directory, "localhost", -2, "expired"),
    }


@pytest.fixture
def tls_server(certs: dict[str, _Cert]) -> Iterator[Callable[[str], _Server]]:
    """Starts loopback HTTPS servers presenting one of the `certs`; all stopped after the test."""
    with contextlib.ExitStack() as stack:

        def start(which: str) -> _Server:
            srv = _Server()
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certs[which].cert, certs[which].key)
            srv.socket = context.wrap_socket(srv.socket, server_side=True)
            return stack.enter_context(_running(srv))

        yield start


def test_https_ok_with_certificate_days(
    tls_server: Callable[[str], _Server], certs: dict[str, _Cert]
) -> None:
    srv = tls_server("localhost")
    result = check_url(
        _url(srv, "/ok", scheme="https", host="localhost"),
        allow_private=True,
        ssl_context=certs["localhost"].client_context(),
    )
    assert result.ok, result.error
    assert result.status == 200
    assert result.cert_days_left in (29, 30)
    assert srv.requests[0][1]["Host"] == f"localhost:{srv.port}"


def test_https_redirect_chain_names_the_failing_hop(
    tls_server: Callable[[str], _Server], certs: dict[str, _Cert]
) -> None:
    srv = tls_server("localhost")
    result = check_url(
        _url(srv, "/chain", scheme="https", host="localhost"),
        allow_private=True,
        ssl_context=certs["localhost"].client_context(),
    )
    # /chain2 redirects to plain http://127.0.0.1:<port>/ok, which this TLS server cannot answer.
    assert not result.ok
    assert result.redirects == 2
    assert result.error is not None and "redirect 2" in result.error


def test_https_wrong_host_name(tls_server: Callable[[str], _Server], certs: dict[str, _Cert]) -> None:
    srv = tls_server("wrong")
    result = check_url(
        _url(srv, "/ok", scheme="https", host="localhost"),
        allow_private=True,
        ssl_context=certs["wrong"].client_context(),
    )
    assert not result.ok
    assert result.error is not None and result.error.startswith("TLS: ")
    assert "hostname" in result.error.lower()
    assert srv.requests == []


def test_https_expired_certificate(tls_server: Callable[[str], _Server], certs: dict[str, _Cert]) -> None:
    srv = tls_server("expired")
    result = check_url(
        _url(srv, "/ok", scheme="https", host="localhost"),
        allow_private=True,
        ssl_context=certs["expired"].client_context(),
    )
    assert not result.ok
    assert result.error == "TLS: certificate has expired"


def test_https_untrusted_by_default(tls_server: Callable[[str], _Server]) -> None:
    srv = tls_server("localhost")
    result = check_url(_url(srv, "/ok", scheme="https", host="localhost"), allow_private=True)
    assert not result.ok
    assert result.error is not None and result.error.startswith("TLS: ")


def test_https_to_a_plain_http_server(server: _Server, certs: dict[str, _Cert]) -> None:
    result = check_url(
        _url(server, "/ok", scheme="https", host="localhost"),
        allow_private=True,
        ssl_context=certs["localhost"].client_context(),
    )
    assert not result.ok
    assert result.error is not None and result.error.startswith("TLS: ")


# --- extract_urls ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("check <https://x.y/path>", ["https://x.y/path"]),
        ("check <https://x.y|label> <http://a.b/c?d=1&amp;e=2>", ["https://x.y", "http://a.b/c?d=1&e=2"]),
        (
            "check https://example.com/health, and http://example.net.",
            [
                "https://example.com/health",
                "http://example.net",
            ],
        ),
        ("check example.org", ["https://example.org"]),
        ("check <http://example.org|example.org>", ["https://example.org"]),
        ("check <http://example.org|my site>", ["http://example.org"]),
        (
            "check example.org:8443/status api.example.com",
            [
                "https://example.org:8443/status",
                "https://api.example.com",
            ],
        ),
        ("check (https://example.com/a)", ["https://example.com/a"]),
        ("check <@U123> <#C123|general> <!here> <mailto:a@b.c|a@b.c>", []),
        ("check ftp://example.org and words without dots", []),
        (
            "check a.example <https://a.example> https://a.example a.example",
            [
                "https://a.example",
            ],
        ),
        ("", []),
    ],
)
def test_extract_urls(text: str, urls: list[str]) -> None:
    assert extract_urls(text) == urls


def test_extract_urls_returns_every_url_so_the_skill_can_say_how_many_it_left_out() -> None:
    text = " ".join(f"host{n}.example" for n in range(15)) + " host3.example"
    assert extract_urls(text) == [f"https://host{n}.example" for n in range(15)]


def test_extract_urls_gives_urls_unescaped_as_they_are_requested() -> None:
    """Slack escapes what the user typed; the URL requested is the user's (the reply escapes it again)."""
    assert extract_urls("check http://x.example/&lt;!channel&gt;?a=1&amp;b=2") == [
        "http://x.example/<!channel>?a=1&b=2"
    ]


@pytest.mark.parametrize(
    ("word", "checkable"),
    [
        ("https://example.org/a?b=1&c=<d>", True),
        ("http://127.0.0.1:8080/", True),
        ("example.org", False),
        ("<https://example.org>", False),
        ("ftp://example.org", False),
        ("https://a.example https://b.example", False),
    ],
)
def test_is_checkable_url(word: str, checkable: bool) -> None:
    assert is_checkable_url(word) is checkable


def test_check_result_is_frozen() -> None:
    result = CheckResult("u", True, 200, 1.0, None, "u", None, 0)
    with pytest.raises(AttributeError):
        result.ok = False  # type: ignore[misc]
