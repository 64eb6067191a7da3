"""shared/modals.py: rules and option sources that travel in a view's private_metadata."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shared import modals
from shared.modals import Metadata, Rule
from tests.support import modal_payloads as mp

# -- strategies --------------------------------------------------------------------------------------

names = st.text(min_size=1, max_size=12)
rules = st.fixed_dictionaries(
    {},
    optional={
        "required": st.booleans(),
        "min_length": st.integers(0, 500),
        "max_length": st.integers(0, 3000),
        "pattern": st.sampled_from([r"[a-z]+", r"\d{3}-\d{4}", r".*", r"SEV[1-4]"]),
        "min": st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**6), 10**6),
        "max": st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**6), 10**6),
        "one_of": st.lists(st.text(max_size=10), max_size=5),
        "message": st.text(max_size=40),
    },
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


# -- private_metadata ---------------------------------------------------------------------------------


@given(
    rules=st.dictionaries(names, rules, max_size=4),
    context=st.dictionaries(names, st.text(max_size=20), max_size=3),
    options=st.dictionaries(names, names, max_size=3),
)
def test_metadata_reads_back_what_was_written(
    rules: dict[str, Rule], context: dict[str, str], options: dict[str, str]
) -> None:
    try:
        text = modals.private_metadata(rules, context=context, options=options)
    except ValueError:
        assume(False)  # longer than Slack keeps: covered below
        raise
    assert len(text) <= modals.MAX_METADATA_CHARS
    assert modals.read_private_metadata(text) == Metadata(rules=rules, context=context, options=options)


def test_metadata_is_compact_json_with_a_version_marker() -> None:
    text = modals.private_metadata({"title": {"required": True}}, context={"channel": "C1"})
    assert " " not in text
    assert json.loads(text) == {
        modals.MARKER: modals.VERSION,
        "rules": {"title": {"required": True}},
        "context": {"channel": "C1"},
    }


def test_metadata_longer_than_slack_keeps_is_refused() -> None:
    many = {f"field_{i}": Rule(pattern="x" * 20, message="m" * 20) for i in range(60)}
    with pytest.raises(ValueError, match="3000"):
        modals.private_metadata(many)


def test_non_ascii_counts_as_characters_not_bytes() -> None:
    text = modals.private_metadata({}, context={"note": "é" * 2900})
    assert len(text) <= modals.MAX_METADATA_CHARS < len(text.encode())


@pytest.mark.parametrize(
    "rule",
    [
        {"pattern": "("},
        {"min_length": True},
        {"min_length": -1},
        {"max_length": 2.5},
        {"min": float("nan")},
        {"max": "10"},
        {"required": "yes"},
        {"one_of": ["a", 1]},
        {"message": None},
        {"maxlength": 10},
    ],
    ids=str,
)
def test_a_malformed_rule_is_refused_when_written(rule: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        modals.private_metadata({"title": rule})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "This is for you!",
        "{not json",
        "[1, 2]",
        json.dumps({"rules": {"title": {"required": True}}}),  # no marker: not ours
        json.dumps({modals.MARKER: 2, "rules": {"title": {"required": True}}}),  # a version we do not know
        json.dumps({modals.MARKER: True, "rules": {"title": {"required": True}}}),  # True == 1 in Python
        json.dumps({modals.MARKER: 1, "rules": ["title"]}),
        json.dumps({modals.MARKER: 1, "rules": {"title": "required"}}),
        json.dumps({modals.MARKER: 1, "rules": {"title": {"max_length": "80"}}}),
        json.dumps({modals.MARKER: 1, "rules": {"title": {"pattern": "(["}}}),
        json.dumps({modals.MARKER: 1, "rules": {}, "context": {"channel": 5}}),
        json.dumps({modals.MARKER: 1, "rules": {}, "options": ["SERVICES"]}),
        '{"slackbot.modal": 1, "rules": ' + "[" * 5000 + "]" * 5000 + "}",
    ],
)
def test_metadata_that_is_not_ours_reads_as_empty(text: Any) -> None:
    assert modals.read_private_metadata(text) == Metadata()


@given(json_values)
def test_reading_any_json_never_raises(value: Any) -> None:
    for text in (json.dumps(value), json.dumps({modals.MARKER: 1, "rules": value, "options": value})):
        assert isinstance(modals.read_private_metadata(text), Metadata)


def test_a_rule_this_version_does_not_know_is_skipped_when_read() -> None:
    text = json.dumps({modals.MARKER: 1, "rules": {"title": {"required": True, "not_blank_after": "x"}}})
    assert modals.read_private_metadata(text).rules == {"title": {"required": True}}


def test_every_rule_kind_has_a_check() -> None:
    assert set(modals._RULE_CHECKS) == set(Rule.__annotations__)


# -- submitted_values -------------------------------------------------------------------------------


def test_submitted_values_reads_every_element_type() -> None:
    states: dict[str, dict[str, Any]] = {
        "text": {"type": "plain_text_input", "value": "hello"},
        "empty": {"type": "plain_text_input", "value": None},
        "number": {"type": "number_input", "value": "12.5"},
        "email": {"type": "email_text_input", "value": "a@example.org"},
        "url": {"type": "url_text_input", "value": "https://example.org"},
        "static": {"type": "static_select", "selected_option": mp.option("SEV1")},
        "external": {"type": "external_select", "selected_option": mp.option("payments")},
        "unchosen": {"type": "external_select", "selected_option": None},
        "radio": {"type": "radio_buttons", "selected_option": mp.option("yes")},
        "multi": {"type": "multi_static_select", "selected_options": [mp.option("a"), mp.option("b")]},
        "checks": {"type": "checkboxes", "selected_options": []},
        "date": {"type": "datepicker", "selected_date": "2024-05-01"},
        "time": {"type": "timepicker", "selected_time": "13:37", "timezone": "Europe/Paris"},
        "when": {"type": "datetimepicker", "selected_date_time": 1700000000},
        "user": {"type": "users_select", "selected_user": "U1"},
        "users": {"type": "multi_users_select", "selected_users": ["U1", "U2"]},
        "conversation": {"type": "conversations_select", "selected_conversation": "C1"},
        "conversations": {"type": "multi_conversations_select", "selected_conversations": ["C1"]},
        "channel": {"type": "channels_select", "selected_channel": "C2"},
        "channels": {"type": "multi_channels_select", "selected_channels": ["C2", "C3"]},
    }
    view = {"state": {"values": {block_id: {block_id: state} for block_id, state in states.items()}}}
    assert modals.submitted_values(view) == {
        "text": "hello",
        "empty": None,
        "number": "12.5",
        "email": "a@example.org",
        "url": "https://example.org",
        "static": "SEV1",
        "external": "payments",
        "unchosen": None,
        "radio": "yes",
        "multi": ["a", "b"],
        "checks": [],
        "date": "2024-05-01",
        "time": "13:37",
        "when": "1700000000",
        "user": "U1",
        "users": ["U1", "U2"],
        "conversation": "C1",
        "conversations": ["C1"],
        "channel": "C2",
        "channels": ["C2", "C3"],
    }


def test_submitted_values_takes_the_input_whose_action_id_differs_from_its_block_id() -> None:
    view = {"state": {"values": {"hspI": {"maBWU": {"type": "plain_text_input", "value": "test"}}}}}
    assert modals.submitted_values(view) == {"hspI": "test"}


@given(json_values)
def test_submitted_values_of_any_shape_never_raises(value: Any) -> None:
    for view in (value, {"state": value}, {"state": {"values": value}}, {"state": {"values": {"b": value}}}):
        result = modals.submitted_values(view)
        assert all(v is None or isinstance(v, str | list) for v in result.values())


# -- errors -----------------------------------------------------------------------------------------


def view_with(rule: Rule, state: dict[str, Any]) -> dict[str, Any]:
    return {
        "private_metadata": modals.private_metadata({"field": rule}),
        "blocks": [{"type": "input", "block_id": "field", "element": {"type": state["type"]}}],
        "state": {"values": {"field": {"field": state}}},
    }


def text(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def chosen(*values: str) -> dict[str, Any]:
    return {"type": "multi_static_select", "selected_options": [mp.option(v) for v in values]}


@pytest.mark.parametrize(
    ("rule", "state", "message"),
    [
        ({"required": True}, text(None), "This field is required."),
        ({"required": True}, text("   "), "This field is required."),
        ({"required": True}, {"type": "static_select", "selected_option": None}, "This field is required."),
        ({"required": True}, chosen(), "This field is required."),
        ({"min_length": 3}, text("ab"), "Use at least 3 characters (this has 2)."),
        ({"max_length": 80}, text("x" * 81), "Use at most 80 characters (this has 81)."),
        ({"max_length": 2}, chosen("a", "b", "c"), "Use at most 2 choices (this has 3)."),
        ({"min_length": 2}, chosen("a"), "Use at least 2 choices (this has 1)."),
        ({"pattern": r"[A-Z]{2,5}-\d+"}, text("ops-12"), "This is not in the expected format."),
        ({"pattern": r"\d+"}, text("12a"), "This is not in the expected format."),  # a full match
        ({"pattern": r"[a-z]+"}, chosen("ok", "NO"), "This is not in the expected format."),
        ({"min": 1}, text("0.5"), "Enter a number of at least 1."),
        ({"max": 10.5}, text("11"), "Enter a number of at most 10.5."),
        ({"min": 0}, text("twelve"), "Enter a number."),
        ({"max": 10}, text("nan"), "Enter a number."),
        ({"one_of": ["SEV1", "SEV2"]}, text("SEV9"), "Choose one of: SEV1, SEV2"),
        ({"max_length": 5, "message": "Keep it short."}, text("too long"), "Keep it short."),
        ({"required": True, "message": "Give it a title."}, text(""), "Give it a title."),
    ],
)
def test_each_broken_rule_gives_its_message(rule: Rule, state: dict[str, Any], message: str) -> None:
    assert modals.errors(view_with(rule, state)) == {"field": message}


@pytest.mark.parametrize(
    ("rule", "state"),
    [
        ({"required": True}, text("x")),
        ({"max_length": 80}, text("x" * 80)),
        ({"min_length": 2, "max_length": 2}, chosen("a", "b")),
        ({"pattern": r"\d+"}, text("123")),
        ({"min": 1, "max": 10}, text("10")),
        ({"min": -1.5}, text("-1.5")),
        ({"one_of": ["SEV1"]}, {"type": "static_select", "selected_option": mp.option("SEV1")}),
        ({"max_length": 3, "pattern": r"\d+", "min": 5}, text(None)),  # optional and empty: nothing to check
        ({}, text("anything")),
    ],
)
def test_a_value_that_keeps_its_rules_has_no_error(rule: Rule, state: dict[str, Any]) -> None:
    assert modals.errors(view_with(rule, state)) == {}


def test_an_incident_like_submission_reports_every_broken_input() -> None:
    view = mp.incident_view(title="x" * 81, severity=None)
    assert modals.errors(view) == {
        "title": "Use at most 80 characters (this has 81).",
        "severity": "This field is required.",
    }
    assert modals.errors(mp.incident_view()) == {}


def test_a_rule_for_a_block_the_view_does_not_show_is_not_reported() -> None:
    view = view_with({"required": True}, text("x"))
    view["private_metadata"] = modals.private_metadata({"field": {}, "gone": {"required": True}})
    assert modals.errors(view) == {}


def test_an_input_missing_from_state_but_shown_in_blocks_counts_as_empty() -> None:
    view = view_with({"required": True}, text("x"))
    view["state"] = {"values": {}}
    assert modals.errors(view) == {"field": "This field is required."}


@pytest.mark.parametrize(
    "metadata", ["", "This is for you!", json.dumps({"rules": {"field": {"required": True}}})]
)
def test_a_view_without_our_rules_has_no_errors(metadata: str) -> None:
    view = view_with({"required": True}, text(None))
    view["private_metadata"] = metadata
    assert modals.errors(view) == {}


@given(
    message=st.text(max_size=400),
    choices=st.lists(st.text(min_size=1, max_size=60), min_size=1, max_size=20),
)
def test_error_texts_stay_within_slacks_length(message: str, choices: list[str]) -> None:
    view = view_with({"one_of": choices, "message": message}, text("\x00 not a choice"))
    (error,) = modals.errors(view).values()
    assert 0 < len(error) <= modals.MAX_ERROR_CHARS


@given(json_values)
def test_errors_of_any_view_never_raise(value: Any) -> None:
    metadata = modals.private_metadata({"b": {"required": True, "max_length": 3, "pattern": "a+", "min": 1}})
    for view in (
        value,
        {"private_metadata": metadata, "state": value},
        {"private_metadata": metadata, "state": {"values": {"b": value}}},
    ):
        assert isinstance(modals.errors(view), dict)


# -- suggestions --------------------------------------------------------------------------------------

SERVICES = "payments, search,Payroll ,checkout,,  "


def lookup_of(settings: dict[str, str], reads: list[str] | None = None) -> Any:
    def lookup(name: str) -> str:
        if reads is not None:
            reads.append(name)
        return settings.get(name, "")

    return lookup


@pytest.fixture(autouse=True)
def _default_option_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPTION_SETTINGS", raising=False)


@pytest.mark.parametrize(
    ("typed", "values"),
    [
        ("pay", ["payments", "Payroll"]),
        ("PAY", ["payments", "Payroll"]),
        ("out", ["checkout"]),
        ("", ["payments", "search", "Payroll", "checkout"]),
        ("  ", ["payments", "search", "Payroll", "checkout"]),
        ("nothing", []),
    ],
)
def test_suggestions_are_the_setting_filtered_by_what_was_typed(typed: str, values: list[str]) -> None:
    options = modals.suggestions(mp.block_suggestion(typed), lookup_of({"SERVICES": SERVICES}))
    assert options == [{"text": {"type": "plain_text", "text": v}, "value": v} for v in values]


def test_suggestions_are_capped_at_a_hundred_deduplicated_and_cut_to_slacks_lengths() -> None:
    long_name = "s" * 200
    names = [long_name, long_name, *(f"svc-{i}" for i in range(150))]
    options = modals.suggestions(mp.block_suggestion(""), lookup_of({"SERVICES": ",".join(names)}))
    assert len(options) == modals.MAX_OPTIONS
    assert options[0] == {"text": {"type": "plain_text", "text": "s" * 75}, "value": "s" * 150}
    assert options[1]["value"] == "svc-0"


@given(
    names=st.lists(st.text(alphabet=st.characters(exclude_characters=","), max_size=30), max_size=300),
    typed=st.text(max_size=5),
)
def test_suggestions_only_hold_matches_at_most_a_hundred(names: list[str], typed: str) -> None:
    options = modals.suggestions(mp.block_suggestion(typed), lookup_of({"SERVICES": ",".join(names)}))
    assert len(options) <= modals.MAX_OPTIONS
    for option in options:
        assert typed.strip().casefold() in option["value"].casefold() or len(option["value"]) == 150
        assert len(option["text"]["text"]) <= 75 and option["value"]


def test_a_setting_outside_the_allowlist_is_never_read() -> None:
    reads: list[str] = []
    metadata = modals.private_metadata({}, options={"service": "SLACK_SIGNING_SECRET"})
    payload = mp.block_suggestion("", private_metadata=metadata)
    assert modals.suggestions(payload, lookup_of({"SLACK_SIGNING_SECRET": "s3cr3t"}, reads)) == []
    assert reads == []


def test_the_allowlist_comes_from_option_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    metadata = modals.private_metadata({}, options={"service": "TEAMS"})
    payload = mp.block_suggestion("", private_metadata=metadata)
    lookup = lookup_of({"TEAMS": "red,blue", "SERVICES": "payments"})
    assert modals.suggestions(payload, lookup) == []
    monkeypatch.setenv("OPTION_SETTINGS", "SERVICES, TEAMS")
    assert [o["value"] for o in modals.suggestions(payload, lookup)] == ["red", "blue"]
    assert modals.option_settings() == {"SERVICES", "TEAMS"}


@pytest.mark.parametrize(
    "name",
    ["SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "AWS_SECRET_ACCESS_KEY", "SLACK_BOT_TOKEN_ARN", "AWS_REGION"],
)
def test_a_secret_is_never_an_option_even_when_allowlisted(name: str) -> None:
    reads: list[str] = []
    metadata = modals.private_metadata({}, options={"service": name})
    payload = mp.block_suggestion("", private_metadata=metadata)
    assert modals.suggestions(payload, lookup_of({name: "s3cr3t"}, reads), allowed=[name]) == []
    assert reads == []


@pytest.mark.parametrize(
    "payload",
    [
        mp.block_suggestion("pay", action_id="severity"),  # no option source declared for it
        {  # a view that is neither ours nor a built-in form
            **mp.block_suggestion("pay", private_metadata=""),
            "view": {**mp.incident_view(private_metadata=""), "callback_id": "someone_else:form"},
        },
        {**mp.block_suggestion("pay"), "view": None},  # a select in a message: no view
        {**mp.block_suggestion("pay"), "action_id": ["service"]},
        None,
    ],
    ids=["undeclared", "not_ours", "no_view", "odd_action_id", "not_a_payload"],
)
def test_suggestions_without_a_declared_source_are_empty(payload: Any) -> None:
    assert modals.suggestions(payload, lookup_of({"SERVICES": SERVICES})) == []


def test_a_typed_value_that_is_not_text_filters_nothing() -> None:
    payload = {**mp.block_suggestion(""), "value": 42}
    assert len(modals.suggestions(payload, lookup_of({"SERVICES": SERVICES}))) == 4
