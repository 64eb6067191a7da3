"""Random envelopes and SQS records next to a good one: a bad record never fails its neighbours."""

from __future__ import annotations

import json
import uuid
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from sandbox.poller import LambdaContext
from tests.support import slack_requests as sr
from tests.support.pipeline import Pipeline
from worker.handler import lambda_handler

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
payload_keys = st.sampled_from(
    [
        "event",
        "event_id",
        "team_id",
        "command",
        "response_url",
        "text",
        "type",
        "actions",
        "trigger_id",
        "user",
    ]
)
envelopes = st.fixed_dictionaries(
    {
        "version": st.sampled_from([1, 1, 1, 2, 0, None, "1"]),
        "kind": st.sampled_from(["event", "command", "interaction", "other", None]),
        "payload": st.dictionaries(payload_keys, json_values, max_size=6),
        "received_at": st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5)),
    }
)
bodies = st.one_of(st.text(max_size=200), envelopes.map(json.dumps), json_values.map(json.dumps))
records = st.builds(
    lambda body, mid, attrs: {
        "messageId": mid,
        "receiptHandle": "r-" + mid,
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": attrs,
        "eventSource": "aws:sqs",
    },
    bodies,
    st.uuids().map(str),
    st.dictionaries(
        st.sampled_from(["kind", "team", "x"]),
        st.builds(lambda v: {"stringValue": v, "dataType": "String"}, st.text(min_size=1, max_size=10)),
        max_size=3,
    ),
)
broken_records = st.one_of(
    records,
    st.just({}),
    st.just({"messageId": "m-no-body"}),
    st.builds(lambda b: {"messageId": str(uuid.uuid4()), "body": b}, st.integers()),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(noise=st.lists(broken_records, min_size=1, max_size=9), position=st.integers(0, 9))
def test_a_bad_record_never_fails_its_neighbours(
    pipeline: Pipeline, noise: list[dict[str, Any]], position: int
) -> None:
    channel = f"C{uuid.uuid4().hex[:10].upper()}"
    good_body = json.dumps(
        {
            "version": 1,
            "kind": "event",
            "payload": json.loads(sr.mention("<@UBOT> ping", channel=channel)),
            "received_at": 1.0,
            "request_id": "r",
        }
    )
    good = {
        "messageId": f"good-{channel}",
        "receiptHandle": "r",
        "body": good_body,
        "attributes": {},
        "messageAttributes": {},
    }
    batch = list(noise)
    batch.insert(min(position, len(batch)), good)
    result = lambda_handler({"Records": batch}, LambdaContext(30.0, "worker"))
    failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
    assert good["messageId"] not in failed
    assert [r["args"]["channel"] for r in pipeline.replies()].count(channel) == 1
    # Junk is dead-lettered or dropped, not retried: only records without an id could be "failed".
    assert failed <= {""}
