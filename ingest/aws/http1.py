"""Just enough HTTP/1.1 for AWS's JSON APIs: one request at a time on a socket kept open between them.

Why not ``http.client``: it reads headers with the ``email`` package, whose import costs a cold start
about 14 ms, a sixth of the ingest's whole. An AWS answer is a status line, a few headers and a body
sized by ``Content-Length`` (chunked or read-to-close bodies are handled too, for proxies and moto).
The request goes out in one ``sendall``, so Nagle's algorithm never holds half of it back.
"""

from __future__ import annotations

import select
import socket
import ssl
from typing import NamedTuple

MAX_LINE = 64 * 1024
MAX_HEADERS = 100
MAX_BODY = 16 * 1024 * 1024  # a Secrets Manager secret is at most 64 KiB; SQS answers are tiny


class BadAnswer(Exception):
    """The server's bytes are not an HTTP/1.x answer we can read."""


class ClosedBeforeAnswer(ConnectionError):
    """The connection ended before a status line: on a kept-alive connection, the server's idle close."""


class Answer(NamedTuple):
    status: int
    headers: dict[str, str]  # names lower-cased; a repeated header keeps its last value
    body: bytes


class Connection:
    """One TCP (or TLS) connection. ``reusable`` turns false once the server says it will close it."""

    def __init__(
        self,
        host: str,
        port: int,
        tls: ssl.SSLContext | None,
        connect_timeout: float,
        read_timeout: float,
    ) -> None:
        sock = socket.create_connection((host, port), timeout=connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:  # the handshake still runs under the connect timeout
                sock = tls.wrap_socket(sock, server_hostname=host)
            sock.settimeout(read_timeout)  # from now on, each read and write
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self._reader = sock.makefile("rb")
        self.reusable = True
        self.used_before = False  # an exchange completed on it: it is a kept-alive connection now

    def exchange(self, head: bytes, body: bytes) -> Answer:
        self._sock.sendall(head + body)
        status, headers = self._read_head()
        data = self._read_body(headers)
        if headers.get("connection", "").lower() == "close":
            self.reusable = False
        self.used_before = True
        return Answer(status, headers, data)

    def closed_by_peer(self) -> bool:
        """Readable before we asked anything: the server closed it (or it is out of step)."""
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        self.reusable = False
        self._reader.close()
        self._sock.close()

    def _read_head(self) -> tuple[int, dict[str, str]]:
        while True:
            line = self._line()
            if not line:
                raise ClosedBeforeAnswer("the connection closed before an answer")
            version, _, rest = line.decode("latin-1").partition(" ")
            code = rest[:3]
            if not (version.startswith("HTTP/1.") and code.isdigit()):
                raise BadAnswer(f"not an HTTP status line: {line[:80]!r}")
            headers = self._read_headers()
            if int(code) >= 200:  # a 1xx is informational: the answer follows it
                if version == "HTTP/1.0" and headers.get("connection", "").lower() != "keep-alive":
                    self.reusable = False
                return int(code), headers

    def _read_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS):
            line = self._line()
            if line in (b"\r\n", b"\n"):
                return headers
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                raise BadAnswer(f"not a header: {line[:80]!r}")
            headers[name.strip().lower()] = value.strip()
        raise BadAnswer("too many headers")

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            while size := self._chunk_size():
                chunks.append(self._exactly(size))
                if self._line() not in (b"\r\n", b"\n"):
                    raise BadAnswer("a chunk not followed by its line end")
            self._read_headers()  # the trailers, up to the blank line that ends the answer
            return b"".join(chunks)
        if "content-length" in headers:
            length = headers["content-length"]
            if not length.isdigit() or int(length) > MAX_BODY:
                raise BadAnswer(f"bad Content-Length: {length[:20]!r}")
            return self._exactly(int(length))
        self.reusable = False  # no length: the body ends where the server closes the connection
        return self._reader.read(MAX_BODY)

    def _chunk_size(self) -> int:
        text = self._line().split(b";", 1)[0].strip()
        try:
            size = int(text, 16)
        except ValueError:
            raise BadAnswer(f"bad chunk size: {text[:20]!r}") from None
        if not 0 <= size <= MAX_BODY:
            raise BadAnswer("chunk too large")
        return size

    def _exactly(self, size: int) -> bytes:
        data = self._reader.read(size)
        if len(data) != size:
            raise BadAnswer("the answer was cut short")
        return data

    def _line(self) -> bytes:
        line = self._reader.readline(MAX_LINE)
        if line and not line.endswith(b"\n"):
            raise BadAnswer("a line too long, or cut short")
        return line
