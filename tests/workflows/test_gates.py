"""Approval gates on a real dev server: approve, reject, edit, refusals, and what shows.

The default policy holds every ``write_file`` for a person (rule
``write-files-need-approval``), so a model scripted to write a file parks its task at a
gate. Decisions arrive as the ``decide`` signal (what the Temporal UI sends) or the
``decide_and_confirm`` update (what the CLI sends); both go through one decision function.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError

from taskcraft.agents import AgentSpec
from taskcraft.approvals import Decision, DecisionKind, GateKind, TimeoutOutcome
from taskcraft.controls import UpdateOutcome
from taskcraft.status import TaskStatus
from taskcraft.task import TaskState, ToolOutcome
from tests.support.fake_providers import FakeToolCall, reply
from tests.workflows.conftest import Harness
from tests.workflows.test_parked_tasks import until_quiet
from workflows.search_attributes import STATUS

WRITE_REASON = "Writing a file changes the workspace; a person checks the content first."


def writer(model: str, **overrides: Any) -> AgentSpec:
    return AgentSpec.model_validate(
        {
            "name": "writer",
            "instructions": "Write what you are asked to write.",
            "model_route": [f"openai:{model}"],
            "tools": ["write_file", "read_file"],
            **overrides,
        }
    )


def write(path: str, content: str, call_id: str) -> FakeToolCall:
    return FakeToolCall("write_file", {"path": path, "content": content}, id=call_id)


def awaiting(gate_id: str) -> Any:
    def check(state: TaskState) -> bool:
        return (
            state.status is TaskStatus.AWAITING_APPROVAL
            and state.pending is not None
            and state.pending.gate_id == gate_id
        )

    return check


async def decide(handle: WorkflowHandle[Any, Any], **fields: Any) -> UpdateOutcome:
    outcome: UpdateOutcome = await handle.execute_update(
        "decide_and_confirm", Decision(**fields), result_type=UpdateOutcome
    )
    return outcome


async def refusal(handle: WorkflowHandle[Any, Any], **fields: Any) -> str:
    """The validator's message for a decision the task must refuse."""
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await decide(handle, **fields)
    return str(getattr(caught.value.cause, "message", caught.value.cause))


async def current_details(handle: WorkflowHandle[Any, Any]) -> str:
    metadata: WorkflowMetadata = await handle.query(
        "__temporal_workflow_metadata", result_type=WorkflowMetadata
    )
    return metadata.current_details


async def test_tool_call_gate_records_the_request_and_runs_the_call_once_approved(
    harness: Harness,
) -> None:
    """A write waits at gate g1 (findable, explained), then runs with the approver recorded."""
    model = harness.model()
    harness.providers.script(
        reply("I will save it.", [write("out.txt", "hello", "w1")]), reply("Saved."), model=model
    )
    agent = writer(model)
    async with harness.worker([agent]):
        handle = await harness.start(agent, "save hello")
        state = await harness.wait_for(handle, awaiting("g1"))
        pending = state.pending
        assert pending is not None
        assert pending.model_dump(exclude={"asked_at", "timeout_at", "view"}) == {
            "gate_id": "g1",
            "kind": GateKind.TOOL_CALL,
            "title": "run write_file",
            "reason": WRITE_REASON,
            "step": 1,
            "approvers": [],  # anyone may decide
            "on_timeout": TimeoutOutcome.REJECT,
            "escalate_to": [],
            "escalated": False,
            "tool": "write_file",
            "call_id": "w1",
            "arguments": {"path": "out.txt", "content": "hello"},
            "draft": None,
        }
        # What the policy understood travels with the gate, for the approver to read.
        assert pending.view is not None
        assert pending.view.rule.startswith("write-files-need-approval → require_approval")
        assert pending.view.paths == ["out.txt (inside)"]
        assert (pending.timeout_at - pending.asked_at).total_seconds() == 24 * 3600
        assert not (harness.workspace / "out.txt").exists()
        assert state.steps[0].tool_calls[0].outcome is None
        description = await handle.describe()
        assert description.typed_search_attributes.get(STATUS) == "AWAITING_APPROVAL"
        details = await current_details(handle)
        assert f"taskcraft approve {handle.id} --gate g1 --as NAME" in details
        assert 'Proposed: `write_file` with `{"content": "hello", "path": "out.txt"}`' in details
        assert '"kind": "approve"' in details  # how to answer from the UI's Send Signal

        outcome = await decide(handle, kind="approve", approver="alice", comment="fine")
        result = await handle.result()
        state = await harness.state(handle)
    assert outcome.applied
    assert outcome.gate_id == "g1"
    assert outcome.message == "approve recorded for gate g1 by alice"
    assert result.status is TaskStatus.COMPLETED
    assert result.result == "Saved."
    assert (harness.workspace / "out.txt").read_text() == "hello"
    assert state.pending is None
    [record] = state.decisions
    assert (record.gate_id, record.kind, record.approver) == ("g1", DecisionKind.APPROVE, "alice")
    assert (record.via, record.applied, record.comment) == ("update", True, "fine")
    assert pending.asked_at <= record.at
    call = state.steps[0].tool_calls[0]
    assert call.outcome is ToolOutcome.OK
    assert call.policy_rule == "write-files-need-approval"
    tool_message = harness.providers.requests(model=model)[1].body["messages"][-1]
    assert tool_message["role"] == "tool"
    assert '"bytes_written": 5' in tool_message["content"]


async def test_rejection_reason_reaches_the_model_which_adapts(harness: Harness) -> None:
    """A rejection (sent as the UI's ``decide`` signal) becomes the observation; the model retries."""
    model = harness.model()
    harness.providers.script(
        reply("", [write("out.txt", "hello", "w1")]),
        reply("Then in notes/.", [write("notes/out.txt", "hello", "w2")]),
        reply("Saved in notes/."),
        model=model,
    )
    agent = writer(model)
    async with harness.worker([agent]):
        handle = await harness.start(agent)
        await harness.wait_for(handle, awaiting("g1"))
        await handle.signal(
            "decide",
            Decision(kind=DecisionKind.REJECT, approver="bob", reason="write under notes/ instead"),
        )
        state = await harness.wait_for(handle, awaiting("g2"))
        assert state.pending is not None
        assert state.pending.arguments == {"path": "notes/out.txt", "content": "hello"}
        await decide(handle, kind="approve", approver="bob")
        result = await handle.result()
        state = await harness.state(handle)
    assert result.result == "Saved in notes/."
    second_request = harness.providers.requests(model=model)[1].body["messages"]
    assert second_request[-1] == {
        "role": "tool",
        "tool_call_id": "w1",
        "content": "Rejected by bob: write under notes/ instead",
    }
    assert not (harness.workspace / "out.txt").exists()
    assert (harness.workspace / "notes" / "out.txt").read_text() == "hello"
    assert [c.outcome for s in state.steps for c in s.tool_calls] == [
        ToolOutcome.REJECTED,
        ToolOutcome.OK,
    ]
    assert [(d.gate_id, d.kind, d.via, d.reason) for d in state.decisions] == [
        ("g1", DecisionKind.REJECT, "signal", "write under notes/ instead"),
        ("g2", DecisionKind.APPROVE, "update", ""),
    ]


async def test_edit_runs_the_tool_with_edited_arguments_and_invalid_edits_are_refused(
    harness: Harness,
) -> None:
    """The validator refuses edits that fail the schema or the policy; a valid edit runs."""
    model = harness.model()
    harness.providers.script(
        reply("", [write("out.txt", "draft text", "w1")]), reply("Done."), model=model
    )
    agent = writer(model)
    async with harness.worker([agent]):
        handle = await harness.start(agent)
        await harness.wait_for(handle, awaiting("g1"))
        missing = await refusal(handle, kind="edit", approver="eve", arguments={"path": "out.txt"})
        denied = await refusal(
            handle, kind="edit", approver="eve", arguments={"path": ".git/config", "content": "x"}
        )
        no_args = await refusal(handle, kind="edit", approver="eve")
        assert (await harness.state(handle)).decisions == []  # refusals wrote nothing
        outcome = await decide(
            handle,
            kind="edit",
            approver="eve",
            arguments={"path": "out.txt", "content": "final text"},
            comment="tightened",
        )
        await handle.result()
        state = await harness.state(handle)
    assert missing.startswith("edited arguments are invalid:")
    assert "content" in missing
    assert denied.startswith("edited arguments are denied by policy rule no-git-metadata-writes")
    assert no_args == "an edit of a tool call needs the replacement arguments"
    assert outcome.message == "edit recorded for gate g1 by eve"
    assert (harness.workspace / "out.txt").read_text() == "final text"
    call = state.steps[0].tool_calls[0]
    assert json.loads(call.arguments) == {"path": "out.txt", "content": "final text"}
    assert (call.edited_by, call.outcome) == ("eve", ToolOutcome.OK)
    [record] = state.decisions
    assert (record.kind, record.arguments) == (
        DecisionKind.EDIT,
        {"path": "out.txt", "content": "final text"},
    )


async def test_unauthorised_approver_is_refused_on_both_paths(harness: Harness) -> None:
    """Only the gate's approvers decide; a refused signal is recorded, the gate stays open."""
    model = harness.model()
    harness.providers.script(reply("", [write("out.txt", "x", "w1")]), reply("ok"), model=model)
    agent = writer(model, approval={"approvers": ["alice"]})
    async with harness.worker([agent]):
        handle = await harness.start(agent)
        state = await harness.wait_for(handle, awaiting("g1"))
        assert state.pending is not None
        assert state.pending.approvers == ["alice"]
        refused = await refusal(handle, kind="approve", approver="mallory")
        await handle.signal("decide", Decision(kind=DecisionKind.APPROVE, approver="mallory"))
        state = await harness.wait_for(handle, lambda s: len(s.decisions) == 1)
        assert state.status is TaskStatus.AWAITING_APPROVAL
        await decide(handle, kind="approve", approver="alice")
        await handle.result()
        state = await harness.state(handle)
    assert refused == "'mallory' may not decide gate g1 (allowed: alice)"
    assert [(d.approver, d.via, d.applied, d.refusal) for d in state.decisions] == [
        ("mallory", "signal", False, "'mallory' may not decide gate g1 (allowed: alice)"),
        ("alice", "update", True, None),
    ]
    assert (harness.workspace / "out.txt").read_text() == "x"


async def test_malformed_decisions_are_refused_and_change_nothing(harness: Harness) -> None:
    """Wrong gate, rejection without reason, draft edit of a tool call, undecodable signal:
    each refused (a refused signal is recorded as such); the gate is untouched."""
    model = harness.model()
    harness.providers.script(reply("", [write("out.txt", "x", "w1")]), reply("ok"), model=model)
    agent = writer(model)
    async with harness.worker([agent]):
        handle = await harness.start(agent)
        before = await harness.wait_for(handle, awaiting("g1"))
        reasons = [
            await refusal(handle, kind="approve", gate_id="g7"),
            await refusal(handle, kind="reject", reason="   "),
            await refusal(handle, kind="edit", draft="a draft"),
        ]
        # A UI signal that does not decode as a Decision is dropped by the SDK.
        await handle.signal("decide", {"kind": "maybe", "approver": "ui"})
        await handle.signal("decide", Decision(kind=DecisionKind.APPROVE, gate_id="g7"))
        refused = await harness.wait_for(handle, lambda s: len(s.decisions) == 1)
        after = await harness.state(handle)
        await decide(handle, kind="approve")
        await handle.result()
    assert reasons == [
        "gate g7 is not pending (the pending gate is g1)",
        "a rejection needs a reason (it is passed back to the agent)",
        "an edit of a tool call needs the replacement arguments",
    ]
    [record] = refused.decisions
    assert (record.gate_id, record.via, record.applied) == ("g7", "signal", False)
    assert record.refusal == "gate g7 is not pending (the pending gate is g1)"
    assert after.model_dump(exclude={"decisions"}) == before.model_dump(exclude={"decisions"})


async def test_second_decision_for_a_decided_gate_is_refused(harness: Harness) -> None:
    """Once g1 is decided, another decision for it is refused by the update's validator."""
    model = harness.model()
    harness.providers.script(
        reply("", [write("out.txt", "x", "w1")]),
        reply("", [write("two.txt", "y", "w2")]),
        reply("ok"),
        model=model,
    )
    agent = writer(model)
    async with harness.worker([agent]):
        handle = await harness.start(agent)
        await harness.wait_for(handle, awaiting("g1"))
        await decide(handle, kind="approve", approver="alice")
        again = await refusal(handle, kind="reject", approver="bob", reason="no", gate_id="g1")
        await harness.wait_for(handle, awaiting("g2"))
        stale = await refusal(handle, kind="approve", approver="bob", gate_id="g1")
        await decide(handle, kind="approve", approver="alice", gate_id="g2")
        await handle.result()
        state = await harness.state(handle)
    assert again == "gate g1 was already decided"
    assert stale == "gate g1 was already decided"
    assert [(d.gate_id, d.approver) for d in state.decisions] == [("g1", "alice"), ("g2", "alice")]


async def test_two_decisions_delivered_together_apply_only_the_first(harness: Harness) -> None:
    """Two ``decide`` signals that reach the task in one workflow task: the second is refused.

    The worker is stopped while both are sent, so they arrive together when it returns;
    the gate is still pending when the second is handled, yet already decided.
    """
    model = harness.model()
    harness.providers.script(reply("", [write("out.txt", "x", "w1")]), reply("ok"), model=model)
    agent = writer(model)
    async with harness.worker([agent]):
        handle = await harness.start(agent)
        await harness.wait_for(handle, awaiting("g1"))
        await until_quiet([handle])
    await handle.signal("decide", Decision(kind=DecisionKind.APPROVE, approver="alice"))
    await handle.signal("decide", Decision(kind=DecisionKind.REJECT, approver="bob", reason="stop"))
    async with harness.worker([agent]):
        result = await handle.result()
        state = await harness.state(handle)
    assert result.status is TaskStatus.COMPLETED
    assert [(d.approver, d.applied, d.refusal) for d in state.decisions] == [
        ("alice", True, None),
        ("bob", False, "gate g1 was already decided"),
    ]
    assert state.steps[0].tool_calls[0].outcome is ToolOutcome.OK
    assert (harness.workspace / "out.txt").read_text() == "x"


async def test_decisions_after_completion_are_refused(harness: Harness) -> None:
    """A finished task refuses an update and a signal; its record is unchanged."""
    model = harness.model()
    harness.providers.script(reply("", [write("out.txt", "x", "w1")]), reply("ok"), model=model)
    agent = writer(model)
    async with harness.worker([agent]):
        handle = await harness.start(agent)
        await harness.wait_for(handle, awaiting("g1"))
        await decide(handle, kind="approve", approver="alice")
        await handle.result()
        before = await harness.state(handle)
        with pytest.raises(RPCError) as update_error:
            await decide(handle, kind="approve", approver="alice", gate_id="g1")
        with pytest.raises(RPCError) as signal_error:
            await handle.signal("decide", Decision(kind=DecisionKind.APPROVE))
        after = await harness.state(handle)
    assert "workflow execution already completed" in update_error.value.message
    assert "workflow execution already completed" in signal_error.value.message
    assert after.status is TaskStatus.COMPLETED
    assert after.model_dump() == before.model_dump()


async def test_final_answer_gate_holds_the_draft_for_reject_then_edit(harness: Harness) -> None:
    """``approve_final_answer``: a rejected draft goes back to the model; an edit is the result."""
    model = harness.model()
    harness.providers.script(reply("Draft one."), reply("Draft two, dated."), model=model)
    agent = writer(model, approve_final_answer=True, tools=[])
    async with harness.worker([agent]):
        handle = await harness.start(agent, "write a note")
        state = await harness.wait_for(handle, awaiting("g1"))
        assert state.pending is not None
        assert (state.pending.kind, state.pending.title) == (GateKind.CHECKPOINT, "final answer")
        assert state.pending.draft == "Draft one."
        assert state.pending.tool is None
        assert "Draft one." in await current_details(handle)
        await decide(handle, kind="reject", approver="carol", reason="add the date")
        state = await harness.wait_for(handle, awaiting("g2"))
        assert state.pending is not None
        assert state.pending.draft == "Draft two, dated."
        await decide(handle, kind="edit", approver="carol", draft="Final text, by carol.")
        result = await handle.result()
    assert result.result == "Final text, by carol."
    revision_request = harness.providers.requests(model=model)[1].body["messages"]
    assert revision_request[-1] == {
        "role": "user",
        "content": "Your answer was not approved (carol): add the date. Revise it.",
    }
