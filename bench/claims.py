"""Figure 8: DynamoDB requests per answered event (issue 12, "one claim per event"), next to Powertools.

Every DynamoDB request the worker makes goes through a counting proxy in front of moto
(``tests/support/request_counter.py``: ``AWS_ENDPOINT_URL_DYNAMODB`` points at it; it counts on the wire
by ``X-Amz-Target`` and notes the item each request names). Events are queued by the real ingest and
handed to the worker's handler as Lambda's SQS event, one batch per kind: ``ping`` mentions, ``/ops
ping`` slash commands and ``check`` mentions, then each of them delivered again (Slack's retry of an
event; SQS delivering a command twice). Requests are told apart by the item they name: the pipeline's
claims are keyed by the Slack action (``message:…``, ``event:…``, ``command:…``, ``interaction:…``),
anything else is a skill's own state (``check``'s per-person rate counter, ``ratelimit:…``), counted
apart as the design says.

Baseline, measured through the same proxy on the same keys: Powertools' idempotency utility
(``idempotent_function`` with its ``DynamoDBPersistenceLayer``) around a function that does nothing.
Its own source says what to expect: ``_put_record`` is one conditional ``put_item`` (with
``ReturnValuesOnConditionCheckFailure``, so a duplicate needs no read) and ``_update_record`` one
``update_item`` (aws-powertools/powertools-lambda-python,
``aws_lambda_powertools/utilities/idempotency/persistence/dynamodb.py``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast

from bench.env import BOT_TOKEN, BenchEnv, patched_env
from bench.report import Figure, Table, Verdict
from bench.slack import signed_request, unique_ts
from sandbox.poller import LambdaContext, sqs_event
from sandbox.slack_payloads import mention, slash_command
from tests.support.request_counter import READS, WRITES, RequestCounter, key_prefix

FORM = "application/x-www-form-urlencoded"
# The targets (issue 12): a claim and a settle per answered event, no read; a duplicate costs its
# refused claim only.
MAX_PIPELINE_WRITES = 2
MAX_DUPLICATE_WRITES = 1
# The kinds of item the pipeline's claims are (``shared.envelope.dedupe_key``); any other is a skill's.
PIPELINE_PREFIXES = frozenset({"message", "event", "command", "interaction"})
KINDS = ("mention", "command", "check")
LABELS = {
    "mention": "`ping` mention",
    "command": "`/ops ping` slash command",
    "check": "`check` mention (one URL)",
}
DUPLICATE_LABELS = {
    "mention": "the same mention again (Slack's retry, `X-Slack-Retry-Num: 1`)",
    "command": "the same command again (SQS delivering it twice)",
    "check": "the same `check` again (Slack's retry)",
}
# From Powertools' source (see the module's docstring): per record, and per duplicate.
POWERTOOLS_SOURCE = {"answered": (2, 0), "duplicate": (1, 0)}  # (writes, reads)


@dataclass(frozen=True)
class Tally:
    """What one batch cost: DynamoDB requests by the item they named, and what the bot answered."""

    events: int
    writes: Mapping[str, int]  # item id → write requests naming it
    reads: Mapping[str, int]
    replies: int  # answers the Slack stand-in recorded
    failures: int  # records the worker reported failed


@dataclass(frozen=True)
class Cost:
    """A batch's requests per event, the pipeline's and the skill's apart."""

    events: int
    pipeline_mean: float  # pipeline writes per event
    pipeline_max: int  # the most any one event's claim item took
    skill_mean: float  # writes to a skill's own state, per event
    reads: int  # every read of the batch


def whose(item: str) -> str:
    """``pipeline`` for the pipeline's own claims, ``skill`` for a skill's state (any other item)."""
    return "pipeline" if key_prefix(item) in PIPELINE_PREFIXES else "skill"


def cost(tally: Tally, owner: Callable[[str], str] = whose) -> Cost:
    """Per event: the pipeline's writes (mean and the worst event's), the skill's, and all reads."""
    pipeline = [count for item, count in tally.writes.items() if owner(item) == "pipeline"]
    skill = sum(count for item, count in tally.writes.items() if owner(item) != "pipeline")
    events = max(tally.events, 1)
    return Cost(
        events=tally.events,
        pipeline_mean=sum(pipeline) / events,
        pipeline_max=max(pipeline, default=0),
        skill_mean=skill / events,
        reads=sum(tally.reads.values()),
    )


def all_pipeline(_: str) -> str:
    """For Powertools' records: each of its items is its idempotency record."""
    return "pipeline"


@dataclass
class ClaimResults:
    tallies: dict[str, Tally] = field(default_factory=dict)  # "mention", "mention_duplicate", … "powertools"


_numbers = itertools.count(1)


def measure(env: BenchEnv, events: int, progress: Callable[[str], None]) -> ClaimResults:
    assert env.moto is not None and env.slack is not None
    from worker import container

    results = ClaimResults()
    counter = RequestCounter(env.moto.url).start()
    try:
        with (
            open(os.devnull, "w") as devnull,
            contextlib.redirect_stdout(devnull),
            patched_env(SLACK_BOT_TOKEN=BOT_TOKEN, AWS_ENDPOINT_URL_DYNAMODB=counter.url),
        ):
            # The worker builds its boto3 clients once per container: a new "container" builds them
            # again, pointed at the counter.
            container.reset()
            for kind in KINDS:
                bodies = [_body(kind, env) for _ in range(events)]
                results.tallies[kind] = _deliver(env, counter, bodies, retry=False)
                results.tallies[f"{kind}_duplicate"] = _deliver(env, counter, bodies, retry=True)
                progress(f"  claims: {events} {kind}s and their duplicates")
            keys = [f"message:T0001:C0PT{next(_numbers)}:{unique_ts()}" for _ in range(events)]
            results.tallies["powertools"] = _powertools(counter, keys)
            results.tallies["powertools_duplicate"] = _powertools(counter, keys)
    finally:
        container.reset()  # the next figure's worker reaches moto directly again
        counter.stop()
    return results


def _body(kind: str, env: BenchEnv) -> tuple[bytes, str]:
    """A fresh event of ``kind``, in a channel (and from a person) of its own: the worker's pace of one
    post a second per channel and ``check``'s per-person limit are not what this figure counts."""
    assert env.slack is not None
    n = next(_numbers)
    channel, user = f"C0CLAIM{n}", f"U0CLAIM{n}"
    if kind == "command":
        body = slash_command(
            "ping",
            command="/ops",
            response_url=env.slack.new_response_url(),
            trigger_id=env.slack.new_trigger_id(),
            channel=channel,
        )
        return body, FORM
    text = "<@UBOT> ping" if kind == "mention" else f"<@UBOT> check <{env.slack.url}/sandbox/slow?ms=0>"
    return mention(text, channel=channel, ts=unique_ts(), extra={"user": user}), "application/json"


def _deliver(
    env: BenchEnv, counter: RequestCounter, bodies: list[tuple[bytes, str]], *, retry: bool
) -> Tally:
    """Queue ``bodies`` through the ingest, run the worker on them as one batch, count its requests."""
    import worker.handler
    from ingest.handler import lambda_handler as ingest

    assert env.slack is not None
    queue_url = env.new_queue("claims")
    with patched_env(QUEUE_URL=queue_url):
        for body, content_type in bodies:
            event = signed_request(
                body, content_type, retry_num=1 if retry and content_type != FORM else None
            )
            answer = ingest(event, LambdaContext(3.0, "ingest"))
            assert answer["statusCode"] == 200, answer
        messages = env.receive_all(queue_url, len(bodies))
    event = sqs_event(
        messages, f"arn:aws:sqs:us-east-1:123456789012:{queue_url.rsplit('/', 1)[-1]}", "us-east-1"
    )
    settings = replace(worker.handler.container_settings.get(), queue_url=queue_url)
    replies_before = len(env.slack.replies())
    counter.reset()
    answer = worker.handler.handle(event, LambdaContext(60.0, "worker"), settings)
    tally = Tally(
        events=len(bodies),
        writes=dict(counter.per_item(WRITES)),
        reads=dict(counter.per_item(READS)),
        replies=len(env.slack.replies()) - replies_before,
        failures=len(answer.get("batchItemFailures", [])),
    )
    env.drop_queue(queue_url)
    return tally


def _powertools(counter: RequestCounter, keys: list[str]) -> Tally:
    """Powertools' idempotency around a function that does nothing, once per key, counted the same way."""
    import boto3
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(
        table_name=os.environ["STATE_TABLE"], boto3_client=boto3.client("dynamodb", endpoint_url=counter.url)
    )

    config = IdempotencyConfig(event_key_jmespath="key")
    # As in a Lambda handler: the context lets it put an in-progress expiry on each record.
    config.register_lambda_context(cast(Any, LambdaContext(60.0, "powertools")))

    def nothing(record: dict[str, str]) -> dict[str, str]:
        return {"answered": record["key"]}

    answer: Callable[..., Any] = idempotent_function(
        data_keyword_argument="record", config=config, persistence_store=persistence
    )(nothing)

    counter.reset()
    answered = sum(1 for key in keys if answer(record={"key": key}) == {"answered": key})
    return Tally(
        events=len(keys),
        writes=dict(counter.per_item(WRITES)),
        reads=dict(counter.per_item(READS)),
        replies=answered,
        failures=0,
    )


def figure(results: ClaimResults) -> Figure:
    fig = Figure(8, "claims", "DynamoDB requests per answered event", _method())
    table = Table(
        [
            "events (one batch each)",
            "n",
            "pipeline writes per event (claim + settle): mean",
            "max",
            "reads",
            "a skill's own writes per event",
            "answers recorded",
        ]
    )
    costs: dict[str, Cost] = {}
    for kind in KINDS:
        for name, label in ((kind, LABELS[kind]), (f"{kind}_duplicate", DUPLICATE_LABELS[kind])):
            tally = results.tallies[name]
            costs[name] = cost(tally)
            table.add(label, *_cells(costs[name]), _answers(tally))
    for name, label in (
        ("powertools", "Powertools `idempotent_function`, the same keys"),
        ("powertools_duplicate", "Powertools, each key again"),
    ):
        tally = results.tallies[name]
        costs[name] = cost(tally, all_pipeline)
        table.add(label, *_cells(costs[name], skill="–"), f"{tally.replies} returned")
    writes, reads = POWERTOOLS_SOURCE["answered"]
    again, _ = POWERTOOLS_SOURCE["duplicate"]
    table.add(
        "Powertools, from its source: `_put_record` + `_update_record`; a duplicate's refused put",
        "–",
        f"{writes} (duplicate: {again})",
        "",
        str(reads),
        "–",
        "",
    )
    fig.tables.append(table)
    fig.verdicts += _verdicts(costs)
    skill = costs["check"].skill_mean
    fig.notes.append(
        f"`check`'s rate counter (its own state, one `UpdateItem … ADD` per check asked) adds {skill:.2f} "
        "writes per `check`; a duplicate never reaches the skill, so it adds none. Powertools costs the "
        "same two writes per record, keyed on a hash of the payload rather than the Slack action "
        "(docs/design-notes.md). A refused conditional write is still billed as a write, hence a "
        "duplicate's one."
    )
    return fig


def _cells(item: Cost, skill: str | None = None) -> list[str]:
    return [
        str(item.events),
        f"{item.pipeline_mean:.2f}",
        str(item.pipeline_max),
        str(item.reads),
        skill if skill is not None else f"{item.skill_mean:.2f}",
    ]


def _answers(tally: Tally) -> str:
    failed = f", {tally.failures} failed" if tally.failures else ""
    return f"{tally.replies} of {tally.events}{failed}"


def _verdicts(costs: dict[str, Cost]) -> list[Verdict]:
    answered = [costs[kind] for kind in KINDS]
    duplicates = [costs[f"{kind}_duplicate"] for kind in KINDS]
    worst = max(c.pipeline_max for c in answered)
    reads = sum(c.reads for c in answered)
    worst_duplicate = max(c.pipeline_max for c in duplicates)
    duplicate_reads = sum(c.reads for c in duplicates)
    events = sum(c.events for c in answered)
    return [
        Verdict(
            f"pipeline writes per answered event ≤ {MAX_PIPELINE_WRITES}, reads 0",
            f"at most {_writes(worst)}, {reads} reads over {events} events of {len(KINDS)} kinds "
            f"(Powertools: {costs['powertools'].pipeline_max})",
            worst <= MAX_PIPELINE_WRITES and reads == 0,
        ),
        Verdict(
            f"writes per duplicate ≤ {MAX_DUPLICATE_WRITES}, reads 0",
            f"at most {_writes(worst_duplicate)}, {duplicate_reads} reads "
            f"(Powertools: {costs['powertools_duplicate'].pipeline_max})",
            worst_duplicate <= MAX_DUPLICATE_WRITES and duplicate_reads == 0,
        ),
    ]


def _writes(count: int) -> str:
    return f"{count} write" + ("" if count == 1 else "s")


def _method() -> str:
    return (
        "Every DynamoDB request on the wire, counted by a proxy in front of moto "
        "(`tests/support/request_counter.py`, `AWS_ENDPOINT_URL_DYNAMODB` pointed at it, the worker's "
        "clients built again for it) and told apart by the item it names: the pipeline's claim "
        "(`message:…`, `command:…`) or a skill's own state (`ratelimit:…`). Each kind of event is "
        "queued by the ingest and handled by the worker as one SQS batch, each event in a channel of its "
        "own; then the same events are delivered again. The baseline is Powertools' idempotency utility "
        "(`idempotent_function`, `DynamoDBPersistenceLayer` on the same table) through the same proxy; "
        "its source (aws-powertools/powertools-lambda-python, "
        "`aws_lambda_powertools/utilities/idempotency/persistence/dynamodb.py`: `_put_record` is one "
        "conditional `put_item` with `ReturnValuesOnConditionCheckFailure`, `_update_record` one "
        "`update_item`) gives the last row."
    )
