"""Agents that call agents: each call is a child task with its own id, history and gates.

A parent's model calls ``call_agent_<name>``; the child runs as a child workflow, its
answer (or its failure) comes back as the observation, its spending adds to the
parent's, the parent's remaining budget and policy cap it, and cancelling or pausing the
parent reaches it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle

from taskcraft.agents import AgentSpec
from taskcraft.controls import ControlAction, ControlRequest
from taskcraft.status import TaskStatus
from taskcraft.task import TaskState, ToolOutcome
from taskcraft.tools import tool
from tests.support.fake_providers import FakeToolCall, reply
from tests.workflows.conftest import Harness

RAN: Counter[str] = Counter()


@tool(requires_approval=True, side_effects="idempotent")
async def publish(text: str) -> str:
    """Publish a text; a person approves each one."""
    RAN[f"publish:{text}"] += 1
    return f"published {text}"


@tool(side_effects="none")
async def note(text: str) -> str:
    """Write a note to yourself."""
    RAN[f"note:{text}"] += 1
    return "noted"


TOOLS = [publish, note]


@pytest.fixture(autouse=True)
def open_policy(harness: Harness, tmp_path: Path) -> None:
    harness.allow_every_call(tmp_path / "policies")
    RAN.clear()


def agent(name: str, model: str, **fields: Any) -> AgentSpec:
    return AgentSpec.model_validate(
        {
            "name": name,
            "description": f"The {name}.",
            "instructions": f"You are the {name}.",
            "model_route": [f"openai:{model}"],
            "tools": ["publish", "note"],
            "policy": "open",
            **fields,
        }
    )


def ask(agent_name: str, goal: str, call_id: str, **inputs: Any) -> FakeToolCall:
    return FakeToolCall(f"call_agent_{agent_name}", {"goal": goal, **inputs}, id=call_id)


def child(
    harness: Harness, parent: WorkflowHandle[Any, Any], suffix: str
) -> WorkflowHandle[Any, Any]:
    return harness.client.get_workflow_handle(f"{parent.id}/{suffix}")


def tool_messages(harness: Harness, model: str, request: int) -> dict[str, str]:
    body = harness.providers.requests(model=model)[request].body
    return {m["tool_call_id"]: m["content"] for m in body["messages"] if m["role"] == "tool"}


def at_gate(state: TaskState) -> bool:
    return state.pending is not None


async def test_a_parent_with_two_children_one_gated_completes_with_both_answers(
    harness: Harness,
) -> None:
    """Two calls run as two child tasks; the gated one waits in `pending` naming its parent."""
    lead, scout, writer = harness.model("lead"), harness.model("scout"), harness.model("writer")
    harness.providers.script(
        reply("", [ask("scout", "find the facts", "c1"), ask("writer", "write it up", "c2")]),
        reply("Both done."),
        model=lead,
    )
    harness.providers.script(reply("The facts: 42."), model=scout)
    harness.providers.script(
        reply("", [FakeToolCall("publish", {"text": "draft"}, id="p1")]),
        reply("Written and published."),
        model=writer,
    )
    agents = [
        agent("lead", lead, agents=["scout", "writer"]),
        agent("scout", scout),
        agent("writer", writer),
    ]
    client = harness.taskcraft()
    async with harness.worker(agents, tools=TOOLS):
        parent = await harness.start(agents[0], "report on the facts")
        gated = child(harness, parent, "writer-1-2")
        waiting = await harness.wait_for(gated, at_gate)
        assert waiting.parent_task_id == parent.id
        assert waiting.depth == 1

        async def listed() -> list[TaskState]:
            states, _ = await client.pending()
            return [s for s in states if s.task_id == gated.id]

        pending = await poll(listed)
        assert pending[0].parent_task_id == parent.id
        await client.approve(gated.id, approver="alice")
        result = await parent.result()
        state = await harness.state(parent)
        scouted = await harness.state(child(harness, parent, "scout-1-1"))
        written = await harness.state(gated)
        rows = await client.list_tasks()

    assert result.status is TaskStatus.COMPLETED
    assert result.result == "Both done."
    calls = state.steps[0].tool_calls
    assert [(c.call_id, c.outcome, c.child_task_id) for c in calls] == [
        ("c1", ToolOutcome.OK, f"{parent.id}/scout-1-1"),
        ("c2", ToolOutcome.OK, f"{parent.id}/writer-1-2"),
    ]
    # The parent's model read both answers as the calls' observations.
    assert tool_messages(harness, lead, 1) == {
        "c1": "The facts: 42.",
        "c2": "Written and published.",
    }
    assert scouted.goal == "find the facts"
    assert scouted.parent_task_id == parent.id
    assert written.decisions[0].approver == "alice"
    assert RAN == {"publish:draft": 1}
    # 2 turns of the lead, 1 of the scout, 2 of the writer: 18 tokens each.
    assert state.usage.tokens.total_tokens == 5 * 18
    assert state.usage.tool_calls == 2 + 1  # its two agent calls and the writer's publish
    parents = {row.task_id: row.parent for row in rows}
    assert parents[f"{parent.id}/scout-1-1"] == parent.id
    assert parents[parent.id] is None


async def poll(read: Any, within: float = 30.0) -> Any:
    """``await read()`` until it returns something non-empty (visibility lags a little)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        found = await read()
        if found:
            return found
        if loop.time() > deadline:
            raise AssertionError(f"nothing found within {within}s")
        await asyncio.sleep(0.1)


async def test_a_child_over_the_parents_remaining_budget_stops(harness: Harness) -> None:
    """The child may spend only what its parent had left; what it spent counts for the parent."""
    lead, helper = harness.model("lead"), harness.model("helper")
    harness.providers.script(
        reply("", [ask("helper", "help", "c1")], input_tokens=10, output_tokens=10),
        reply("never asked for"),
        model=lead,
    )
    harness.providers.script(
        reply(
            "", [FakeToolCall("note", {"text": "one"}, id="n1")], input_tokens=40, output_tokens=10
        ),
        reply(
            "", [FakeToolCall("note", {"text": "two"}, id="n2")], input_tokens=40, output_tokens=10
        ),
        reply("never asked for"),
        model=helper,
    )
    agents = [
        agent("lead", lead, agents=["helper"], budgets={"max_tokens": 100}),
        agent("helper", helper),
    ]
    async with harness.worker(agents, tools=TOOLS):
        parent = await harness.start(agents[0])
        with pytest.raises(WorkflowFailureError):
            await parent.result()
        state = await harness.state(parent)
        helped = await harness.state(child(harness, parent, "helper-1-1"))

    # The parent had 80 tokens left when it called; the child stopped at 100 of them.
    assert helped.status is TaskStatus.FAILED
    assert helped.error == "the parent task's remaining budget is used up: 100 of 80 tokens"
    assert harness.providers.count(model=helper) == 2
    [call] = state.steps[0].tool_calls
    assert call.outcome is ToolOutcome.ERROR
    assert "remaining budget is used up" in call.observation
    # Its spending came back: 20 + 100 tokens, so the parent stops at its next turn.
    assert state.usage.tokens.total_tokens == 120
    assert state.error == "budget max_tokens exhausted: 120 of 100 tokens used"
    assert harness.providers.count(model=lead) == 1


async def test_cancelling_the_parent_cancels_both_children(harness: Harness) -> None:
    lead, first, second = harness.model("lead"), harness.model("a"), harness.model("b")
    harness.providers.script(
        reply("", [ask("first", "go", "c1"), ask("second", "go", "c2")]), model=lead
    )
    for model, text in ((first, "one"), (second, "two")):
        harness.providers.script(
            reply("", [FakeToolCall("publish", {"text": text}, id="p1")]), model=model
        )
    agents = [
        agent("lead", lead, agents=["first", "second"]),
        agent("first", first),
        agent("second", second),
    ]
    async with harness.worker(agents, tools=TOOLS):
        parent = await harness.start(agents[0])
        children = [child(harness, parent, "first-1-1"), child(harness, parent, "second-1-2")]
        for handle in children:
            await harness.wait_for(handle, at_gate)
        await parent.cancel()
        with pytest.raises(WorkflowFailureError):
            await parent.result()
        for handle in children:
            with pytest.raises(WorkflowFailureError):
                await handle.result()
        states = [await harness.state(handle) for handle in [parent, *children]]
        descriptions = [await handle.describe() for handle in [parent, *children]]

    assert [s.status for s in states] == [TaskStatus.CANCELLED] * 3
    assert [d.status for d in descriptions] == [WorkflowExecutionStatus.CANCELED] * 3
    assert [c.outcome for c in states[0].steps[0].tool_calls] == [ToolOutcome.CANCELLED] * 2
    assert RAN == {}


async def test_pausing_the_parent_pauses_its_child_and_resuming_resumes_it(
    harness: Harness,
) -> None:
    lead, helper = harness.model("lead"), harness.model("helper")
    harness.providers.script(reply("", [ask("helper", "go", "c1")]), reply("done"), model=lead)
    harness.providers.script(
        reply("", [FakeToolCall("publish", {"text": "x"}, id="p1")]), reply("helped"), model=helper
    )
    agents = [agent("lead", lead, agents=["helper"]), agent("helper", helper)]
    client = harness.taskcraft()
    async with harness.worker(agents, tools=TOOLS):
        parent = await harness.start(agents[0])
        helping = child(harness, parent, "helper-1-1")
        await harness.wait_for(helping, at_gate)
        await parent.execute_update(
            "control", ControlRequest(action=ControlAction.PAUSE, by="alice")
        )
        await client.approve(helping.id, approver="bob")
        paused = await harness.wait_for(helping, lambda s: s.status is TaskStatus.PAUSED)
        assert harness.providers.count(model=helper) == 1  # it stopped before its next turn
        await parent.execute_update(
            "control", ControlRequest(action=ControlAction.RESUME, by="alice")
        )
        result = await parent.result()

    assert paused.paused_by == f"alice (via {parent.id})"
    assert result.result == "done"
    assert harness.providers.count(model=helper) == 2


async def test_a_worker_restarted_mid_child_repeats_nothing(harness: Harness) -> None:
    """The worker goes away while the child waits at its gate; a new one finishes both tasks,
    and every model request, pin and tool call happened exactly once."""
    lead, helper = harness.model("lead"), harness.model("helper")
    harness.providers.script(reply("", [ask("helper", "go", "c1")]), reply("done"), model=lead)
    harness.providers.script(
        reply("", [FakeToolCall("publish", {"text": "x"}, id="p1")]), reply("helped"), model=helper
    )
    agents = [agent("lead", lead, agents=["helper"]), agent("helper", helper)]
    async with harness.worker(agents, tools=TOOLS):
        parent = await harness.start(agents[0])
        helping = child(harness, parent, "helper-1-1")
        await harness.wait_for(helping, at_gate)
    async with harness.worker(agents, tools=TOOLS):
        await harness.taskcraft().approve(helping.id, approver="alice")
        result = await parent.result()

    assert result.result == "done"
    assert harness.providers.count(model=lead) == 2
    assert harness.providers.count(model=helper) == 2
    assert RAN == {"publish:x": 1}
    for handle in (parent, helping):
        attempts = [
            event.activity_task_started_event_attributes.attempt
            for event in (await handle.fetch_history()).events
            if event.HasField("activity_task_started_event_attributes")
        ]
        assert attempts
        assert set(attempts) == {1}
