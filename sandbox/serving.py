"""What the sandbox's loopback HTTP servers share: a ``ThreadingHTTPServer`` served from a daemon thread.

A ``BackgroundServer`` binds its socket in the constructor (``port=0`` picks a free port), so ``port``
and ``url`` are known before ``start()``; ``stop()`` closes the socket and joins the serving
thread, is safe to call twice, and a stopped server cannot be started again. ``StartStop`` is the
``with`` statement alone, for anything with ``start()`` and ``stop()``. Stdlib only.
"""

from __future__ import annotations

import threading
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Generic, Self, TypeVar

__all__ = ["BackgroundServer", "BodyTooLarge", "LoopbackServer", "QuietHandler", "StartStop"]

Owner = TypeVar("Owner")


class StartStop:
    """``with x:`` means ``x.start()`` on entry (the ``as`` target is what it returns), ``x.stop()`` on exit."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> object:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.stop()


class LoopbackServer(ThreadingHTTPServer, Generic[Owner]):
    """A threading HTTP server whose handlers reach the object serving them as ``self.server.owner``."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 drops bursts of connections (a 1 s SYN retry each)

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], owner: Owner) -> None:
        self.owner = owner
        super().__init__(address, handler)


class BackgroundServer(StartStop):
    """A ``LoopbackServer`` served from a daemon thread; subclasses name the thread and the poll interval."""

    thread_name: ClassVar[str] = "http-server"
    poll_interval: ClassVar[float] = 0.05

    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = LoopbackServer((host, port), handler, self)
        self._host = "127.0.0.1" if host in ("", "0.0.0.0") else host
        self._thread: threading.Thread | None = None
        self._stopped = False

    def start(self) -> Self:
        """Serve in a daemon thread; returns ``self``."""
        if self._stopped:
            raise RuntimeError(f"a stopped {type(self).__name__} cannot be started again")
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": self.poll_interval},
                name=f"{self.thread_name}-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and join the serving thread. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread is not None:
            self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://HOST:PORT``, no trailing slash; a wildcard bind is reached on 127.0.0.1."""
        return f"http://{self._host}:{self.port}"


class BodyTooLarge(ValueError):
    """A request body over the server's limit."""

    def __init__(self, message: str = "body too large") -> None:
        super().__init__(message)


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 (keep-alive), no Python version in ``Server``, no line logged per request."""

    protocol_version = "HTTP/1.1"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the servers print their own lines, if any."""

    def read_chunked(self, limit: int) -> bytes:
        """A ``Transfer-Encoding: chunked`` body, trailers skipped.

        Over ``limit`` bytes it raises ``BodyTooLarge`` and closes the connection after the answer
        (the rest of the body is not read).
        """
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(1024)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > limit:
                self.close_connection = True
                raise BodyTooLarge
            chunks.append(self.rfile.read(size))
            self.rfile.readline(16)  # the CRLF after each chunk
