"""Governance on a real server: budgets of every kind, the tool activity's own re-check,
a policy pinned at start, and the audit trail."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError

from taskcraft.agents import AgentSpec
from taskcraft.budgets import Budgets, ModelPrice
from taskcraft.calls import TOOL_ACTIVITY, ToolCallInput
from taskcraft.policy import Effect
from taskcraft.status import TaskStatus
from taskcraft.task import ToolOutcome
from tests.support.direct_tool_call import DirectToolCall
from tests.support.fake_providers import FakeToolCall, reply
from tests.workflows.conftest import Harness


def agent(model: str, **fields: object) -> AgentSpec:
    return AgentSpec.model_validate(
        {
            "name": f"gov-{uuid.uuid4().hex[:6]}",
            "instructions": "Work.",
            "model_route": [f"openai:{model}"],
            "tools": ["list_files", "read_file", "write_file", "run_shell"],
            **fields,
        }
    )


def looping(harness: Harness, model: str, call: FakeToolCall, tokens: int = 10) -> None:
    harness.providers.set_default(
        reply("again", [call], input_tokens=tokens, output_tokens=tokens), model=model
    )


@pytest.mark.parametrize(
    ("budgets", "named"),
    [
        (Budgets(max_steps=2), "max_steps"),
        (Budgets(max_tool_calls=3), "max_tool_calls"),
        (Budgets(max_tokens=50), "max_tokens"),
        (Budgets(max_cost_usd=0.001), "max_cost_usd"),
    ],
)
async def test_each_budget_ends_the_task_failed_naming_it(
    harness: Harness, budgets: Budgets, named: str
) -> None:
    model = harness.model()
    looping(harness, model, FakeToolCall("list_files", {"path": "."}), tokens=10)
    spec = agent(model, budgets=budgets.model_dump())
    prices = {f"openai:{model}": ModelPrice(input_per_mtok=20.0, output_per_mtok=20.0)}
    async with harness.worker([spec], prices=prices):
        handle = await harness.start(spec)
        state = await harness.wait_for(handle, lambda s: s.status.is_terminal)
    assert state.status is TaskStatus.FAILED
    assert state.error is not None
    assert state.error.startswith(f"budget {named} exhausted")
    if named == "max_cost_usd":
        assert state.usage.cost_usd >= 0.001
    if named == "max_tokens":
        assert state.usage.tokens.total_tokens >= 50


async def test_per_tool_budget_refuses_the_call_but_not_the_task(harness: Harness) -> None:
    model = harness.model()
    harness.providers.script(
        *[reply("", [FakeToolCall("list_files", {"path": "."})]) for _ in range(3)],
        reply("enough"),
        model=model,
    )
    spec = agent(model, budgets={"max_tool_calls_per_tool": {"list_files": 2}})
    async with harness.worker([spec]):
        handle = await harness.start(spec)
        result = await handle.result()
        state = await harness.state(handle)
    assert result.status is TaskStatus.COMPLETED
    outcomes = [step.tool_calls[0].outcome for step in state.steps[:3]]
    assert outcomes == [ToolOutcome.OK, ToolOutcome.OK, ToolOutcome.DENIED]
    assert "max_tool_calls_per_tool[list_files]" in state.steps[2].tool_calls[0].observation
    assert state.usage.tool_calls == 2


async def test_wall_clock_budget(harness: Harness) -> None:
    model = harness.model()
    harness.providers.set_default(
        reply("slow", [FakeToolCall("list_files", {"path": "."})], delay_s=0.6), model=model
    )
    spec = agent(model, budgets={"max_duration_s": 1})
    async with harness.worker([spec]):
        handle = await harness.start(spec)
        state = await harness.wait_for(handle, lambda s: s.status.is_terminal)
    assert state.status is TaskStatus.FAILED
    assert state.error is not None
    assert state.error.startswith("budget max_duration_s exhausted")


async def test_budget_can_ask_for_approval_to_continue(harness: Harness) -> None:
    model = harness.model()
    harness.providers.script(
        reply("", [FakeToolCall("list_files", {"path": "."})]),
        reply("", [FakeToolCall("list_files", {"path": "."})]),
        reply("finished"),
        model=model,
    )
    spec = agent(model, budgets={"max_steps": 2, "on_exhausted": "ask"})
    async with harness.worker([spec]):
        handle = await harness.start(spec)
        waiting = await harness.wait_for(handle, lambda s: s.status is TaskStatus.AWAITING_APPROVAL)
        assert waiting.pending is not None
        assert waiting.pending.kind.value == "budget"
        assert "max_steps" in waiting.pending.reason
        await handle.signal("decide", {"kind": "approve", "approver": "ops"})
        result = await handle.result()
    assert result.status is TaskStatus.COMPLETED
    assert result.steps == 3


async def test_denied_call_never_becomes_an_activity(harness: Harness) -> None:
    model = harness.model()
    harness.providers.script(
        reply("", [FakeToolCall("run_shell", {"command": "rm -rf --no-preserve-root /"}, id="d1")]),
        reply("understood"),
        model=model,
    )
    spec = agent(model)
    async with harness.worker([spec]):
        handle = await harness.start(spec)
        await handle.result()
        state = await harness.state(handle)
        history = await handle.fetch_history()
    call = state.steps[0].tool_calls[0]
    assert call.outcome is ToolOutcome.DENIED
    assert call.observation.startswith("Denied by policy rule shell-no-destructive")
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert TOOL_ACTIVITY not in scheduled
    audit = state.audit[0]
    assert (audit.tool, audit.effect, audit.rule_id) == (
        "run_shell",
        Effect.DENY,
        "shell-no-destructive",
    )
    assert audit.policy_hash == state.policy_hash
    sent = harness.providers.requests(model=model)[1].body["messages"][-1]
    assert "Denied by policy" in sent["content"]


async def test_tool_activity_rechecks_the_policy_itself(harness: Harness) -> None:
    """A forbidden call that reaches the activity directly is refused there (defence in depth)."""
    model = harness.model()
    harness.providers.script(reply("nothing to do"), model=model)
    spec = agent(model)
    async with harness.worker([spec], extra_workflows=[DirectToolCall]) as worker:
        handle = await harness.start(spec)
        await handle.result()
        state = await harness.state(handle)
        victim = harness.workspace / "keep.txt"
        victim.write_text("precious")
        forged = ToolCallInput(
            task_id="forged",
            step=1,
            call_id="x",
            tool="run_shell",
            arguments={"command": "rm -rf ."},
            policy_ref=state.policy_hash,
            idempotency_key="forged/1/x",
        )
        unapproved = forged.model_copy(
            update={"tool": "write_file", "arguments": {"path": "keep.txt", "content": "gone"}}
        )
        for call in (forged, unapproved):
            with pytest.raises(WorkflowFailureError) as failure:
                await harness.client.execute_workflow(
                    "DirectToolCall",
                    call,
                    id=f"direct-{uuid.uuid4().hex[:6]}",
                    task_queue=worker.task_queue,
                )
            cause = failure.value.cause
            assert isinstance(cause, ActivityError)
            assert isinstance(cause.cause, ApplicationError)
            assert cause.cause.type == "ToolPolicyDenied"
    assert victim.read_text() == "precious"


async def test_policy_is_pinned_at_start(harness: Harness, tmp_path: Path) -> None:
    """Editing the policy file mid-run changes nothing for a running task."""
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "team.toml").write_text(
        'name = "team"\ndefault_effect = "allow"\n'
        '[[rules]]\nid = "no-list"\ntool = "list_files"\neffect = "deny"\nreason = "not today"\n'
    )
    model = harness.model()
    harness.providers.script(
        reply("", [FakeToolCall("read_file", {"path": "a.txt"})]),
        reply("", [FakeToolCall("list_files", {"path": "."})], delay_s=1.0),
        reply("done"),
        model=model,
    )
    (harness.workspace / "a.txt").write_text("a")
    spec = agent(model, policy="team")
    gate = harness.providers
    async with harness.worker([spec], policy_dirs=[policies]):
        handle = await harness.start(spec)
        await harness.wait_for(handle, lambda s: s.step >= 1)
        (policies / "team.toml").write_text('name = "team"\ndefault_effect = "allow"\n')
        await handle.result()
        state = await harness.state(handle)
    assert gate.count(model=model) == 3
    listing = state.steps[1].tool_calls[0]
    assert listing.outcome is ToolOutcome.DENIED
    assert "not today" in listing.observation
    assert state.policy_name == "team"
    assert {a.policy_hash for a in state.audit} == {state.policy_hash}
