"""The ingest's HTTP/1.1 reader (``ingest/aws/http1.py``) against raw answers from a loopback socket."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from ingest.aws.client import SQS, JsonApi
from ingest.aws.http1 import BadAnswer, ClosedBeforeAnswer, Connection
from ingest.aws.sigv4 import Credentials

REQUEST = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n"


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(
            line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        )
    )
    while len(body) < length:
        body += conn.recv(4096)
    return data


@contextmanager
def raw_server(*answers: bytes) -> Iterator[tuple[int, list[bytes]]]:
    """One connection: reads a request, writes the next raw answer, for each answer; then closes."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            for answer in answers:
                seen.append(_read_request(conn))
                conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], seen
    finally:
        thread.join(timeout=5)
        listener.close()


def connect(port: int) -> Connection:
    return Connection("127.0.0.1", port, None, 1.0, 2.0)


def test_a_sized_answer_then_another_on_the_same_connection() -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Amzn-RequestId: r\r\n\r\n{}"
    with raw_server(ok, ok.replace(b"{}", b"[]")) as (port, seen):
        connection = connect(port)
        first = connection.exchange(REQUEST, b"{}")
        assert (first.status, first.body, first.headers["x-amzn-requestid"]) == (200, b"{}", "r")
        assert connection.reusable and connection.used_before
        assert connection.exchange(REQUEST, b"{}").body == b"[]"
        connection.close()
    assert len(seen) == 2 and seen[0].endswith(b"\r\n\r\n{}")


def test_a_chunked_answer_with_an_extension_and_a_trailer_is_read_whole() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'3;name=value\r\n{"a\r\n5\r\n": 1}\r\n0\r\nX-Trailer: t\r\n\r\n'
    )
    with raw_server(chunked, chunked) as (port, _):
        connection = connect(port)
        assert connection.exchange(REQUEST, b"{}").body == b'{"a": 1}'
        assert connection.exchange(REQUEST, b"{}").body == b'{"a": 1}'  # nothing left over in between
        connection.close()


def test_an_informational_answer_is_skipped() -> None:
    with raw_server(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n") as (
        port,
        _,
    ):
        assert connect(port).exchange(REQUEST, b"{}").status == 400


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\n\r\n{}",  # no length: the body ends with the connection
    ],
    ids=["connection_close", "http_1_0", "read_to_close"],
)
def test_answers_that_end_the_connection_are_read_and_the_connection_is_not_kept(answer: bytes) -> None:
    with raw_server(answer) as (port, _):
        connection = connect(port)
        assert connection.exchange(REQUEST, b"{}").body == b"{}"
        assert not connection.reusable
        connection.close()


@pytest.mark.parametrize(
    "answer",
    [
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",  # cut short in the headers
    ],
    ids=[
        "not_http",
        "cut_short",
        "negative_length",
        "bad_header",
        "bad_chunk",
        "chunk_without_crlf",
        "no_blank_line",
    ],
)
def test_a_garbled_answer_is_a_bad_answer(answer: bytes) -> None:
    with raw_server(answer) as (port, _):
        connection = connect(port)
        with pytest.raises(BadAnswer):
            connection.exchange(REQUEST, b"{}")
        connection.close()


def test_a_connection_closed_before_the_answer_says_so() -> None:
    with raw_server(b"") as (port, _):
        connection = connect(port)
        with pytest.raises(ClosedBeforeAnswer):
            connection.exchange(REQUEST, b"{}")
        connection.close()


def test_a_header_value_with_a_line_break_is_never_sent() -> None:
    # A session token read from the environment ends up in a header: no request smuggling through it.
    api = JsonApi(SQS, "http://127.0.0.1:9", "us-east-1", Credentials("a", "b", "t\r\nX-Evil: 1"), 0.3, 0.8)
    with pytest.raises(ValueError, match="line break"):
        api.call("SendMessage", {})
