"""Two AWS calls without the AWS SDK: SQS ``SendMessage`` and Secrets Manager ``GetSecretValue``.

Why: the ingest makes one SQS call per request, and importing boto3 and building a client costs about
250 ms of a cold start, most of what a cold ingest spends before its first ack (Lambda bills the init
phase, and Slack waits for it). Both services speak AWS's JSON protocol: a signed ``POST /`` whose
``X-Amz-Target`` names the operation, a JSON body in and out. That takes ``json``, the HTTP/1.1 and
SigV4 modules next to this one, and the standard library's sockets.

What it honours, as boto3 does where the ingest runs:
- credentials from ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN`` (Lambda sets
  them). Without them (a developer's profile, SSO, a container role), ``connect`` falls back to boto3,
  imported only then, which knows every other credential source;
- the region from ``AWS_REGION``, ``AWS_DEFAULT_REGION`` (else ``us-east-1``);
- the endpoint from ``AWS_ENDPOINT_URL_<SERVICE>``, ``AWS_ENDPOINT_URL``, else the regional endpoint.

Errors come out as two classes whatever the client: ``AwsError`` (AWS answered no) and
``TransportError`` (no answer: refused, reset, timed out). Retrying is the caller's decision.
"""

from __future__ import annotations

import json
import os
import ssl
import threading
import time
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlsplit

from ingest.aws.http1 import Answer, BadAnswer, ClosedBeforeAnswer, Connection
from ingest.aws.sigv4 import Credentials, sign
from shared.config import region


class Service(NamedTuple):
    signing_name: str  # the SigV4 scope's service, also the endpoint's first label
    endpoint_variable: str  # AWS_ENDPOINT_URL_<this>, as botocore names it
    target_prefix: str  # X-Amz-Target is "<prefix>.<Operation>"
    json_version: str  # Content-Type application/x-amz-json-<version>
    query_compatible: bool  # SQS moved from the query protocol: ask for its old error codes too


SQS = Service("sqs", "SQS", "AmazonSQS", "1.0", query_compatible=True)
SECRETS_MANAGER = Service(
    "secretsmanager", "SECRETS_MANAGER", "secretsmanager", "1.1", query_compatible=False
)


class AwsError(Exception):
    """AWS answered with an error: its HTTP status and error code (``QueueDoesNotExist``, …)."""

    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(f"{code} ({status}): {message}" if message else f"{code} ({status})")
        self.status = status
        self.code = code


class TransportError(Exception):
    """No answer from AWS: connection refused or reset, a timeout, a name that does not resolve."""


class Api(Protocol):
    def call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]: ...

    def close(self) -> None: ...


def env_credentials() -> Credentials | None:
    access_key = os.environ.get("AWS_ACCESS_KEY_ID", "")
    secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    if not (access_key and secret_key):
        return None
    return Credentials(access_key, secret_key, os.environ.get("AWS_SESSION_TOKEN", ""))


def endpoint_url(service: Service) -> str:
    configured = os.environ.get(f"AWS_ENDPOINT_URL_{service.endpoint_variable}") or os.environ.get(
        "AWS_ENDPOINT_URL"
    )
    if configured:
        return configured
    name = region()
    suffix = "amazonaws.com.cn" if name.startswith("cn-") else "amazonaws.com"
    return f"https://{service.signing_name}.{name}.{suffix}"


def connect(service: Service, connect_timeout: float, read_timeout: float) -> Api:
    """The client for ``service``: our own with credentials in the environment, else boto3's."""
    credentials = env_credentials()
    if credentials is None:
        return Boto3Api(service, connect_timeout, read_timeout)
    return JsonApi(service, endpoint_url(service), region(), credentials, connect_timeout, read_timeout)


class JsonApi:
    """AWS's JSON protocol over keep-alive connections, kept for the life of the container.

    A connection is reused across invocations (no TCP or TLS handshake after the first request). One
    is enough on Lambda, which runs one request at a time per container; the sandbox calls the handler
    from several threads, so idle connections wait in a list and each call takes one of its own.
    """

    def __init__(
        self,
        service: Service,
        url: str,
        region: str,
        credentials: Credentials,
        connect_timeout: float,
        read_timeout: float,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an endpoint URL: {url!r}")
        self.service = service
        self.region = region
        self.credentials = credentials
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._netloc = parts.netloc.rpartition("@")[2]  # the Host header, port included when given
        self._path = parts.path or "/"
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._tls = _tls_context() if parts.scheme == "https" else None
        self._idle: list[Connection] = []
        self._lock = threading.Lock()

    def call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload, separators=(",", ":")).encode()
        answer = self._send(operation, body)
        if answer.status == 403 and "ExpiredToken" in _error_code(answer):
            # Session tokens expire. Whoever renewed ours put the new one in the environment: read it
            # once more, and try again only if it changed.
            renewed = env_credentials()
            if renewed is not None and renewed != self.credentials:
                self.credentials = renewed
                answer = self._send(operation, body)
        if answer.status >= 300:
            raise AwsError(answer.status, _error_code(answer), _error_message(answer.body))
        try:
            return dict(json.loads(answer.body)) if answer.body.strip() else {}
        except (ValueError, TypeError) as error:  # a 2xx that is not AWS's JSON object: a proxy?
            raise TransportError(f"unreadable answer: {answer.body[:100]!r}") from error

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _send(self, operation: str, body: bytes) -> Answer:
        headers = [
            ("Host", self._netloc),
            ("Content-Type", f"application/x-amz-json-{self.service.json_version}"),
            ("X-Amz-Target", f"{self.service.target_prefix}.{operation}"),
        ]
        if self.service.query_compatible:
            headers.append(("x-amzn-query-mode", "true"))
        signed = sign(
            method="POST",
            path=self._path,
            query=(),
            headers=headers,
            body=body,
            credentials=self.credentials,
            region=self.region,
            service=self.service.signing_name,
            amz_date=time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        )
        head = _head(self._path, signed.headers, len(body))
        for attempt in (1, 2):
            connection: Connection | None = None
            try:
                connection = self._take(fresh=attempt > 1)
                answer = connection.exchange(head, body)
            except (OSError, BadAnswer) as error:  # timeouts, refused, reset, TLS, a garbled answer
                if connection is not None:
                    connection.close()
                stale = isinstance(error, (ClosedBeforeAnswer, ConnectionResetError, BrokenPipeError))
                if attempt == 1 and stale and connection is not None and connection.used_before:
                    # The server closed a kept-alive connection as we sent on it (its idle timeout ran
                    # out while the container was frozen): once more, on a new connection.
                    continue
                raise TransportError(f"{error.__class__.__name__}: {error}") from error
            self._give(connection)
            return answer
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _take(self, fresh: bool) -> Connection:
        """An idle connection the server has not closed, or a new one (bounded by the connect timeout)."""
        while not fresh:
            with self._lock:
                if not self._idle:
                    break
                connection = self._idle.pop()
            if not _closed_by_peer(connection):
                return connection
            connection.close()
        return Connection(self._host, self._port, self._tls, self._connect_timeout, self._read_timeout)

    def _give(self, connection: Connection) -> None:
        if not connection.reusable:  # the server said it closes it
            connection.close()
            return
        with self._lock:
            self._idle.append(connection)


def _head(path: str, headers: list[tuple[str, str]], length: int) -> bytes:
    lines = [f"POST {path} HTTP/1.1", *(f"{name}: {value}" for name, value in headers)]
    lines.append(f"Content-Length: {length}")
    text = "\r\n".join(lines) + "\r\n\r\n"
    if any(c in value for _, value in headers for c in "\r\n"):  # a token read from the environment
        raise ValueError("a header value holds a line break")
    return text.encode("latin-1")


_tls: ssl.SSLContext | None = None


def _tls_context() -> ssl.SSLContext:
    """One TLS context for every client in the container: loading the CA bundle takes 10-30 ms."""
    global _tls
    if _tls is None:
        _tls = ssl.create_default_context()
    return _tls


def _closed_by_peer(connection: Connection) -> bool:
    return connection.closed_by_peer()  # a seam for the test that makes this check miss


def _error_code(answer: Answer) -> str:
    """The error code as botocore reports it, so that logs and retry rules read the same."""
    headers = answer.headers
    try:
        document = json.loads(answer.body) if answer.body.strip() else {}
    except ValueError:
        document = {}
    if not isinstance(document, dict):
        document = {}
    code = str(document.get("__type") or headers.get("x-amzn-errortype") or answer.status)
    code = code.split(":", 1)[0].rsplit("#", 1)[-1]
    # A service that moved from the query protocol (SQS) also sends its old code, which botocore
    # reports (AWS.SimpleQueueService.NonExistentQueue rather than QueueDoesNotExist).
    legacy = (headers.get("x-amzn-query-error") or "").split(";")
    if len(legacy) == 2 and legacy[0]:
        return legacy[0]
    return code


def _error_message(data: bytes) -> str:
    try:
        document = json.loads(data)
    except ValueError:
        return ""
    return str(document.get("message") or document.get("Message") or "") if isinstance(document, dict) else ""


def retryable(error: Exception) -> bool:
    """Worth another try: no answer at all, throttling, or AWS's own trouble (5xx). An answer such as
    ``QueueDoesNotExist``, access denied or a message too large will be the same next time."""
    if isinstance(error, AwsError):
        return (
            error.status >= 500
            or error.status == 429
            or "Throttl" in error.code
            or error.code
            in {
                "RequestThrottled",
                "ServiceUnavailable",
            }
        )
    return isinstance(error, TransportError)


def get_secret_string(arn: str, connect_timeout: float = 0.5, read_timeout: float = 1.0) -> str:
    """Secrets Manager's ``GetSecretValue``: the caller keeps the value for the container's life."""
    api = connect(SECRETS_MANAGER, connect_timeout, read_timeout)
    try:
        try:
            answer = api.call("GetSecretValue", {"SecretId": arn})
        except (AwsError, TransportError) as error:
            if not retryable(error):
                raise
            answer = api.call("GetSecretValue", {"SecretId": arn})  # once more: a cold start is at stake
    finally:
        api.close()  # one call per container: no connection to keep
    return str(answer["SecretString"])


class Boto3Api:
    """boto3 behind the same ``call``, for where the credentials are not in the environment."""

    def __init__(self, service: Service, connect_timeout: float, read_timeout: float) -> None:
        import boto3  # only here: the ingest's own path never pays for it
        from botocore.config import Config

        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"total_max_attempts": 1},  # retried by the caller, within its budget
            tcp_keepalive=True,
        )
        self._client = boto3.client(service.signing_name, region_name=region(), config=config)

    def call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        method = "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
        try:
            return dict(getattr(self._client, method)(**payload))
        except ClientError as error:
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            code = str(error.response.get("Error", {}).get("Code", status))
            raise AwsError(status, code, str(error.response.get("Error", {}).get("Message", ""))) from error
        except BotoCoreError as error:
            raise TransportError(f"{error.__class__.__name__}: {error}") from error

    def close(self) -> None:
        self._client.close()
