"""Operator controls on a real dev server: pause, resume, message and cancel, mid-run.

Pause takes effect between steps (the step in flight finishes first); a message is a
note the model reads at its next turn; cancel ends the task CANCELLED with its record.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import BaseModel
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import CancelledError
from temporalio.service import RPCError

from activities.tools.builtin import builtin_tools
from taskcraft.agents import AgentSpec
from taskcraft.approvals import Decision, DecisionKind
from taskcraft.controls import ControlAction, ControlRequest, OperatorRequest, UpdateOutcome
from taskcraft.status import TaskStatus
from taskcraft.task import ToolOutcome
from taskcraft.tools import Tool, ToolContext
from tests.support.fake_providers import FakeToolCall, reply
from tests.workflows.conftest import Harness
from workflows.search_attributes import STATUS

# Long enough that a pause sent once the request has arrived lands mid-call.
MODEL_LATENCY_S = 1.0


def agent_for(model: str, tools: list[str]) -> AgentSpec:
    return AgentSpec.model_validate(
        {
            "name": "operator-test",
            "instructions": "Do as asked.",
            "model_route": [f"openai:{model}"],
            "tools": tools,
        }
    )


async def control(handle: WorkflowHandle[Any, Any], action: str, **fields: Any) -> UpdateOutcome:
    outcome: UpdateOutcome = await handle.execute_update(
        "control", ControlRequest(action=ControlAction(action), **fields), result_type=UpdateOutcome
    )
    return outcome


async def control_refusal(handle: WorkflowHandle[Any, Any], action: str, **fields: Any) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await control(handle, action, **fields)
    return str(getattr(caught.value.cause, "message", caught.value.cause))


async def test_pause_mid_step_finishes_the_step_then_waits_until_resumed(
    harness: Harness,
) -> None:
    """Paused during a model call: the call and its tool finish, then PAUSED; notes reach the model."""
    (harness.workspace / "a.txt").write_text("alpha")
    model = harness.model()
    harness.providers.script(
        reply(
            "Listing.",
            [FakeToolCall("list_files", {"path": "."}, id="l1")],
            delay_s=MODEL_LATENCY_S,
        ),
        reply("There is a.txt (5 bytes)."),
        model=model,
    )
    agent = agent_for(model, ["list_files"])
    async with harness.worker([agent]):
        handle = await harness.start(agent)
        await harness.wait_for(handle, lambda _: harness.providers.count(model=model) == 1)
        paused = await control(handle, "pause", by="alice")
        state = await harness.wait_for(handle, lambda s: s.status is TaskStatus.PAUSED)
        assert state.paused_by == "alice"
        assert state.status_detail == "paused by alice"
        assert state.steps[0].tool_calls[0].outcome is ToolOutcome.OK  # the step finished
        assert (await handle.describe()).typed_search_attributes.get(STATUS) == "PAUSED"
        again = await control(handle, "pause", by="bob")
        noted = await control(handle, "message", by="bob", text="give the size in bytes")
        assert harness.providers.count(model=model) == 1  # nothing ran while paused
        await handle.signal("resume", OperatorRequest(by="alice"))
        result = await handle.result()
        state = await harness.state(handle)
    assert paused.message == "pause requested: the task pauses after its current step"
    assert paused.status is TaskStatus.RUNNING
    assert (again.applied, again.message) == (False, "already paused by alice")
    assert noted.message == "note added; the model reads it at its next turn"
    assert result.status is TaskStatus.COMPLETED
    assert state.paused_by is None
    assert [(n.author, n.text, n.seen_at_step) for n in state.notes] == [
        ("bob", "give the size in bytes", 2)
    ]
    sent = harness.providers.requests(model=model)[1].body["messages"]
    assert [m["role"] for m in sent[-2:]] == ["tool", "user"]
    assert sent[-1]["content"] == "[Note from bob] give the size in bytes"


async def test_pause_asked_at_a_gate_takes_effect_after_the_approved_call(
    harness: Harness,
) -> None:
    """A pause sent (as a signal) while a gate waits: decide, the call runs, then PAUSED."""
    model = harness.model()
    harness.providers.script(
        reply("", [FakeToolCall("write_file", {"path": "o.txt", "content": "x"}, id="w1")]),
        reply("written"),
        model=model,
    )
    agent = agent_for(model, ["write_file"])
    async with harness.worker([agent]):
        handle = await harness.start(agent)
        await harness.wait_for(handle, lambda s: s.status is TaskStatus.AWAITING_APPROVAL)
        await handle.signal("pause", OperatorRequest(by="carol"))
        await handle.execute_update(
            "decide_and_confirm",
            Decision(kind=DecisionKind.APPROVE, approver="dave"),
            result_type=UpdateOutcome,
        )
        state = await harness.wait_for(handle, lambda s: s.status is TaskStatus.PAUSED)
        assert (harness.workspace / "o.txt").read_text() == "x"
        assert harness.providers.count(model=model) == 1
        resumed = await control(handle, "resume", by="carol")
        result = await handle.result()
    assert state.paused_by == "carol"
    assert resumed.message == "resumed: the task continues with its next step"
    assert result.result == "written"


async def test_controls_that_make_no_sense_are_refused(harness: Harness) -> None:
    """Resume when not paused, an empty message, anything after the end: refused, clearly."""
    model = harness.model()
    harness.providers.script(
        reply("", [FakeToolCall("write_file", {"path": "o.txt", "content": "x"}, id="w1")]),
        reply("done"),
        model=model,
    )
    agent = agent_for(model, ["write_file"])
    async with harness.worker([agent]):
        handle = await harness.start(agent)
        before = await harness.wait_for(handle, lambda s: s.status is TaskStatus.AWAITING_APPROVAL)
        not_paused = await control_refusal(handle, "resume")
        empty = await control_refusal(handle, "message", text="  ")
        await handle.signal("message", OperatorRequest(by="x", text=""))  # ignored
        after = await harness.state(handle)
        await handle.execute_update(
            "decide_and_confirm", Decision(kind=DecisionKind.APPROVE), result_type=UpdateOutcome
        )
        await handle.result()
        with pytest.raises(RPCError) as finished:
            await control(handle, "pause")
    assert not_paused == "task is not paused (it is AWAITING_APPROVAL); there is nothing to resume"
    assert empty == "a message needs text"
    assert after.notes == []
    assert after.model_dump() == before.model_dump()
    assert "workflow execution already completed" in finished.value.message


async def assert_cancelled(harness: Harness, handle: WorkflowHandle[Any, Any]) -> Any:
    with pytest.raises(WorkflowFailureError) as ended:
        await asyncio.wait_for(handle.result(), timeout=20)
    assert isinstance(ended.value.cause, CancelledError)
    state = await harness.state(handle)
    assert state.status is TaskStatus.CANCELLED
    assert state.status_detail == "cancelled by an operator"
    assert state.pending is None
    assert (await handle.describe()).typed_search_attributes.get(STATUS) == "CANCELLED"
    return state


async def test_cancel_at_a_gate_ends_cancelled_with_the_record_intact(harness: Harness) -> None:
    """Cancelling a waiting task: CANCELLED, the call marked cancelled, steps and audit kept."""
    model = harness.model()
    harness.providers.script(
        reply("Writing.", [FakeToolCall("write_file", {"path": "o.txt", "content": "x"}, id="w1")]),
        model=model,
    )
    agent = agent_for(model, ["write_file"])
    async with harness.worker([agent]):
        handle = await harness.start(agent)
        await harness.wait_for(handle, lambda s: s.status is TaskStatus.AWAITING_APPROVAL)
        await handle.cancel()
        state = await assert_cancelled(harness, handle)
    assert [s.text for s in state.steps] == ["Writing."]
    assert state.steps[0].tool_calls[0].outcome is ToolOutcome.CANCELLED
    assert [a.rule_id for a in state.audit] == ["write-files-need-approval"]
    assert state.decisions == []
    assert not (harness.workspace / "o.txt").exists()
    assert harness.providers.count(model=model) == 1


async def test_cancel_while_paused_ends_cancelled(harness: Harness) -> None:
    model = harness.model()
    harness.providers.script(
        reply("", [FakeToolCall("list_files", {}, id="l1")], delay_s=MODEL_LATENCY_S),
        model=model,
    )
    agent = agent_for(model, ["list_files"])
    async with harness.worker([agent]):
        handle = await harness.start(agent)
        await harness.wait_for(handle, lambda _: harness.providers.count(model=model) == 1)
        await handle.signal("pause", OperatorRequest(by="alice"))
        await harness.wait_for(handle, lambda s: s.status is TaskStatus.PAUSED)
        await handle.cancel()
        state = await assert_cancelled(harness, handle)
    assert state.step == 1
    assert state.steps[0].tool_calls[0].outcome is ToolOutcome.OK
    assert harness.providers.count(model=model) == 1


class WaitArgs(BaseModel):
    label: str = "x"


def waiting_tool(started: asyncio.Event) -> Tool[WaitArgs]:
    """A tool that runs until it is cancelled (it heartbeats, so cancellation reaches it)."""

    async def run(args: WaitArgs, context: ToolContext) -> str:
        started.set()
        await asyncio.Event().wait()
        return "never"

    return Tool(name="wait_forever", description="Waits.", args_model=WaitArgs, run=run)


async def test_cancel_during_a_tool_call_ends_cancelled(harness: Harness) -> None:
    """A cancel while a tool runs stops the task; the call is marked cancelled."""
    model = harness.model()
    harness.providers.script(
        reply("", [FakeToolCall("list_files", {}, id="l1")]),
        reply("", [FakeToolCall("wait_forever", {}, id="t1")]),
        reply("carried on after the cancel"),
        model=model,
    )
    started = asyncio.Event()
    agent = agent_for(model, ["list_files", "wait_forever"])
    tools = [*builtin_tools(), waiting_tool(started)]
    async with harness.worker([agent], tools=tools):
        handle = await harness.start(agent)
        state = await harness.wait_for(handle, lambda s: s.pending is not None)
        await handle.execute_update(
            "decide_and_confirm", Decision(kind=DecisionKind.APPROVE), result_type=UpdateOutcome
        )
        await asyncio.wait_for(started.wait(), timeout=20)
        await handle.cancel()
        state = await assert_cancelled(harness, handle)
    assert state.steps[1].tool_calls[0].outcome is ToolOutcome.CANCELLED
    assert harness.providers.count(model=model) == 2


async def test_cancel_during_a_model_call_ends_cancelled(harness: Harness) -> None:
    """A cancel while the model is thinking stops the task before any further step."""
    model = harness.model()
    harness.providers.script(reply("slow", delay_s=30), model=model)
    agent = agent_for(model, [])
    async with harness.worker([agent]):
        handle = await harness.start(agent)
        await harness.wait_for(handle, lambda _: harness.providers.count(model=model) == 1)
        await handle.cancel()
        state = await assert_cancelled(harness, handle)
    assert state.step == 1
