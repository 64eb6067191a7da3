"""Lambda's SNS trigger on loopback: SNS (moto) pushes each notification here, and a handler gets it as Lambda would.

In AWS the alarm function is subscribed to the alarm topic (protocol ``lambda``) and Lambda invokes it
with ``{"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": …,
"Sns": {"Type": "Notification", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", …}}]}``.
moto cannot run a Lambda, but it does deliver to ``http`` subscriptions: it POSTs SNS's notification
as JSON, and waits for the answer before ``Publish`` returns. This server takes that POST, builds the
Lambda event from it (SNS's HTTP field names ``SigningCertURL``/``UnsubscribeURL`` become Lambda's
``SigningCertUrl``/``UnsubscribeUrl``) and calls the handler with a ``LambdaContext``::

    with SnsTrigger(worker.alarm_handler.lambda_handler) as trigger:
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=trigger.endpoint)
        sns.publish(TopicArn=topic, Message=…)  # the handler has run when this returns
        trigger.invocations  # each event, and what the handler returned or raised

Lambda retries a failed asynchronous invocation twice (about 1 and 2 minutes later) and then sends it
to the function's dead-letter queue; here a failure is only recorded (``Invocation.error``), and
``redeliver`` hands the same event to the handler again, as Lambda's retry would. Stdlib only.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from sandbox.poller import LambdaContext
from sandbox.serving import BackgroundServer, QuietHandler

__all__ = ["Invocation", "SnsTrigger", "lambda_sns_event"]

Handler = Callable[[dict[str, Any], Any], Any]
MAX_BODY_BYTES = 256 * 1024 + 64 * 1024  # an SNS message is at most 256 KiB, plus SNS's own fields
_LAMBDA_NAMES = {"SigningCertURL": "SigningCertUrl", "UnsubscribeURL": "UnsubscribeUrl"}


@dataclass(frozen=True)
class Invocation:
    event: dict[str, Any]
    result: Any = None
    error: BaseException | None = None


def lambda_sns_event(notification: dict[str, Any], subscription_arn: str = "") -> dict[str, Any]:
    """The event Lambda passes a function subscribed to a topic, for one SNS notification (as SNS POSTs it)."""
    sns = {_LAMBDA_NAMES.get(key, key): value for key, value in notification.items()}
    sns.setdefault("Subject", None)  # Lambda's record always has it, null when the publisher gave none
    sns.setdefault("MessageAttributes", {})
    topic = str(notification.get("TopicArn", ""))
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn or f"{topic}:{uuid.uuid4()}",
                "Sns": sns,
            }
        ]
    }


class SnsTrigger(BackgroundServer):
    thread_name = "sns-trigger"

    def __init__(
        self,
        handler: Handler,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        timeout_seconds: float = 20.0,
        function_name: str = "alarms",
    ) -> None:
        self.handler = handler
        self.timeout_seconds = timeout_seconds
        self.function_name = function_name
        self._lock = threading.Lock()
        self._invocations: list[Invocation] = []
        super().__init__(host, port, _Handler)

    @property
    def endpoint(self) -> str:
        """What to subscribe to a topic with ``Protocol="http"``."""
        return self.url + "/sns"

    @property
    def invocations(self) -> list[Invocation]:
        with self._lock:
            return list(self._invocations)

    def invoke(self, event: dict[str, Any]) -> Invocation:
        """One asynchronous invocation of the function, recorded; the handler's exception is kept, not raised."""
        context = LambdaContext(self.timeout_seconds, self.function_name)
        try:
            invocation = Invocation(event, result=self.handler(event, context))
        except Exception as error:  # what Lambda would count as a failed invocation
            invocation = Invocation(event, error=error)
        with self._lock:
            self._invocations.append(invocation)
        return invocation

    def redeliver(self, invocation: Invocation) -> Invocation:
        """The same event again, as Lambda's retry of a failed asynchronous invocation."""
        return self.invoke(invocation.event)


class _Handler(QuietHandler):
    server: Any

    def do_POST(self) -> None:
        trigger: SnsTrigger = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        if self.path != "/sns" or length > MAX_BODY_BYTES:
            self._answer(HTTPStatus.NOT_FOUND if self.path != "/sns" else HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        try:
            notification = json.loads(self.rfile.read(length))
        except ValueError:
            self._answer(HTTPStatus.BAD_REQUEST)
            return
        if not isinstance(notification, dict):
            self._answer(HTTPStatus.BAD_REQUEST)
            return
        # Lambda accepts an asynchronous invocation whatever the function then does: SNS sees a success.
        trigger.invoke(lambda_sns_event(notification))
        self._answer(HTTPStatus.OK)

    def _answer(self, status: HTTPStatus) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
