"""``dlq redrive --all`` through SQS's message-move task (moto has none: botocore's Stubber plays SQS),
and the progress bar."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ops import redrive
from ops.config import Config
from ops.failures import ExitCode, OpsError
from ops.render import Progress, age

SETTINGS = Config(
    queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/work",
    dlq_url="https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
    table="state",
    source="the environment",
)
WORK_ARN = "arn:aws:sqs:us-east-1:123456789012:work"
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:dlq"


@pytest.fixture
def sqs() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("sqs", region_name="us-east-1", endpoint_url="https://sqs.us-east-1.amazonaws.com")
    with Stubber(client) as stubber:
        for url, arn in ((SETTINGS.dlq_url, DLQ_ARN), (SETTINGS.queue_url, WORK_ARN)):
            stubber.add_response(
                "get_queue_attributes",
                {"Attributes": {"QueueArn": arn}},
                {"QueueUrl": url, "AttributeNames": ["QueueArn"]},
            )
        yield client, stubber
        stubber.assert_no_pending_responses()


def _task(status: str, moved: int, to_move: int = 10, **extra: Any) -> dict[str, Any]:
    return {
        "Results": [
            {
                "Status": status,
                "SourceArn": DLQ_ARN,
                "DestinationArn": WORK_ARN,
                "ApproximateNumberOfMessagesMoved": moved,
                "ApproximateNumberOfMessagesToMove": to_move,
                **extra,
            }
        ]
    }


LIST_TASKS = {"SourceArn": DLQ_ARN, "MaxResults": 1}


def test_the_move_task_is_started_and_followed_to_its_end(sqs: tuple[Any, Stubber]) -> None:
    client, stubber = sqs
    stubber.add_response(
        "start_message_move_task",
        {"TaskHandle": "handle-1"},
        {"SourceArn": DLQ_ARN, "DestinationArn": WORK_ARN},
    )
    stubber.add_response("list_message_move_tasks", _task("RUNNING", 4), LIST_TASKS)
    stubber.add_response("list_message_move_tasks", _task("COMPLETED", 10), LIST_TASKS)
    waits: list[float] = []
    stream = io.StringIO()

    moved = redrive.redrive_all(
        client, client, SETTINGS, Progress("redrive", 10, stream), 10, sleep=waits.append
    )

    assert moved == 10
    assert waits == [redrive.MOVE_TASK_POLL_SECONDS]  # polled once between the two reads
    assert stream.getvalue().splitlines() == ["redrive [####------] 4/10", "redrive [##########] 10/10"]


def test_a_failed_move_task_says_why_and_exits_3(sqs: tuple[Any, Stubber]) -> None:
    client, stubber = sqs
    stubber.add_response("start_message_move_task", {"TaskHandle": "handle-1"})
    stubber.add_response(
        "list_message_move_tasks", _task("FAILED", 3, FailureReason="AWS.SimpleQueueService.KmsAccessDenied")
    )
    with pytest.raises(OpsError) as failure:
        redrive.redrive_all(client, client, SETTINGS, Progress("redrive", 10, io.StringIO()), 10, sleep=print)
    assert failure.value.code == ExitCode.AWS
    assert "FAILED after 3 messages (AWS.SimpleQueueService.KmsAccessDenied)" in str(failure.value)


@pytest.mark.parametrize("code", ["AWS.SimpleQueueService.UnsupportedOperation", "AccessDenied", "500"])
def test_without_a_move_task_it_falls_back_to_message_by_message(
    sqs: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], code: str
) -> None:
    client, stubber = sqs
    stubber.add_client_error("start_message_move_task", service_error_code=code, http_status_code=400)
    fallback: list[int] = []
    monkeypatch.setattr(
        redrive,
        "_move_all_by_message",
        lambda sqs, settings, progress, waiting: fallback.append(waiting) or 7,
    )
    moved = redrive.redrive_all(client, client, SETTINGS, Progress("redrive", 7, io.StringIO()), 7)
    assert (moved, fallback) == (7, [7])
    assert f"message-move task not available ({code})" in capsys.readouterr().err


def test_expired_credentials_are_not_a_reason_to_fall_back(sqs: tuple[Any, Stubber]) -> None:
    client, stubber = sqs
    stubber.add_client_error(
        "start_message_move_task", service_error_code="ExpiredToken", http_status_code=403
    )
    with pytest.raises(Exception, match="ExpiredToken"):
        redrive.redrive_all(client, client, SETTINGS, Progress("redrive", 1, io.StringIO()), 1)


def test_progress_off_a_terminal_prints_a_line_per_step_of_the_bar() -> None:
    stream = io.StringIO()
    progress = Progress("redrive", 40, stream)
    for _ in range(40):
        progress.advance()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11  # the first step, then one per tenth
    assert lines[:2] == ["redrive [----------] 1/40", "redrive [#---------] 4/40"]
    assert lines[-1] == "redrive [##########] 40/40"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, "n/a"), (-2, "0s"), (59, "59s"), (60, "1m"), (7199, "1h"), (4 * 86400, "4d")],
)
def test_ages_are_short(seconds: float | None, shown: str) -> None:
    assert age(seconds) == shown
