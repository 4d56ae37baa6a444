"""Record histories from real runs, for the replay test. Run by hand when adding a scenario:

    python -m tests.histories.record                 # every scenario not yet recorded
    python -m tests.histories.record NAME [NAME ...]  # just these (still never overwrites)

Never re-record to make a failing replay pass: a failing replay means a workflow change
would break tasks already running, and needs ``workflow.patched`` instead. A scenario
whose file exists is skipped; delete the file by hand only when the scenario itself is
wrong, never because the current code no longer replays it.

Each scenario runs one task on a real dev server with a real worker, against the offline
model or a loopback provider (``tests.support.fake_providers``) scripted to fail, and
saves every run of the task (continue-as-new gives several) as ``NAME.json`` or
``NAME.runN.json``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client, WorkflowHandle

from infra.settings import Settings
from infra.worker_factory import build_worker
from tests.histories.scenarios import SCENARIOS, SHIPPED, Recording, Scenario
from tests.support.fake_providers import FakeProviders
from tests.support.temporal import start_dev_server

HERE = Path(__file__).parent


async def _save_runs(client: Client, handle: WorkflowHandle[Any, Any], name: str) -> list[Path]:
    """Every run of the task, oldest first: one file, or one per run after continue-as-new.

    Child tasks its agent called are saved beside it, as ``NAME.child-<agent>-<step>-<n>``.
    """
    runs: list[str] = []
    children: list[str] = []
    async for execution in client.list_workflows(f"WorkflowId = '{handle.id}'"):
        runs.append(execution.run_id)
    async for execution in client.list_workflows(f"ParentWorkflowId = '{handle.id}'"):
        children.append(execution.id)
    histories = []
    for run_id in runs:
        history = await client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
        histories.append(history)
    histories.sort(key=lambda h: h.events[0].event_time.ToDatetime())
    if len(histories) == 1:
        paths = [HERE / f"{name}.json"]
    else:
        paths = [HERE / f"{name}.run{i}.json" for i in range(1, len(histories) + 1)]
    for path, history in zip(paths, histories, strict=True):
        path.write_text(history.to_json())
    for child_id in sorted(children):
        child = client.get_workflow_handle(child_id)
        paths += await _save_runs(client, child, f"{name}.child-{child_id.rsplit('/', 1)[-1]}")
    return paths


async def record(selected: list[str]) -> None:
    env = await start_dev_server()
    try:
        with tempfile.TemporaryDirectory() as folder, FakeProviders() as providers:
            workspace = Path(folder) / "workspace"
            workspace.mkdir()
            (workspace / "notes.md").write_text("# Notes\nShip the release on Friday.\n")
            (workspace / "todo.txt").write_text("write docs\nfix flaky test\n")
            settings = Settings(
                data_dir=Path(folder) / "data",
                workspace=workspace,
                task_queue="record",
                env={
                    "OPENAI_BASE_URL": providers.openai_base_url,
                    "OPENAI_API_KEY": "test-key",
                    "ANTHROPIC_BASE_URL": providers.anthropic_base_url,
                    "ANTHROPIC_API_KEY": "test-key",
                    # The incident report on the shipped sample data, sent to the outbox.
                    "TASKCRAFT_SAMPLE_DATA": "1",
                    "TASKCRAFT_REPORT_APPROVERS": "carol",
                },
            )
            client = await Client.connect(
                env.client.service_client.config.target_host,
                data_converter=env.client.data_converter,
            )
            recording = Recording(client, settings, providers)
            todo: list[Scenario] = [
                s for s in SCENARIOS if (not selected or s.name in selected) and not _exists(s)
            ]
            for scenario in SCENARIOS:  # the shipped agents, and variants of them
                SHIPPED.agents.update({agent.name: agent for agent in scenario.agents})
            async with (
                httpx.AsyncClient() as http,
                build_worker(client, settings, http, catalog=SHIPPED),
            ):
                for scenario in todo:
                    handle = await scenario.run(recording)
                    for path in await _save_runs(client, handle, scenario.name):
                        print(f"recorded {path.name}")
            for scenario in SCENARIOS:
                if scenario not in todo and (not selected or scenario.name in selected):
                    print(f"kept {scenario.name} (already recorded)")
    finally:
        await env.shutdown()


def _exists(scenario: Scenario) -> bool:
    return (HERE / f"{scenario.name}.json").exists() or (
        HERE / f"{scenario.name}.run1.json"
    ).exists()


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:]))
