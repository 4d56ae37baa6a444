"""The incident report waits hours for its manager, on the time-skipping test server.

The wait is a durable timer plus a condition: hours pass (skipped, not slept) with the
task still AWAITING_APPROVAL, the approval then sends once; with no decision at all the
gate's three days run out and the task ends FAILED without sending anything.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from report_worker import CONNECTOR_VARIABLES, EXAMPLE, INCIDENT_REPORT
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from infra.catalog import load_catalog
from infra.settings import Settings
from infra.worker_factory import build_worker
from taskcraft.approvals import Decision, DecisionKind
from taskcraft.status import TaskStatus
from taskcraft.task import TaskInput, TaskResult, TaskState


async def _start(env: WorkflowEnvironment, settings: Settings) -> WorkflowHandle[Any, TaskResult]:
    return await env.client.start_workflow(
        INCIDENT_REPORT.workflow,
        TaskInput(agent=INCIDENT_REPORT.name, goal="Weekly report", inputs={"week": "2026-W47"}),
        id=f"long-{uuid.uuid4().hex[:8]}",
        task_queue=settings.task_queue,
        result_type=TaskResult,
    )


async def _awaiting_approval(handle: WorkflowHandle[Any, Any]) -> TaskState:
    for _ in range(400):
        try:
            state = await handle.query(
                "state", result_type=TaskState, rpc_timeout=timedelta(seconds=5)
            )
        except Exception:  # the first workflow task may not have run yet
            state = None
        if state is not None and state.pending is not None:
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"the task never reached its gate; last state: {state}")


@pytest.fixture(autouse=True)
def _no_host_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pin activity reads this process's environment: keep the host's out of it."""
    for name in (*CONNECTOR_VARIABLES, "TASKCRAFT_REPORT_APPROVERS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def settings(skipping_data_dir: Path, tmp_path: Path) -> Settings:
    return replace(
        Settings.from_env({"TASKCRAFT_DATA_DIR": str(skipping_data_dir)}),
        task_queue=f"long-{uuid.uuid4().hex[:8]}",
        data_dir=skipping_data_dir,  # the client's converter stores large payloads here too
        workspace=tmp_path / "workspace",
    )


def _outbox(skipping_data_dir: Path) -> list[dict[str, Any]]:
    path = skipping_data_dir / "outbox" / "slack.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_approval_after_six_hours_sends_the_draft_once(
    skipping_env: WorkflowEnvironment, settings: Settings, skipping_data_dir: Path
) -> None:
    async with (
        httpx.AsyncClient() as http,
        build_worker(skipping_env.client, settings, http, catalog=load_catalog([EXAMPLE])),
    ):
        handle = await _start(skipping_env, settings)
        waiting = await _awaiting_approval(handle)
        await skipping_env.sleep(timedelta(hours=6))
        later = await handle.query("state", result_type=TaskState)
        await handle.signal("decide", Decision(kind=DecisionKind.APPROVE, approver="carol"))
        result = await handle.result()
    assert waiting.pending is not None
    assert later.status is TaskStatus.AWAITING_APPROVAL
    assert later.pending == waiting.pending
    assert await skipping_env.get_current_time() - waiting.pending.asked_at >= timedelta(hours=6)
    assert result.status is TaskStatus.COMPLETED
    sent = [
        line for line in _outbox(skipping_data_dir) if line["idempotency_key"].startswith(handle.id)
    ]
    assert [line["text"] for line in sent] == [waiting.pending.draft]


async def test_no_decision_in_three_days_fails_the_task_and_sends_nothing(
    skipping_env: WorkflowEnvironment, settings: Settings, skipping_data_dir: Path
) -> None:
    async with (
        httpx.AsyncClient() as http,
        build_worker(skipping_env.client, settings, http, catalog=load_catalog([EXAMPLE])),
    ):
        handle = await _start(skipping_env, settings)
        waiting = await _awaiting_approval(handle)
        with pytest.raises(WorkflowFailureError):
            await handle.result()  # the server skips the 72 hours
        state = await handle.query("state", result_type=TaskState)
    assert waiting.pending is not None
    assert waiting.pending.timeout_at - waiting.pending.asked_at == timedelta(hours=72)
    assert state.status is TaskStatus.FAILED
    assert state.error == "gate g1 timed out with no decision"
    assert [
        line for line in _outbox(skipping_data_dir) if line["idempotency_key"].startswith(handle.id)
    ] == []
