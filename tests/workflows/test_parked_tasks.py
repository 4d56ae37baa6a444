"""Waiting at a gate holds no compute: tasks park with no worker at all and lose nothing.

A parked task is a durable timer plus a condition in its history; no activity, thread or
cache entry is needed while it waits. These tests stop the worker while tasks wait,
start a new one that can hold only a few workflows in its cache (so nearly every task
is replayed from history when it wakes), and answer the gates.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from temporalio.client import WorkflowHandle

from taskcraft.agents import AgentSpec
from taskcraft.approvals import Decision, DecisionKind
from taskcraft.controls import UpdateOutcome
from taskcraft.status import TaskStatus
from taskcraft.task import TaskResult
from tests.support.fake_providers import FakeToolCall, reply
from tests.workflows.conftest import Harness

PARKED = 200
SMALL_CACHE = 20
IN_FLIGHT = 10
STALL_S = 60.0


def parker() -> AgentSpec:
    # The offline model writes summary.md when the goal says "save"; the default policy
    # holds every write for a person, so each task parks at gate g1.
    return AgentSpec.model_validate(
        {
            "name": "parker",
            "instructions": "Summarise, then save the summary.",
            "model_route": ["offline:analyst"],
            "tools": ["write_file"],
        }
    )


async def count(harness: Harness, status: TaskStatus) -> int:
    query = f"TaskQueue = '{harness.settings.task_queue}' AND TaskcraftStatus = '{status.value}'"
    return (await harness.client.count_workflows(query)).count


async def until_counted(harness: Harness, status: TaskStatus, expected: int) -> None:
    """Poll the visibility store (what the Temporal UI filters on) until it agrees.

    Fails on a stall (no task reached the status for a minute), not on a slow machine:
    a loaded CI box parks 200 tasks slowly, but steadily.
    """
    loop = asyncio.get_running_loop()
    last_seen, stalled_at = -1, loop.time() + STALL_S
    while (seen := await count(harness, status)) != expected:
        if seen != last_seen:
            last_seen, stalled_at = seen, loop.time() + STALL_S
        if loop.time() > stalled_at:
            raise AssertionError(
                f"{seen} tasks {status.value}, expected {expected}; none more in {STALL_S:.0f} s"
            )
        await asyncio.sleep(0.2)


async def until_quiet(handles: list[WorkflowHandle[Any, TaskResult]]) -> None:
    """Until no task has an activity or a workflow task outstanding: each one only waits.

    This is the claim under test (a waiting task needs nothing running), and it keeps the
    restart clean: a workflow task scheduled just before a worker stops sits on that
    worker's sticky queue until its 10 s schedule-to-start timeout moves it on.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    busy = list(handles)
    while busy:
        descriptions = await asyncio.gather(*(handle.describe() for handle in busy))
        busy = [
            handle
            for handle, description in zip(busy, descriptions, strict=True)
            if description.raw_description.pending_activities
            or description.raw_description.HasField("pending_workflow_task")
        ]
        if busy and loop.time() > deadline:
            raise AssertionError(f"{len(busy)} tasks still busy, e.g. {busy[0].id}")
        if busy:
            await asyncio.sleep(0.1)


async def test_many_parked_tasks_survive_a_worker_restart_and_all_complete(
    harness: Harness,
) -> None:
    """200 tasks park at a gate, the worker goes away, a small-cache worker returns, and
    every one is approved through the update and completes: none lost."""
    agent = parker()
    prefix = harness.settings.task_queue
    async with harness.worker([agent]):
        handles = await asyncio.gather(
            *(harness.start(agent, "save a summary", task_id=f"{prefix}-{i}") for i in range(PARKED))
        )  # fmt: skip
        await until_counted(harness, TaskStatus.AWAITING_APPROVAL, PARKED)
        await until_quiet(handles)
    # No worker runs now: the tasks wait in their histories alone.
    assert await count(harness, TaskStatus.AWAITING_APPROVAL) == PARKED

    small = replace(harness, settings=replace(harness.settings, max_cached_workflows=SMALL_CACHE))
    window = asyncio.Semaphore(IN_FLIGHT)

    async def approve(handle: WorkflowHandle[Any, TaskResult]) -> tuple[UpdateOutcome, TaskResult]:
        # A sliding window narrower than the cache: each task is replayed from history
        # once, when its decision arrives, and stays cached until it completes.
        async with window:
            outcome: UpdateOutcome = await handle.execute_update(
                "decide_and_confirm",
                Decision(kind=DecisionKind.APPROVE, approver="bulk", gate_id="g1"),
                result_type=UpdateOutcome,
            )
            return outcome, await handle.result()

    async with small.worker([agent]):
        answered = await asyncio.gather(*(approve(handle) for handle in handles))
        await until_counted(small, TaskStatus.COMPLETED, PARKED)
        sample = await small.state(handles[PARKED // 2])
    outcomes = [outcome for outcome, _ in answered]
    results = [result for _, result in answered]
    assert [(o.applied, o.gate_id) for o in outcomes] == [(True, "g1")] * PARKED
    assert sorted(r.task_id for r in results) == sorted(h.id for h in handles)
    assert [r.status for r in results] == [TaskStatus.COMPLETED] * PARKED
    assert await count(small, TaskStatus.AWAITING_APPROVAL) == 0
    assert [(d.gate_id, d.approver, d.applied) for d in sample.decisions] == [("g1", "bulk", True)]
    assert sample.usage.tool_calls == 1  # the approved write ran once, after the restart


async def test_worker_restart_during_a_wait_changes_nothing(harness: Harness) -> None:
    """A task's record is the same before and after its worker is replaced mid-wait, and
    the model is not called again for the step that was already answered."""
    model = harness.model()
    harness.providers.script(
        reply("", [FakeToolCall("write_file", {"path": "o.txt", "content": "x"}, id="w1")]),
        reply("done"),
        model=model,
    )
    agent = AgentSpec.model_validate(
        {
            "name": "writer",
            "instructions": "Write.",
            "model_route": [f"openai:{model}"],
            "tools": ["write_file"],
        }
    )
    async with harness.worker([agent]):
        handle = await harness.start(agent)
        before = await harness.wait_for(handle, lambda s: s.pending is not None)
        await until_quiet([handle])
    uncached = replace(harness, settings=replace(harness.settings, max_cached_workflows=0))
    async with uncached.worker([agent]):
        after = await uncached.state(handle)
        await handle.execute_update(
            "decide_and_confirm",
            Decision(kind=DecisionKind.APPROVE, approver="alice"),
            result_type=UpdateOutcome,
        )
        result = await handle.result()
    assert after.model_dump() == before.model_dump()
    assert after.status is TaskStatus.AWAITING_APPROVAL
    assert result.status is TaskStatus.COMPLETED
    assert (harness.workspace / "o.txt").read_text() == "x"
    assert harness.providers.count(model=model) == 2
