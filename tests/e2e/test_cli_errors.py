"""The CLI's error paths, run as a user runs them: one line on stderr, non-zero, no traceback."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Processes


def assert_one_line_error(result: object, contains: str) -> None:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert result.returncode != 0  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    lines = [line for line in stderr.strip().splitlines() if line]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ")
    assert contains in lines[0], lines[0]


def test_unknown_agent(processes: Processes) -> None:
    result = processes.cli("start", "no-such-agent", "--goal", "x")
    assert_one_line_error(result, "unknown agent 'no-such-agent'")


def test_bad_input_pair(processes: Processes) -> None:
    result = processes.cli("start", "workspace-analyst", "--goal", "x", "--input", "novalue")
    assert_one_line_error(result, "must look like KEY=VALUE")


def test_unknown_task_id(processes: Processes) -> None:
    for command in (["status", "nope-123"], ["history", "nope-123"], ["cancel", "nope-123"]):
        result = processes.cli(*command)
        assert_one_line_error(result, "no task with id 'nope-123'")


def test_unreachable_server(processes: Processes) -> None:
    result = processes.cli("status", "x", env={"TEMPORAL_ADDRESS": "127.0.0.1:1"})
    assert_one_line_error(result, "cannot reach the Temporal server at 127.0.0.1:1")


def test_missing_required_argument(processes: Processes) -> None:
    result = processes.cli("reject", "some-task")
    assert_one_line_error(result, "--reason")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--status", "SLEEPING"], "unknown status 'SLEEPING'"),
        (["edit", "some-task", "--args", "{broken"], "--args is not valid JSON"),
    ],
)
def test_bad_arguments(processes: Processes, args: list[str], message: str) -> None:
    assert_one_line_error(processes.cli(*args), message)


def test_bad_setting_is_named(processes: Processes) -> None:
    result = processes.cli("list", env={"TASKCRAFT_MODEL": "gpt-4o"})
    assert_one_line_error(result, "TASKCRAFT_MODEL")
