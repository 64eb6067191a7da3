"""A loopback proxy in front of moto that counts AWS requests by operation (``X-Amz-Target``).

Point one service at it (``AWS_ENDPOINT_URL_DYNAMODB``) and every request the code under test makes
to that service is counted on the wire, whatever client made it: what DynamoDB would bill. For
DynamoDB it also notes which item each request names (its partition key, ``id`` by default), so that
requests can be told apart by whose they are: the pipeline's claims (``message:…``, ``command:…``)
or a skill's own state (``ratelimit:…``).
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})


def item_id(body: bytes, key_attribute: str = "id") -> str:
    """The string partition key of the one item a DynamoDB request names (``Key`` or, for PutItem,
    ``Item``); "" when it names none or several (Scan, Query, batches) or the body is not JSON."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return ""
    if not isinstance(request, dict):
        return ""
    for field in ("Key", "Item"):
        item = request.get(field)
        attribute = item.get(key_attribute) if isinstance(item, dict) else None
        value = attribute.get("S") if isinstance(attribute, dict) else None
        if isinstance(value, str):
            return value
    return ""


def key_prefix(item: str) -> str:
    """What kind of item an id names: its text before the first ``:`` (``message:T1:C1:1.2`` → ``message``)."""
    return item.partition(":")[0]


class RequestCounter:
    def __init__(self, upstream: str, key_attribute: str = "id") -> None:
        self.upstream = urlsplit(upstream)
        self.key_attribute = key_attribute
        self.counts: Counter[str] = Counter()
        self.items: Counter[tuple[str, str]] = Counter()  # (operation, item id) → requests
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
            self.items.clear()

    def total(self, operations: frozenset[str], prefixes: frozenset[str] | None = None) -> int:
        """Requests of these operations; with ``prefixes``, only those naming an item of those kinds."""
        with self._lock:
            if prefixes is None:
                return sum(count for name, count in self.counts.items() if name in operations)
            return sum(
                count
                for (name, item), count in self.items.items()
                if name in operations and key_prefix(item) in prefixes
            )

    def per_item(self, operations: frozenset[str]) -> Counter[str]:
        """Item id → requests of these operations that named it."""
        with self._lock:
            out: Counter[str] = Counter()
            for (name, item), count in self.items.items():
                if name in operations:
                    out[item] += count
            return out

    def _count(self, operation: str, item: str) -> None:
        with self._lock:
            self.counts[operation] += 1
            self.items[(operation, item)] += 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        counter = self

        class Forward(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                counter._count(target.rpartition(".")[2] or "unknown", item_id(body, counter.key_attribute))
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
