"""Continue-as-new keeps the task whole: id, status, search attributes, gates, budgets, timeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel
from temporalio.client import WorkflowUpdateFailedError

from cli.render import render_audit, render_history
from taskcraft.agents import AgentSpec
from taskcraft.approvals import Decision, DecisionKind, GateKind
from taskcraft.controls import ControlAction, ControlRequest, UpdateOutcome
from taskcraft.status import TaskStatus
from taskcraft.tools import Tool, ToolContext
from tests.support.fake_providers import FakeToolCall, Step, reply
from tests.workflows.conftest import Harness
from workflows.search_attributes import AGENT, STATUS


class CountArgs(BaseModel):
    i: int = 0


async def _count(args: CountArgs, context: ToolContext) -> str:
    return f"counted {args.i}"


TOOLS: list[Tool[CountArgs]] = [
    Tool(name="noop", description="Does nothing.", args_model=CountArgs, run=_count),
    Tool(
        name="gated",
        description="Does nothing, after a human says so.",
        args_model=CountArgs,
        run=_count,
        requires_approval=True,
    ),
]


@pytest.fixture(autouse=True)
def open_policy(harness: Harness, tmp_path: Path) -> None:
    """A policy that allows every call, so only the ``gated`` tool's own flag asks a person."""
    harness.allow_every_call(tmp_path / "policies")


def looper(model: str, **overrides: object) -> AgentSpec:
    return AgentSpec.model_validate(
        {
            "name": "looper",
            "instructions": "Call the tools you are told to.",
            "model_route": [f"openai:{model}"],
            "tools": ["noop", "gated"],
            "policy": "open",
            **overrides,
        }
    )


def call(tool: str, i: int) -> Step:
    return reply("", [FakeToolCall(tool, {"i": i}, id=f"call-{i}")])


async def decide(harness: Harness, task_id: str, decision: Decision) -> UpdateOutcome:
    handle = harness.client.get_workflow_handle(task_id)
    outcome: UpdateOutcome = await handle.execute_update(
        "decide_and_confirm", decision, result_type=UpdateOutcome
    )
    return outcome


async def test_task_survives_continue_as_new_with_gates_usage_and_one_timeline(
    harness: Harness,
) -> None:
    """Five steps over three runs: decisions, usage, search attributes and history carry over."""
    model = harness.model()
    harness.providers.script(
        call("gated", 1),  # run 1: gate g1
        call("noop", 2),
        call("noop", 3),  # run 2
        call("gated", 4),  # run 2: gate g2
        reply("all five done"),  # run 3
        model=model,
    )
    agent = looper(model, continue_as_new_after_steps=2)
    async with harness.worker([agent], tools=TOOLS):
        handle = await harness.start(agent, "count to five")
        task_id = handle.id
        first_run = (await handle.describe()).run_id
        await harness.wait_for(handle, lambda s: s.pending is not None)
        await decide(harness, task_id, Decision(kind=DecisionKind.APPROVE, approver="alice"))

        # The handle names no run, so it follows the task to its newest run.
        parked = await harness.wait_for(
            handle, lambda s: s.pending is not None and s.pending.gate_id == "g2"
        )
        # Parked at a gate in the second run: same task id, a new run, status and SA intact.
        assert parked.status is TaskStatus.AWAITING_APPROVAL
        assert parked.step == 4
        assert len(parked.previous_run_ids) == 1
        assert parked.previous_run_ids[0] == first_run
        assert [s.step for s in parked.steps] == [3, 4]
        description = await handle.describe()
        assert description.run_id != first_run
        assert description.typed_search_attributes.get(STATUS) == "AWAITING_APPROVAL"
        assert description.typed_search_attributes.get(AGENT) == "looper"
        # The first run's decision came along: g1 cannot be decided again.
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await decide(
                harness, task_id, Decision(kind=DecisionKind.APPROVE, approver="x", gate_id="g1")
            )
        assert "gate g1 was already decided" in str(refused.value.cause)
        await decide(harness, task_id, Decision(kind=DecisionKind.APPROVE, approver="bob"))

        result = await handle.result()
        final = await harness.state(handle)
        runs = await harness.taskcraft().runs(task_id)
        description = await handle.describe()

    assert result.status is TaskStatus.COMPLETED
    assert result.result == "all five done"
    assert result.steps == 5
    assert description.typed_search_attributes.get(STATUS) == "COMPLETED"
    assert len(final.previous_run_ids) == 2
    assert final.previous_run_ids[0] == first_run
    assert [(d.gate_id, d.approver, d.applied) for d in final.decisions] == [
        ("g1", "alice", True),
        ("g2", "bob", True),
    ]
    assert final.gate_seq == 2
    assert final.usage.steps == 5
    assert final.usage.tool_calls == 4
    assert final.usage.tool_calls_by_tool == {"gated": 2, "noop": 2}
    assert final.usage.tokens.total_tokens == 5 * 18
    # One timeline across the three runs, in order, each step exactly once.
    assert [[s.step for s in run.steps] for run in runs] == [[1, 2], [3, 4], [5]]
    assert [r.step for run in runs for r in run.audit] == [1, 2, 3, 4]
    timeline = render_history(runs)
    assert [line.split(" ·")[0] for line in timeline.splitlines() if line.startswith("Step ")] == [
        f"Step {n}" for n in range(1, 6)
    ]
    assert "alice approved gate g1" in timeline
    assert "bob approved gate g2" in timeline
    assert render_audit(runs).count(" → allow (rule default)") == 4
    # The conversation travelled by reference: the last turn saw all four observations.
    last = harness.providers.requests(model=model)[-1].body["messages"]
    assert [m["content"] for m in last if m["role"] == "tool"] == [
        f"counted {i}" for i in range(1, 5)
    ]


async def test_budget_usage_carries_across_runs(harness: Harness) -> None:
    """A new run every step still stops at max_steps: usage is not reset by continue-as-new."""
    model = harness.model()
    harness.providers.set_default(call("noop", 0), model=model)
    agent = looper(model, continue_as_new_after_steps=1, max_steps=3)
    async with harness.worker([agent], tools=TOOLS):
        handle = await harness.start(agent)
        state = await harness.wait_for(handle, lambda s: s.status.is_terminal)
    assert state.status is TaskStatus.FAILED
    assert state.error == "budget max_steps exhausted: 3 of 3 steps used"
    assert len(state.previous_run_ids) == 2
    assert state.usage.tool_calls == 3
    assert harness.providers.count(model=model) == 3


async def test_pause_asked_at_a_budget_gate_is_not_lost_to_continue_as_new(
    harness: Harness,
) -> None:
    """Pause while a budget gate holds the task, then approve: the task pauses, it does not run on."""
    model = harness.model()
    harness.providers.set_default(call("noop", 0), model=model)
    agent = looper(
        model, continue_as_new_after_steps=1, max_steps=1, budgets={"on_exhausted": "ask"}
    )
    async with harness.worker([agent], tools=TOOLS):
        handle = await harness.start(agent)
        gate = await harness.wait_for(handle, lambda s: s.pending is not None)
        assert gate.pending is not None
        assert gate.pending.kind is GateKind.BUDGET
        await handle.execute_update(
            "control",
            ControlRequest(action=ControlAction.PAUSE, by="carol"),
            result_type=UpdateOutcome,
        )
        await decide(harness, handle.id, Decision(kind=DecisionKind.APPROVE, approver="carol"))
        paused = await harness.wait_for(handle, lambda s: s.status is not TaskStatus.RUNNING)
        await handle.terminate("test over")
    assert paused.status is TaskStatus.PAUSED
    assert paused.paused_by == "carol"
    assert paused.step == 2
