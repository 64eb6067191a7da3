"""A call that never reaches Slack says why (DNS, TLS, refused, timed out), not just ``URLError``.

Real slack_sdk clients over real sockets on loopback: a closed port, a TLS server whose certificate
nobody trusts, a name that cannot resolve (``.invalid`` is reserved for that).
"""

from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.error import HTTPError, URLError

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from worker import slack
from worker.errors import Transient


def reason_of_call(monkeypatch: pytest.MonkeyPatch, api_url: str) -> str:
    monkeypatch.setenv("SLACK_API_URL", api_url)
    client = slack.web_client("xoxb-test-token", time.monotonic() + 2.0)
    with pytest.raises(Transient) as failed:
        slack.call(client, "chat.postMessage", channel="C1", text="pong")
    return failed.value.reason


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again at once: nothing listens there


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def untrusted_tls(tmp_path: Path) -> Iterator[int]:
    """A TLS server on loopback with a self-signed certificate; it handshakes and closes."""
    cert_path, key_path = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(2)
                # The client refuses our certificate mid-handshake: what the test wants.
                with contextlib.suppress(OSError, ssl.SSLError):
                    context.wrap_socket(connection, server_side=True).close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        server.close()


def test_a_refused_connection_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    reason = reason_of_call(monkeypatch, f"http://127.0.0.1:{closed_port()}/api/")
    assert reason == "slack chat.postMessage: 127.0.0.1 refused the connection"


def test_a_certificate_nobody_trusts_says_tls(monkeypatch: pytest.MonkeyPatch, untrusted_tls: int) -> None:
    reason = reason_of_call(monkeypatch, f"https://127.0.0.1:{untrusted_tls}/api/")
    assert reason.startswith("slack chat.postMessage: TLS certificate of 127.0.0.1 not trusted ("), reason
    assert "URLError" not in reason


def test_a_name_that_does_not_resolve_says_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    reason = reason_of_call(monkeypatch, "https://slackbot-test.invalid/api/")
    assert reason.startswith("slack chat.postMessage: DNS lookup of slackbot-test.invalid failed ("), reason


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (URLError(TimeoutError("timed out")), "slack.com did not answer in time"),
        (TimeoutError("The read operation timed out"), "slack.com did not answer in time"),
        (HTTPError("https://slack.com/api/x", 502, "Bad Gateway", {}, None), "HTTP 502 from slack.com"),  # type: ignore[arg-type]
        (URLError(ConnectionResetError(104, "Connection reset by peer")), "slack.com closed the connection"),
        (URLError("unknown url type: ftp"), "cannot reach slack.com (URLError: <urlopen error unknown url"),
    ],
)
def test_every_way_of_not_getting_an_answer_has_words(error: BaseException, words: str) -> None:
    assert words in slack.unreachable(error, "https://slack.com/api/")


def test_a_response_urls_path_is_never_named() -> None:
    reason = slack.unreachable(
        URLError(ConnectionRefusedError(111, "refused")), "https://hooks.slack.com/commands/T1/2/SECRET"
    )
    assert "SECRET" not in reason and "hooks.slack.com" in reason
