"""Record histories from real runs, for the replay test. Run by hand when adding a scenario:

    python -m tests.histories.record

Never re-record to make a failing replay pass: a failing replay means a workflow change
would break tasks already running, and needs ``workflow.patched`` instead.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client, WorkflowHandle

from infra.settings import Settings
from infra.worker_factory import build_worker
from taskcraft.approvals import Decision, DecisionKind
from taskcraft.catalog import find_agent
from taskcraft.status import TaskStatus
from taskcraft.task import TaskInput, TaskResult, TaskState
from tests.support.temporal import start_dev_server

HERE = Path(__file__).parent


async def _wait_for_gate(handle: WorkflowHandle[Any, Any]) -> TaskState:
    while True:
        state: TaskState = await handle.query("state", result_type=TaskState)
        if state.status is TaskStatus.AWAITING_APPROVAL:
            return state
        await asyncio.sleep(0.1)


async def _scenario(
    client: Client,
    settings: Settings,
    agent: str,
    goal: str,
    decision: Decision | None,
    inputs: dict[str, str] | None = None,
) -> str:
    spec = find_agent(agent)
    handle = await client.start_workflow(
        spec.workflow,
        TaskInput(agent=agent, goal=goal, inputs=inputs or {}),
        id=f"record-{agent}-{uuid.uuid4().hex[:6]}",
        task_queue=settings.task_queue,
        result_type=TaskResult,
    )
    if decision is not None:
        await _wait_for_gate(handle)
        await handle.execute_update("decide_and_confirm", decision)
    await handle.result()
    history = await handle.fetch_history()
    return history.to_json()


async def main() -> None:
    env = await start_dev_server()
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder) / "workspace"
        workspace.mkdir()
        (workspace / "notes.md").write_text("# Notes\nShip the release on Friday.\n")
        (workspace / "todo.txt").write_text("write docs\nfix flaky test\n")
        settings = Settings(
            data_dir=Path(folder) / "data", workspace=workspace, task_queue="record"
        )
        client = await Client.connect(
            env.client.service_client.config.target_host, data_converter=env.client.data_converter
        )
        scenarios = {
            "analyst_approved_write": (
                "workspace-analyst",
                "Summarise the files and save the summary to a file.",
                Decision(kind=DecisionKind.APPROVE, approver="alice"),
                None,
            ),
            "analyst_rejected_write": (
                "workspace-analyst",
                "Summarise the files and save the summary to a file.",
                Decision(kind=DecisionKind.REJECT, approver="bob", reason="no files, please"),
                None,
            ),
            "analyst_read_only": ("workspace-analyst", "What do the files say?", None, None),
            "incident_report_approved": (
                "incident-report",
                "Weekly incident report for 2026-W47",
                Decision(kind=DecisionKind.APPROVE, approver="carol", comment="ship it"),
                {"week": "2026-W47"},
            ),
        }
        # The incident report on the shipped sample data, sent to the local outbox.
        os.environ.update({"TASKCRAFT_SAMPLE_DATA": "1", "TASKCRAFT_REPORT_APPROVERS": "carol"})
        for variable in ("SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN", "TASKCRAFT_MODEL"):
            os.environ.pop(variable, None)
        async with httpx.AsyncClient() as http, build_worker(client, settings, http):
            for name, (agent, goal, decision, inputs) in scenarios.items():
                text = await _scenario(client, settings, agent, goal, decision, inputs)
                (HERE / f"{name}.json").write_text(text)
                print(f"recorded {name}")
    await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
