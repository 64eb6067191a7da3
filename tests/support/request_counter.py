"""A loopback proxy in front of moto that counts AWS requests by operation (``X-Amz-Target``).

Point one service at it (``AWS_ENDPOINT_URL_DYNAMODB``) and every request the code under test makes
to that service is counted on the wire, whatever client made it: what DynamoDB would bill.
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})


class RequestCounter:
    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> RequestCounter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()

    def total(self, operations: frozenset[str]) -> int:
        with self._lock:
            return sum(count for name, count in self.counts.items() if name in operations)

    def _count(self, operation: str) -> None:
        with self._lock:
            self.counts[operation] += 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        counter = self

        class Forward(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                counter._count(target.rpartition(".")[2] or "unknown")
                upstream = http.client.HTTPConnection(
                    counter.upstream.hostname or "127.0.0.1", counter.upstream.port, timeout=30
                )
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                    upstream.request("POST", self.path, body, headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                    self.send_response(answer.status)
                    for name, value in answer.getheaders():
                        if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    upstream.close()

            def log_message(self, *args: Any) -> None:
                pass

        return Forward
