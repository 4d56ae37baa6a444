"""Schedules as people write them: timing, time zone, overlap, and inputs with placeholders.

Placeholders are resolved from the time a schedule fired, in the schedule's own zone: the
same instant is a different day (and week) in Berlin and in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from infra.catalog import check, load_catalog
from taskcraft.agent_files import load_agent_file
from taskcraft.errors import AgentFileError, InvalidInputError
from taskcraft.inputs import InputSpec, InputType
from taskcraft.schedules import OverlapPolicy, ScheduleDefinition, resolve_placeholders

# Monday 23 November 2026, 00:30 in Berlin: still Sunday (ISO week 47) in UTC.
MONDAY_EARLY_BERLIN = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
WEEK_INPUTS = [
    InputSpec(name="week", type=InputType.ISO_WEEK, required=True),
    InputSpec(name="project", pattern="[A-Z]+", default="INC"),
    InputSpec(name="count", type=InputType.INTEGER, default=3),
]


def test_every_placeholder_is_the_firing_time_in_the_schedules_zone() -> None:
    names = [
        "scheduled_time",
        "date",
        "previous_date",
        "iso_week",
        "previous_iso_week",
        "month",
        "previous_month",
    ]
    inputs = {name: "{" + name + "}" for name in names}
    assert resolve_placeholders(inputs, MONDAY_EARLY_BERLIN, "Europe/Berlin") == {
        "scheduled_time": "2026-11-23T00:30:00+01:00",
        "date": "2026-11-23",
        "previous_date": "2026-11-22",
        "iso_week": "2026-W48",
        "previous_iso_week": "2026-W47",
        "month": "2026-11",
        "previous_month": "2026-10",
    }
    assert resolve_placeholders(inputs, MONDAY_EARLY_BERLIN, "UTC")["iso_week"] == "2026-W47"


def test_placeholders_sit_inside_text_and_unknown_ones_stay_as_written() -> None:
    resolved = resolve_placeholders(
        {"title": "Report {previous_iso_week} ({date})", "odd": "{nope} {}"},
        datetime(2027, 1, 4, 9, tzinfo=UTC),
        "UTC",
    )
    assert resolved == {"title": "Report 2026-W53 (2027-01-04)", "odd": "{nope} {}"}


def test_the_month_before_january_is_last_december() -> None:
    inputs = {"m": "{previous_month}"}
    assert resolve_placeholders(inputs, datetime(2027, 1, 31, tzinfo=UTC), "UTC") == {
        "m": "2026-12"
    }


def schedule(**fields: object) -> ScheduleDefinition:
    return ScheduleDefinition.model_validate({"name": "weekly", "agent": "report", **fields})


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "needs exactly one of cron or every"),
        ({"cron": "0 9 * * MON", "every_s": "1h"}, "needs exactly one of cron or every"),
        ({"cron": "every monday"}, "is not a cron expression: write five fields"),
        ({"cron": "CRON_TZ=UTC 0 9 * * *"}, "give the time zone with tz"),
        ({"every_s": "1h", "tz": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"every_s": "1h", "inputs": {"w": "{last_week}"}}, "unknown placeholder {last_week}"),
        ({"every_s": "1h", "catch_up_window_s": 1}, "greater than or equal to 10"),
        ({"every_s": "1h", "name": "Weekly Report"}, "must start with a letter"),
    ],
)
def test_a_bad_schedule_says_what_is_wrong(fields: dict[str, object], expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        schedule(**fields)
    assert expected in str(caught.value)


def test_defaults_suit_agents_skip_overlap_and_a_short_catch_up() -> None:
    weekly = schedule(cron=" 0  9 * * MON ", every_s=None)
    assert weekly.cron == "0 9 * * MON"
    assert weekly.overlap is OverlapPolicy.SKIP
    assert weekly.catch_up_window_s == 3600
    assert weekly.timing == "0 9 * * MON (UTC)"
    assert schedule(every_s="90m").timing == "every 90m"
    assert schedule(cron="@daily").cron == "@daily"


def test_inputs_are_checked_like_a_start_and_stored_with_their_placeholders() -> None:
    weekly = schedule(
        cron="0 9 * * MON", inputs={"week": "{previous_iso_week}", "count": "007", "project": "OPS"}
    )
    assert weekly.checked_inputs(WEEK_INPUTS) == {
        "week": "{previous_iso_week}",
        "count": "7",
        "project": "OPS",
    }
    wrong = schedule(cron="0 9 * * MON", inputs={"week": "{date}"})
    with pytest.raises(InvalidInputError, match="input week='2026-01-05' is invalid"):
        wrong.checked_inputs(WEEK_INPUTS)
    with pytest.raises(InvalidInputError, match="takes no input colour"):
        schedule(every_s=60, inputs={"colour": "red"}).checked_inputs(WEEK_INPUTS)


AGENT_WITH_SCHEDULES = """\
name = "report"
instructions = "Report."

[[inputs]]
name = "week"
type = "iso_week"
required = true

[[schedules]]
name = "weekly-report"
cron = "0 9 * * MON"
tz = "Europe/Berlin"
catch_up_window = "2h"
inputs = { week = "{previous_iso_week}" }

[[schedules]]
name = "hourly-report"
every = "1h"
overlap = "buffer_one"
inputs = { week = "{iso_week}" }
"""


def test_an_agent_file_declares_its_schedules(tmp_path: Path) -> None:
    path = tmp_path / "report.toml"
    path.write_text(AGENT_WITH_SCHEDULES)
    weekly, hourly = load_agent_file(path).schedules
    assert (weekly.name, weekly.agent, weekly.tz, weekly.catch_up_window_s) == (
        "weekly-report",
        "report",
        "Europe/Berlin",
        7200,
    )
    assert (hourly.every_s, hourly.overlap) == (3600, OverlapPolicy.BUFFER_ONE)


def test_a_bad_schedule_in_an_agent_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "report.toml"
    path.write_text(AGENT_WITH_SCHEDULES.replace('every = "1h"', 'every = "often"'))
    with pytest.raises(AgentFileError) as caught:
        load_agent_file(path)
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}:18: schedules[1].every: ")
    assert "'often' is not a duration" in problem


def test_agents_check_refuses_schedule_inputs_the_agent_would_refuse(tmp_path: Path) -> None:
    (tmp_path / "report.toml").write_text(
        AGENT_WITH_SCHEDULES.replace('week = "{iso_week}"', 'week = "{month}"')
    )
    (tmp_path / "other.toml").write_text(
        'name = "other"\ninstructions = "x"\n[[schedules]]\nname = "weekly-report"\nevery = 60\n'
    )
    found = check(load_catalog([tmp_path]), tool_names=[], workflow_names=["AgentWorkflow"])
    report = tmp_path / "report.toml"
    assert found == [
        f"{report}: schedule 'weekly-report' is also declared by agent 'other'; "
        "schedule names are unique",
        f"{report}: schedule 'hourly-report': input week='2026-01' is invalid: "
        "expected an ISO week like 2026-W47",
    ]
