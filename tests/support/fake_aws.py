"""Loopback stand-ins for AWS where moto cannot play the part: throttling, 5xx, silence, dropped connections.

``FakeAws`` speaks the JSON protocol over keep-alive HTTP/1.1 and answers from a script (then a
default answer), recording each request with the client port it came from, so that a test can count
connections. ``silent_endpoint`` accepts TCP connections and never answers: the kernel completes the
handshake for the listening socket's backlog, nobody ever reads.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int = 200
    document: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False  # close the connection after answering, without telling the client
    raw: bytes | None = None  # a body that is not the JSON of ``document``


def error(status: int, type_: str, query_error: str = "") -> Answer:
    """An AWS JSON-protocol error, with the query-compatible code header SQS adds."""
    headers = {"x-amzn-query-error": query_error} if query_error else {}
    return Answer(status, {"__type": type_, "message": f"fake {type_}"}, headers)


@dataclass(frozen=True)
class Seen:
    target: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes
    client_port: int  # one value per TCP connection


class FakeAws:
    def __init__(self, default: Answer | None = None) -> None:
        self.default = default or Answer(200, {"MessageId": "fake-message-id"})
        self._script: list[Answer] = []
        self._seen: list[Seen] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive unless an answer drops the connection
            disable_nagle_algorithm = True  # the head and the body go out in two writes: no 40 ms wait

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                fake._record(
                    Seen(
                        self.headers.get("X-Amz-Target", ""),
                        {name.lower(): value for name, value in self.headers.items()},
                        json.loads(raw) if raw else {},
                        raw,
                        self.client_address[1],
                    )
                )
                answer = fake._next()
                data = answer.raw if answer.raw is not None else json.dumps(answer.document).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = answer.drop_connection

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def shutdown_request(self, request: Any) -> None:
                super().shutdown_request(request)
                with fake._closed:
                    fake.connections_closed += 1
                    fake._closed.notify_all()

        self.connections_closed = 0
        self._closed = threading.Condition()
        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-aws", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def wait_until_closed(self, connections: int, timeout: float = 5.0) -> None:
        """Until the server has closed ``connections`` connections (its side of them)."""
        with self._closed:
            if not self._closed.wait_for(lambda: self.connections_closed >= connections, timeout):
                raise TimeoutError(f"{self.connections_closed} connection(s) closed, not {connections}")

    def script(self, *answers: Answer) -> None:
        with self._lock:
            self._script.extend(answers)

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self._seen.append(seen)

    def _next(self) -> Answer:
        with self._lock:
            return self._script.pop(0) if self._script else self.default

    def __enter__(self) -> FakeAws:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextlib.contextmanager
def silent_endpoint() -> Iterator[str]:
    """An endpoint URL whose TCP connections succeed and whose answers never come."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as listener:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
