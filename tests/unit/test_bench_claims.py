"""Figure 8's arithmetic: which DynamoDB requests are the pipeline's and which a skill's, and what a
batch cost per event; and the counting proxy's reading of which item a request names."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.claims import Tally, all_pipeline, cost, whose
from tests.support.request_counter import READS, WRITES, RequestCounter, item_id, key_prefix


def test_item_id_reads_the_key_of_an_update_and_the_item_of_a_put() -> None:
    update = {"TableName": "t", "Key": {"id": {"S": "message:T1:C1:1700000000.000100"}}}
    put = {"TableName": "t", "Item": {"id": {"S": "ratelimit:check:T1:U1:42"}, "count": {"N": "1"}}}
    assert item_id(json.dumps(update).encode()) == "message:T1:C1:1700000000.000100"
    assert item_id(json.dumps(put).encode()) == "ratelimit:check:T1:U1:42"


def test_item_id_is_empty_for_requests_naming_no_single_item() -> None:
    assert item_id(json.dumps({"TableName": "t"}).encode()) == ""  # a Scan
    assert item_id(json.dumps({"Key": {"id": {"N": "1"}}}).encode()) == ""  # not a string key
    assert item_id(json.dumps({"Key": {"pk": {"S": "x"}}}).encode()) == ""  # another key attribute
    assert item_id(json.dumps({"Key": {"pk": {"S": "x"}}}).encode(), key_attribute="pk") == "x"
    assert item_id(b"not json") == ""
    assert item_id(b"[1, 2]") == ""


def test_the_prefix_names_the_kind_of_item() -> None:
    assert key_prefix("command:1234.5678.abcd") == "command"
    assert key_prefix("no-colon") == "no-colon"


def test_claims_are_the_pipelines_and_anything_else_a_skills() -> None:
    for claim in ("message:T1:C1:1.2", "event:Ev1", "command:123.4.ab", "interaction:U1:1.2"):
        assert whose(claim) == "pipeline"
    assert whose("ratelimit:check:T1:U1:42") == "skill"
    assert whose("") == "skill"


def test_cost_splits_the_pipelines_writes_from_the_skills_per_event() -> None:
    tally = Tally(
        events=2,
        writes={"message:T1:C1:1.1": 2, "message:T1:C2:1.2": 3, "ratelimit:check:T1:U1:7": 1},
        reads={"message:T1:C1:1.1": 1},
        replies=2,
        failures=0,
    )
    result = cost(tally)
    assert result.pipeline_mean == 2.5
    assert result.pipeline_max == 3  # the worst event is what the target is about
    assert result.skill_mean == 0.5
    assert result.reads == 1


def test_cost_with_another_owner_counts_every_item_as_the_pipelines() -> None:
    tally = Tally(events=1, writes={"fn#hash": 2}, reads={}, replies=1, failures=0)
    assert cost(tally, all_pipeline).pipeline_max == 2
    assert cost(tally).pipeline_max == 0  # by prefix, Powertools' item is nobody's claim


def test_an_empty_batch_costs_nothing() -> None:
    result = cost(Tally(events=0, writes={}, reads={}, replies=0, failures=0))
    assert (result.pipeline_mean, result.pipeline_max, result.skill_mean, result.reads) == (0.0, 0, 0.0, 0)


class _Upstream(BaseHTTPRequestHandler):
    """Stands for moto: answers every request with an empty JSON object."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


def test_the_counter_tells_requests_apart_by_operation_and_the_item_they_name() -> None:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    serving = threading.Thread(target=upstream.serve_forever, daemon=True)
    serving.start()
    counter = RequestCounter(f"http://127.0.0.1:{upstream.server_address[1]}").start()
    try:
        sent = [
            ("UpdateItem", {"Key": {"id": {"S": "message:T1:C1:1.1"}}}),
            ("UpdateItem", {"Key": {"id": {"S": "message:T1:C1:1.1"}}}),
            ("UpdateItem", {"Key": {"id": {"S": "ratelimit:check:T1:U1:7"}}}),
            ("GetItem", {"Key": {"id": {"S": "message:T1:C1:1.1"}}}),
        ]
        for operation, body in sent:
            request = urllib.request.Request(
                counter.url,
                data=json.dumps(body).encode(),
                headers={"X-Amz-Target": f"DynamoDB_20120810.{operation}"},
            )
            with urllib.request.urlopen(request, timeout=5) as answer:
                assert answer.read() == b"{}"
        assert counter.total(WRITES) == 3
        assert counter.total(WRITES, frozenset({"message"})) == 2
        assert counter.total(WRITES, frozenset({"ratelimit"})) == 1
        assert counter.total(READS, frozenset({"message"})) == 1
        assert counter.per_item(WRITES) == {"message:T1:C1:1.1": 2, "ratelimit:check:T1:U1:7": 1}
        counter.reset()
        assert counter.total(WRITES) == 0 and counter.per_item(READS) == {}
    finally:
        counter.stop()
        upstream.shutdown()
        upstream.server_close()
        serving.join()
