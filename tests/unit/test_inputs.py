"""Typed inputs: checked at the door, one line per problem, one canonical spelling per value."""

from __future__ import annotations

import pytest

from taskcraft.errors import InvalidInputError
from taskcraft.inputs import InputSpec, InputType, validate_inputs

SPECS = [
    InputSpec(name="week", type=InputType.ISO_WEEK, required=True),
    InputSpec(name="project", pattern=r"[A-Z][A-Z0-9_]{0,19}", default="INC"),
    InputSpec(name="count", type=InputType.INTEGER, default=10),
    InputSpec(name="ratio", type=InputType.NUMBER),
    InputSpec(name="dry_run", type=InputType.BOOLEAN, default=False),
    InputSpec(name="since", type=InputType.DATE),
    InputSpec(name="at", type=InputType.DATETIME),
    InputSpec(name="audience", enum=["team", "customers"]),
]


def refusal(given: dict[str, str], specs: list[InputSpec] = SPECS) -> str:
    with pytest.raises(InvalidInputError) as caught:
        validate_inputs("report", specs, given)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_valid_inputs_are_normalised_and_defaults_filled() -> None:
    inputs = validate_inputs(
        "report",
        SPECS,
        {
            "week": "2026-w47",
            "count": "007",
            "ratio": "0.50",
            "dry_run": "YES",
            "since": "2026-11-16",
            "at": "2026-11-16T09:00:00+01:00",
            "audience": "team",
        },
    )
    assert inputs == {
        "week": "2026-W47",
        "project": "INC",
        "count": "7",
        "ratio": "0.5",
        "dry_run": "true",
        "since": "2026-11-16",
        "at": "2026-11-16T09:00:00+01:00",
        "audience": "team",
    }


def test_optional_inputs_without_defaults_stay_absent() -> None:
    assert validate_inputs("report", SPECS, {"week": "2026-W01"}) == {
        "week": "2026-W01",
        "project": "INC",
        "count": "10",
        "dry_run": "false",
    }


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"week": "2026-W47", "colour": "blue"},
            "agent 'report' takes no input colour (its inputs: at, audience, count, dry_run, "
            "project, ratio, since, week)",
        ),
        ({}, "agent 'report' needs input week (an ISO week like 2026-W47): pass --input week=..."),
        (
            {"week": "2026-W99"},
            "input week='2026-W99' is invalid: expected an ISO week like 2026-W47",
        ),
        (
            {"week": "2025-W53"},  # 2025 has 52 ISO weeks
            "input week='2025-W53' is invalid: expected an ISO week like 2026-W47",
        ),
        (
            {"week": "2026-W47", "project": "inc"},
            "input project='inc' is invalid: expected text matching [A-Z][A-Z0-9_]{0,19}",
        ),
        (
            {"week": "2026-W47", "count": "ten"},
            "input count='ten' is invalid: expected a whole number",
        ),
        (
            {"week": "2026-W47", "ratio": "nan"},
            "input ratio='nan' is invalid: expected a number",
        ),
        (
            {"week": "2026-W47", "dry_run": "maybe"},
            "input dry_run='maybe' is invalid: expected true or false",
        ),
        (
            {"week": "2026-W47", "since": "16/11/2026"},
            "input since='16/11/2026' is invalid: expected a date like 2026-11-16",
        ),
        (
            {"week": "2026-W47", "at": "2026-11-16T09:00:00"},
            "input at='2026-11-16T09:00:00' is invalid: expected a date and time with a zone, "
            "like 2026-11-16T09:00:00+00:00",
        ),
        (
            {"week": "2026-W47", "audience": "everyone"},
            "input audience='everyone' is invalid: expected one of team, customers",
        ),
    ],
)
def test_each_kind_of_bad_input_is_one_clear_line(given: dict[str, str], message: str) -> None:
    assert refusal(given) == message


def test_an_agent_without_inputs_accepts_none() -> None:
    assert validate_inputs("plain", [], {}) == {}
    assert refusal({"week": "2026-W47"}, []) == (
        "agent 'report' takes no input week (its inputs: none)"
    )


def test_a_pattern_must_match_the_whole_value() -> None:
    spec = InputSpec(name="key", pattern="[A-Z]+")
    assert spec.normalise("ABC") == "ABC"
    with pytest.raises(InvalidInputError):
        spec.normalise("ABC-1")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"name": "1st"}, "must start with a letter or '_'"),
        ({"name": "x", "pattern": "("}, "is not a regular expression"),
        (
            {"name": "x", "required": True, "default": "a"},
            "is required, so it cannot have a default",
        ),
        ({"name": "x", "type": "integer", "default": "ten"}, "expected a whole number"),
        ({"name": "x", "type": "integer", "enum": ["1"]}, "enum applies to string inputs only"),
    ],
)
def test_bad_input_declarations_are_refused(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        InputSpec.model_validate(fields)
