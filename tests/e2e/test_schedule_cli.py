"""``taskcraft schedule`` as a user runs it: checks at the door, ``--json`` everywhere.

Bad input is one ``Error:`` line and exit status 2, before any schedule exists; a good
schedule round-trips through create, list, show, pause, backfill and delete; schedules
declared in an agent file are applied once, then left alone.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Processes, wait_until
from tests.e2e.test_cli_errors import assert_one_line_error


def unique(base: str) -> str:
    return f"{base}-{uuid.uuid4().hex[:6]}"


def create(processes: Processes, name: str, *args: str) -> Any:
    return processes.cli("schedule", "create", name, *args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agent", "ghost", "--every", "1h"], "unknown agent 'ghost'"),
        (["--agent", "incident-report", "--cron", "mondays"], "is not a cron expression"),
        (["--agent", "incident-report", "--every", "soon"], "--every: 'soon' is not a duration"),
        (
            ["--agent", "incident-report", "--every", "1h", "--tz", "Mars/Base"],
            "unknown time zone 'Mars/Base'",
        ),
        (
            ["--agent", "incident-report", "--every", "1h", "--input", "week=2026-W99"],
            "input week='2026-W99' is invalid",
        ),
        (
            ["--agent", "incident-report", "--every", "1h", "--input", "week={last_week}"],
            "unknown placeholder {last_week}",
        ),
        (["--agent", "incident-report", "--every", "1h", "--cron", "@daily"], "not allowed with"),
    ],
)
def test_bad_schedules_are_refused_in_one_line(
    processes: Processes, args: list[str], message: str
) -> None:
    result = create(processes, unique("refused"), *args)
    assert result.returncode == 2
    assert_one_line_error(result, message)


def test_a_refused_schedule_is_not_created(processes: Processes) -> None:
    name = unique("refused")
    assert create(processes, name, "--agent", "incident-report", "--cron", "x").returncode == 2
    assert_one_line_error(processes.cli("schedule", "show", name), f"no schedule named {name!r}")


def test_unknown_schedules_are_one_line_for_every_command(processes: Processes) -> None:
    for command in ("show", "pause", "unpause", "trigger", "delete"):
        result = processes.cli("schedule", command, "no-such-schedule")
        assert result.returncode == 2
        assert_one_line_error(result, "no schedule named 'no-such-schedule'")


def test_a_schedule_round_trips_through_the_cli(processes: Processes) -> None:
    name = unique("weekly")
    created = create(
        processes,
        name,
        "--agent",
        "incident-report",
        "--cron",
        "0 9 * * MON",
        "--tz",
        "Europe/Berlin",
        "--input",
        "week={previous_iso_week}",
        "--input",
        "project=OPS",
        "--json",
    )
    assert created.returncode == 0, created.stderr
    made = json.loads(created.stdout)
    assert (made["name"], made["agent"], made["cron"], made["tz"]) == (
        name,
        "incident-report",
        "0 9 * * MON",
        "Europe/Berlin",
    )
    assert made["inputs"] == {"week": "{previous_iso_week}", "project": "OPS"}
    assert made["overlap"] == "skip"
    assert made["next_runs"]
    again = create(processes, name, "--agent", "incident-report", "--every", "1h")
    assert_one_line_error(again, f"a schedule named {name!r} already exists")

    shown = processes.cli("schedule", "show", name)
    assert shown.returncode == 0, shown.stderr
    assert "Timing    0 9 * * MON (Europe/Berlin)" in shown.stdout
    assert "Overlap   skip: nothing is running" in shown.stdout

    def listed() -> bool:
        result = processes.cli("schedule", "list", "--json")
        return name in [row["name"] for row in json.loads(result.stdout)]

    wait_until(listed, timeout=30, what="the schedule in the list")

    paused = processes.cli("schedule", "pause", name, "--note", "holiday", "--json")
    assert json.loads(paused.stdout) == {"schedule": name, "action": "pause"}
    view = json.loads(processes.cli("schedule", "show", name, "--json").stdout)
    assert (view["paused"], view["note"]) == (True, "holiday")

    filled = processes.cli(
        "schedule", "backfill", name, "--from", "2026-11-16", "--to", "2026-11-23T09:00", "--json"
    )
    assert filled.returncode == 0, filled.stderr
    assert json.loads(filled.stdout)["from"] == "2026-11-16T00:00:00+01:00"
    expected = {f"{name}-2026-11-16T08:00:00Z", f"{name}-2026-11-23T08:00:00Z"}

    def started() -> bool:
        result = processes.cli("list", "--schedule", name, "--json")
        return {row["task_id"] for row in json.loads(result.stdout)} == expected

    wait_until(started, timeout=30, what="the backfilled tasks in `taskcraft list`")
    deleted = processes.cli("schedule", "delete", name)
    assert deleted.returncode == 0, deleted.stderr
    assert_one_line_error(processes.cli("schedule", "show", name), "no schedule named")
    for task_id in expected:  # never picked up by a worker: cancel them
        processes.cli("cancel", task_id)


AGENT_FILE = """\
name = "{agent}"
description = "Says hello."
instructions = "Say hello."

[[inputs]]
name = "day"
type = "date"

[[schedules]]
name = "{schedule}"
every = "1d"
inputs = {{ day = "{{date}}" }}
"""


def test_apply_creates_declared_schedules_once(processes: Processes, tmp_path: Path) -> None:
    folder = tmp_path / "agents"
    folder.mkdir()
    agent, schedule = unique("greeter"), unique("daily-greeting")
    (folder / "greeter.toml").write_text(AGENT_FILE.format(agent=agent, schedule=schedule))
    env = {"TASKCRAFT_AGENTS": str(folder)}
    checked = processes.cli("agents", "check", str(folder), env=env)
    assert checked.returncode == 0, checked.stderr

    first = processes.cli("schedule", "apply", "--agent", agent, "--json", env=env)
    second = processes.cli("schedule", "sync", "--agent", agent, "--json", env=env)
    deleted = processes.cli("schedule", "delete", schedule, env=env)

    assert json.loads(first.stdout) == [{"schedule": schedule, "result": "created"}]
    assert json.loads(second.stdout) == [{"schedule": schedule, "result": "unchanged"}]
    assert deleted.returncode == 0, deleted.stderr


def test_agents_check_refuses_a_schedule_the_agent_would_refuse(
    processes: Processes, tmp_path: Path
) -> None:
    path = tmp_path / "greeter.toml"
    path.write_text(
        AGENT_FILE.format(agent="greeter", schedule="daily").replace("{date}", "{month}")
    )
    result = processes.cli("agents", "check", str(path))
    assert result.returncode == 2
    assert f"{path}: schedule 'daily': input day='" in result.stderr


def test_a_task_started_by_hand_gets_no_placeholders_resolved(processes: Processes) -> None:
    result = processes.cli("start", "incident-report", "--input", "week={previous_iso_week}")
    assert result.returncode == 2
    assert_one_line_error(result, "resolved only in tasks a schedule starts")
