"""A turn's tool calls run at once: results in the model's order, gates one at a time,
allowed calls never held up by a gated one, budgets counting every call of the turn."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle

from taskcraft.agents import AgentSpec
from taskcraft.approvals import Decision, DecisionKind
from taskcraft.status import TaskStatus
from taskcraft.task import TaskState, ToolOutcome
from taskcraft.tools import ToolContext, tool
from tests.support.fake_providers import FakeToolCall, reply
from tests.workflows.conftest import Harness


class Concurrency:
    """How many calls of ``work`` ran at the same time, at most."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0

    def reset(self) -> None:
        self.running = self.most = 0


SEEN = Concurrency()


@tool(side_effects="none")
async def work(n: int, ctx: ToolContext) -> str:
    """Do a unit of work that takes a moment."""
    SEEN.running += 1
    SEEN.most = max(SEEN.most, SEEN.running)
    try:
        # Long enough that calls started together overlap (the subject of these tests).
        await asyncio.sleep(0.3)
    finally:
        SEEN.running -= 1
    return f"work {n} done"


@tool(requires_approval=True, side_effects="idempotent")
async def publish(n: int) -> str:
    """Publish item n; a person approves each one."""
    return f"published {n}"


@pytest.fixture(autouse=True)
def open_policy(harness: Harness, tmp_path: Path) -> None:
    harness.allow_every_call(tmp_path / "policies")
    SEEN.reset()


def agent(harness: Harness, model: str, **overrides: Any) -> AgentSpec:
    return AgentSpec.model_validate(
        {
            "name": "worker-bee",
            "instructions": "Do the work.",
            "model_route": [f"openai:{model}"],
            "tools": ["work", "publish"],
            "policy": "open",
            **overrides,
        }
    )


def calls(*specs: tuple[str, int]) -> list[FakeToolCall]:
    return [FakeToolCall(name, {"n": n}, id=f"{name}-{n}") for name, n in specs]


async def scheduled_together(handle: WorkflowHandle[Any, Any]) -> list[int]:
    """How many tool activities each workflow task scheduled (1s: one after another)."""
    history = await handle.fetch_history()
    per_task: Counter[int] = Counter()
    for event in history.events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            attributes = event.activity_task_scheduled_event_attributes
            if attributes.activity_type.name == "taskcraft.tool.run":
                per_task[attributes.workflow_task_completed_event_id] += 1
    return sorted(per_task.values(), reverse=True)


async def test_a_turns_calls_run_at_once_and_answer_in_the_models_order(
    harness: Harness,
) -> None:
    model = harness.model()
    harness.providers.script(
        reply("", calls(("work", 1), ("work", 2), ("work", 3), ("work", 4))),
        reply("all done"),
        model=model,
    )
    spec = agent(harness, model)
    async with harness.worker([spec], tools=[work, publish]):
        handle = await harness.start(spec)
        await handle.result()
        state = await harness.state(handle)
    assert await scheduled_together(handle) == [4]
    assert SEEN.most == 4
    [step, _] = state.steps
    assert [(c.call_id, c.observation) for c in step.tool_calls] == [
        (f"work-{n}", f"work {n} done") for n in (1, 2, 3, 4)
    ]
    # The model got the observations in its own order.
    second = harness.providers.requests(model=model)[1].body["messages"]
    assert [m["tool_call_id"] for m in second if m["role"] == "tool"] == [
        "work-1",
        "work-2",
        "work-3",
        "work-4",
    ]


async def test_the_agents_limit_caps_how_many_run_at_once(harness: Harness) -> None:
    model = harness.model()
    harness.providers.script(
        reply("", calls(("work", 1), ("work", 2), ("work", 3), ("work", 4))),
        reply("all done"),
        model=model,
    )
    spec = agent(harness, model, max_parallel_tool_calls=2)
    async with harness.worker([spec], tools=[work, publish]):
        handle = await harness.start(spec)
        await handle.result()
    assert SEEN.most == 2


def _at(gate: str) -> Any:
    return lambda s: s.pending is not None and s.pending.gate_id == gate


async def test_gated_calls_wait_one_at_a_time_and_never_hold_up_the_allowed_ones(
    harness: Harness,
) -> None:
    model = harness.model()
    harness.providers.script(
        reply("", calls(("publish", 1), ("work", 1), ("publish", 2), ("work", 2))),
        reply("published"),
        model=model,
    )
    spec = agent(harness, model)
    async with harness.worker([spec], tools=[work, publish]):
        handle = await harness.start(spec)

        def works_done(state: TaskState) -> bool:
            outcomes = [c.outcome for c in state.steps[0].tool_calls if c.name == "work"]
            return _at("g1")(state) and outcomes == [ToolOutcome.OK, ToolOutcome.OK]

        first = await harness.wait_for(handle, works_done)
        await handle.execute_update(
            "decide_and_confirm", Decision(kind=DecisionKind.APPROVE, approver="alice")
        )
        second = await harness.wait_for(handle, _at("g2"))
        await handle.execute_update(
            "decide_and_confirm",
            Decision(kind=DecisionKind.REJECT, approver="alice", reason="not this one"),
        )
        result = await handle.result()
        state = await harness.state(handle)
    assert result.status is TaskStatus.COMPLETED
    assert first.pending is not None
    assert first.pending.arguments == {"n": 1}
    assert second.pending is not None
    assert second.pending.arguments == {"n": 2}
    outcomes = [(c.call_id, c.outcome) for c in state.steps[0].tool_calls]
    assert outcomes == [
        ("publish-1", ToolOutcome.OK),
        ("work-1", ToolOutcome.OK),
        ("publish-2", ToolOutcome.REJECTED),
        ("work-2", ToolOutcome.OK),
    ]


async def test_a_per_tool_budget_counts_every_call_of_the_turn(harness: Harness) -> None:
    model = harness.model()
    harness.providers.script(
        reply("", calls(("work", 1), ("work", 2), ("work", 3))),
        reply("done"),
        model=model,
    )
    spec = agent(harness, model, budgets={"max_tool_calls_per_tool": {"work": 2}})
    async with harness.worker([spec], tools=[work, publish]):
        handle = await harness.start(spec)
        await handle.result()
        state = await harness.state(handle)
    outcomes = [(c.call_id, c.outcome) for c in state.steps[0].tool_calls]
    assert outcomes == [
        ("work-1", ToolOutcome.OK),
        ("work-2", ToolOutcome.OK),
        ("work-3", ToolOutcome.DENIED),
    ]
    assert (
        state.steps[0]
        .tool_calls[2]
        .observation.startswith("Refused: budget max_tool_calls_per_tool[work] exhausted")
    )
    assert state.usage.tool_calls == 2
    assert await scheduled_together(handle) == [2]
