"""A hostile HTTP server on loopback: raw sockets, so it can answer what no well-behaved server would.

Each route is a function that gets the connected socket after the request head was read and writes
whatever bytes it likes: a header bomb, headers dribbled a byte at a time, a redirect whose `Location`
carries Slack markup. The server records every request target it saw.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from types import TracebackType

Route = Callable[[socket.socket, "HostileServer"], None]


class HostileServer:
    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._targets: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="hostile-accept", daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def targets(self) -> list[str]:
        """Every request target received, in order."""
        with self._lock:
            return list(self._targets)

    def __enter__(self) -> HostileServer:
        self._acceptor.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stopping.set()
        with contextlib.suppress(OSError):  # wakes the thread blocked in accept(); close() alone does not
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._acceptor.join(timeout=5)
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:  # the listener was closed: stopping
                return
            thread = threading.Thread(target=self._serve, args=(conn,), name="hostile-conn", daemon=True)
            with self._lock:
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(10)
            target = _read_request_target(conn)
            with self._lock:
                self._targets.append(target)
            route = self.routes.get(target.split("?", 1)[0], not_found)
            route(conn, self)


def _read_request_target(conn: socket.socket) -> str:
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        head += chunk
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = request_line.split(" ")
    return parts[1] if len(parts) >= 2 else ""


# --- routes ----------------------------------------------------------------------------------------


def ok(conn: socket.socket, server: HostileServer) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


def not_found(conn: socket.socket, server: HostileServer) -> None:
    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def redirect_to(location: bytes) -> Route:
    def route(conn: socket.socket, server: HostileServer) -> None:
        conn.sendall(
            b"HTTP/1.1 302 Found\r\nLocation: "
            + location
            + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )

    return route


def header_bomb(lines: int = 90, line_bytes: int = 64 * 1024) -> Route:
    """`lines` header lines of `line_bytes` each (each just inside http.client's 64 KiB line limit)."""
    line = b"X-Bomb: " + b"a" * (line_bytes - len(b"X-Bomb: \r\n") - 1) + b"\r\n"

    def route(conn: socket.socket, server: HostileServer) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(lines):
            conn.sendall(line)
        conn.sendall(b"Content-Length: 0\r\nConnection: close\r\n\r\n")

    return route


def headers_of(total_bytes: int) -> Route:
    """A 200 whose status line and headers take about `total_bytes` (a large but honest head)."""

    def route(conn: socket.socket, server: HostileServer) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n"
        filler = b"X-Filler: " + b"f" * 990 + b"\r\n"
        while len(head) + len(filler) + 2 <= total_bytes:
            head += filler
        conn.sendall(head + b"\r\nok")

    return route


def dribble(every_seconds: float) -> Route:
    """A status line, then one header byte every `every_seconds`, never finishing the head."""

    def route(conn: socket.socket, server: HostileServer) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        # The hostile behaviour under test (a slow sender), not a synchronisation: it paces the bytes.
        while not server.stopping.wait(every_seconds):
            conn.sendall(b"a")

    return route


@contextlib.contextmanager
def hostile_server(routes: dict[str, Route]) -> Iterator[HostileServer]:
    with HostileServer(routes) as server:
        yield server
