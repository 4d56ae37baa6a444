"""The incident report as a user runs it: ``worker.py`` and ``starter.py`` as processes.

Offline (shipped sample data, offline model, the local Slack outbox). Workers are killed
with SIGKILL while the task waits for its manager, and right after the message is sent;
either way the report reaches the outbox exactly once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.e2e.conftest import PROJECT_ROOT, Processes, wait_until

APPROVERS = {"TASKCRAFT_REPORT_APPROVERS": "alice,bob"}
HEADLINE = "• *32* incidents opened: *25* resolved, *7* still open"


def _outbox(processes: Processes) -> Path:
    return Path(processes.env["TASKCRAFT_DATA_DIR"]) / "outbox" / "slack.jsonl"


def _sent(processes: Processes) -> list[dict[str, Any]]:
    path = _outbox(processes)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _status(processes: Processes, task_id: str) -> dict[str, Any]:
    result = processes.cli("status", task_id, "--json")
    return json.loads(result.stdout) if result.returncode == 0 else {}


def _start_report(processes: Processes, task_id: str) -> dict[str, Any]:
    started = processes.cli(
        "start", "incident-report", "--goal", "Weekly incident report",
        "--input", "week=2026-W47", "--id", task_id,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith(f"Started task {task_id}\n")
    state: dict[str, Any] = {}

    def at_gate() -> bool:
        state.update(_status(processes, task_id))
        return state.get("status") == "AWAITING_APPROVAL"

    wait_until(at_gate, timeout=60, what="the approval gate")
    return state


def test_report_waits_for_an_approver_survives_a_killed_worker_and_sends_once(
    processes: Processes,
) -> None:
    task_id = "weekly-report-approve"
    first = processes.start_worker(APPROVERS)
    state = _start_report(processes, task_id)
    draft = state["pending"]["draft"]
    assert state["pending"]["approvers"] == ["alice", "bob"]
    assert HEADLINE in draft
    shown = processes.cli("status", task_id)
    assert "Waiting   gate g1: send the INC incident report for 2026-W47 to Slack" in shown.stdout
    assert "Draft\n    [offline model] *Weekly incident report: 2026-W47*" in shown.stdout
    assert f"    {HEADLINE}\n" in shown.stdout

    processes.kill(first)  # nothing runs while the task waits; a new worker takes over
    processes.start_worker(APPROVERS)
    refused = processes.cli("approve", task_id, "--as", "mallory")
    assert refused.returncode == 2
    assert "'mallory' may not decide gate g1 (allowed: alice, bob)" in refused.stderr
    approved = processes.cli("approve", task_id, "--as", "alice")
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout == f"{task_id}: approve recorded for gate g1 by alice\n"

    wait_until(lambda: _status(processes, task_id).get("status") == "COMPLETED", timeout=60)
    [message] = _sent(processes)
    assert message["text"] == draft
    assert message["idempotency_key"] == f"{task_id}/3/send_slack_message-3"


def test_worker_killed_right_after_the_send_the_message_is_not_sent_again(
    processes: Processes,
) -> None:
    task_id = "weekly-report-crash"
    first = processes.start_worker(APPROVERS)
    draft = _start_report(processes, task_id)["pending"]["draft"]
    # Approve in the background and kill the worker the moment the outbox has the line,
    # usually before the send's result reaches the server (then a retry finds the line).
    approve = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "starter.py"), "approve", task_id, "--as", "bob"],
        env=processes.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not _outbox(processes).exists() and time.monotonic() < deadline:
        time.sleep(0.002)
    processes.kill(first)
    assert approve.wait(30) == 0
    processes.start_worker(APPROVERS)

    wait_until(lambda: _status(processes, task_id).get("status") == "COMPLETED", timeout=60)
    [message] = _sent(processes)
    assert message["text"] == draft
    state = _status(processes, task_id)
    [send] = state["steps"][-1]["tool_calls"]
    sent = json.loads(send["observation"])
    assert sent["sink"] == "outbox"
    # When the second worker ran the send again, it found the line and wrote nothing.
    retried = '"call_id": "send_slack_message-3"' in processes.worker_log(1)
    assert sent["already_sent"] is retried
    assert [d["approver"] for d in state["decisions"]] == ["bob"]


def test_the_issue_command_starts_the_report_without_a_goal(processes: Processes) -> None:
    result = processes.cli(
        "start", "incident-report", "--input", "week=2026-W47", "--id", "weekly-no-goal"
    )
    assert result.returncode == 0, result.stderr
