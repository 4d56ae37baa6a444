"""The read-only views, as a user runs them: status, history, audit and list (text and JSON)."""

from __future__ import annotations

import json
import uuid

from tests.e2e.conftest import Processes
from tests.support.fake_providers import FakeProviders, FakeToolCall, reply


def test_status_history_audit_and_list(processes: Processes, e2e_providers: FakeProviders) -> None:
    model = f"views-{uuid.uuid4().hex[:8]}"
    e2e_providers.script(
        reply(
            "Cleaning up first.",
            [FakeToolCall("write_file", {"path": "../../etc/cron.d/x", "content": "x"}, id="v1")],
        ),
        reply("Listing instead.", [FakeToolCall("list_files", {"path": "."}, id="v2")]),
        reply("Nothing to clean."),
        model=model,
    )
    processes.start_worker({"TASKCRAFT_MODEL": f"openai:{model}"})
    task_id = f"views-{model}"
    started = processes.cli(
        "start", "workspace-analyst", "--goal", "tidy up", "--id", task_id, "--wait"
    )
    assert started.returncode == 0, started.stderr
    assert "COMPLETED after 3 steps" in started.stdout

    audit = json.loads(processes.cli("audit", task_id, "--json").stdout)
    assert [(d["tool"], d["effect"]) for d in audit["decisions"]] == [
        ("write_file", "deny"),
        ("list_files", "allow"),
    ]
    assert audit["decisions"][0]["rule_id"] == "paths-stay-in-workspace"
    assert audit["policy"] == "default"
    assert len(audit["policy_hash"]) == 64
    text = processes.cli("audit", task_id).stdout
    assert "write_file → deny (rule paths-stay-in-workspace)" in text

    history = json.loads(processes.cli("history", task_id, "--json").stdout)
    assert [s["text"] for s in history["steps"]] == [
        "Cleaning up first.",
        "Listing instead.",
        "Nothing to clean.",
    ]
    assert history["steps"][0]["tool_calls"][0]["outcome"] == "denied"
    readable = processes.cli("history", task_id).stdout
    assert "action:  write_file" in readable
    assert "observe: [denied]" in readable

    status = processes.cli("status", task_id).stdout
    assert "Status    COMPLETED" in status
    assert f"openai:{model}" in status

    listed = json.loads(
        processes.cli(
            "list", "--status", "completed", "--agent", "workspace-analyst", "--json"
        ).stdout
    )
    assert task_id in [row["task_id"] for row in listed]
    assert all(row["status"] == "COMPLETED" for row in listed)
