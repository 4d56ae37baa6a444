"""Answering a gate from the command line, as an operator does: pending, approve, refusals.

The worker runs ``workspace-analyst`` on a model scripted at the loopback provider to
write a file; the task runs under a policy (written here) that holds writes for alice.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Processes, wait_until
from tests.e2e.test_cli_errors import assert_one_line_error
from tests.support.fake_providers import FakeProviders, FakeToolCall, reply

pytestmark = pytest.mark.e2e

GATED_POLICY = """
name = "gated"
description = "Reads are free; alice approves every write."
default_effect = "deny"

[[rules]]
id = "list"
tool = "list_files"
effect = "allow"

[[rules]]
id = "writes-need-alice"
tool = "write_file"
effect = "require_approval"
reason = "alice reviews every file the agent writes"
approvers = ["alice"]
"""


def test_operator_answers_a_gate_from_the_cli(
    processes: Processes, e2e_providers: FakeProviders
) -> None:
    """``pending`` lists the waiting task; refusals are one line and exit 2; approve finishes it."""
    model = f"cli-gate-{uuid.uuid4().hex[:8]}"
    task_id = f"cli-gate-{model}"
    e2e_providers.script(
        reply("Saving.", [FakeToolCall("write_file", {"path": "out.md", "content": "# Hi"})]),
        reply("Saved out.md."),
        model=model,
    )
    policies = processes.folder / "policies"
    policies.mkdir()
    (policies / "gated.toml").write_text(GATED_POLICY)
    # Workers and the CLI share the policy folders (the CLI checks --policy before starting).
    processes.env["TASKCRAFT_POLICY_DIRS"] = str(policies)
    processes.start_worker({"TASKCRAFT_MODEL": f"openai:{model}"})
    started = processes.cli(
        "start", "workspace-analyst", "--goal", "save a note", "--id", task_id, "--policy", "gated"
    )
    assert started.returncode == 0, started.stderr

    def pending_rows() -> list[dict[str, str]]:
        listed = processes.cli("pending", "--json")
        assert listed.returncode == 0, listed.stderr
        rows: list[dict[str, str]] = json.loads(listed.stdout)
        return [row for row in rows if row["task_id"] == task_id]

    # Cheap polls first (each CLI call is a process): the model has proposed the write.
    wait_until(lambda: e2e_providers.count(model=model) == 1, timeout=60, what="the first turn")
    wait_until(lambda: bool(pending_rows()), timeout=60, what="the task in `taskcraft pending`")
    [row] = pending_rows()
    assert row["status"] == "AWAITING_APPROVAL"
    assert row["waiting_for"] == "gate g1: run write_file"
    assert row["approvers"] == "alice"
    text = processes.cli("pending")
    assert task_id in text.stdout
    assert "gate g1: run write_file (who: alice)" in text.stdout

    no_reason = processes.cli("reject", task_id, "--as", "alice")
    assert no_reason.returncode == 2
    assert_one_line_error(no_reason, "--reason")

    intruder = processes.cli("approve", task_id, "--as", "mallory")
    assert intruder.returncode == 2
    assert_one_line_error(intruder, "refused: 'mallory' may not decide gate g1 (allowed: alice)")

    approved = processes.cli("approve", task_id, "--as", "alice", "--comment", "looks right")
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.strip() == f"{task_id}: approve recorded for gate g1 by alice"

    def status() -> dict[str, Any]:
        shown = processes.cli("status", task_id, "--json")
        assert shown.returncode == 0, shown.stderr
        state: dict[str, Any] = json.loads(shown.stdout)
        return state

    wait_until(lambda: e2e_providers.count(model=model) == 2, timeout=60, what="the last turn")
    wait_until(lambda: status()["status"] == "COMPLETED", timeout=60, what="completion")
    state = status()
    assert state["result"] == "Saved out.md."
    assert Path(processes.folder / "workspace" / "out.md").read_text() == "# Hi"
    [decision] = state["decisions"]
    assert (decision["approver"], decision["comment"], decision["via"]) == (
        "alice",
        "looks right",
        "update",
    )

    late = processes.cli("approve", task_id, "--as", "alice")
    assert late.returncode == 2
    assert_one_line_error(late, "refused: task is already COMPLETED")
    assert not pending_rows()
