"""At-most-once tools: a call whose outcome is unknown is never retried blindly.

The tool posts to a loopback webhook that can hold its reply: the post arrives, but the
call times out before the answer does, which is what a worker dying mid-send looks like
from the workflow. The task then asks an operator instead of posting again; a definite
non-delivery (connection refused) is retried under the tool's retry settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowHandle

from taskcraft.agents import AgentSpec, ToolRetry
from taskcraft.approvals import Decision, DecisionKind, GateKind
from taskcraft.status import TaskStatus
from taskcraft.task import TaskState, ToolOutcome
from taskcraft.tools import NotDelivered, ToolContext, tool
from tests.support.fake_providers import FakeToolCall, reply
from tests.support.webhook_sink import webhook_sink
from tests.workflows.conftest import Harness


@tool(
    side_effects="at_most_once",
    timeout_s=1.5,
    retry=ToolRetry(initial_interval_s=0.2, maximum_attempts=3),
)
async def post_hook(text: str, ctx: ToolContext) -> str:
    """Post the text to the team's webhook."""
    try:
        response = await ctx.http.post(
            ctx.env["HOOK_URL"],
            json={"text": text},
            headers={"Idempotency-Key": ctx.idempotency_key},
        )
    except httpx.ConnectError as error:
        raise NotDelivered(f"the webhook is not reachable ({error})") from error
    response.raise_for_status()
    return "posted"


@pytest.fixture(autouse=True)
def open_policy(harness: Harness, tmp_path: Path) -> None:
    harness.allow_every_call(tmp_path / "policies")


def poster(harness: Harness) -> tuple[AgentSpec, str]:
    model = harness.model()
    harness.providers.script(
        reply(tool_calls=[FakeToolCall("post_hook", {"text": "release is out"}, id="call-1")]),
        reply("done"),
        model=model,
    )
    spec = AgentSpec.model_validate(
        {
            "name": "poster",
            "instructions": "Post what you are asked to.",
            "model_route": [f"openai:{model}"],
            "tools": ["post_hook"],
            "policy": "open",
        }
    )
    return spec, model


def at_delivery_gate(state: TaskState) -> bool:
    return state.pending is not None and state.pending.kind is GateKind.DELIVERY


async def decide(handle: WorkflowHandle[Any, Any], decision: Decision) -> None:
    await handle.execute_update("decide_and_confirm", decision)


async def test_unknown_outcome_asks_an_operator_and_marked_as_sent_posts_once(
    harness: Harness,
) -> None:
    """The post arrived but its answer did not: a gate, not a second post."""
    spec, _ = poster(harness)
    with webhook_sink(hold_s=4) as sink:
        async with harness.worker([spec], tools=[post_hook], env={"HOOK_URL": sink.url}):
            handle = await harness.start(spec)
            waiting = await harness.wait_for(handle, at_delivery_gate, within=30)
            assert len(sink.received()) == 1
            await decide(
                handle,
                Decision(kind=DecisionKind.REJECT, approver="alice", reason="it is in #releases"),
            )
            result = await handle.result()
            state = await harness.state(handle)
    assert result.status is TaskStatus.COMPLETED
    assert len(sink.received()) == 1
    pending = waiting.pending
    assert pending is not None
    assert pending.title == "delivery unknown: post_hook"
    assert "approve to send again, reject to mark it as sent" in pending.reason
    assert pending.arguments == {"text": "release is out"}
    [call] = state.steps[0].tool_calls
    assert call.outcome is ToolOutcome.OK
    assert call.observation.startswith("Delivery unconfirmed (")
    assert call.observation.endswith("alice marked it as sent: it is in #releases")
    history = await handle.fetch_history()
    scheduled = [
        e for e in history.events if e.HasField("activity_task_scheduled_event_attributes")
    ]
    tool_runs = [
        e
        for e in scheduled
        if e.activity_task_scheduled_event_attributes.activity_type.name == "taskcraft.tool.run"
    ]
    assert len(tool_runs) == 1
    assert tool_runs[0].activity_task_scheduled_event_attributes.retry_policy.maximum_attempts == 1


async def test_the_operator_may_send_again_after_checking(harness: Harness) -> None:
    """Approve at the delivery gate: the call runs again, with the same idempotency key."""
    spec, _ = poster(harness)
    with webhook_sink(hold_s=4) as sink:
        async with harness.worker([spec], tools=[post_hook], env={"HOOK_URL": sink.url}):
            handle = await harness.start(spec)
            await harness.wait_for(handle, at_delivery_gate, within=30)
            sink.hold_s = 0
            await decide(handle, Decision(kind=DecisionKind.APPROVE, approver="alice"))
            result = await handle.result()
            state = await harness.state(handle)
    assert result.status is TaskStatus.COMPLETED
    posts = sink.received()
    assert len(posts) == 2
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert state.steps[0].tool_calls[0].observation == "posted"


async def test_certain_non_delivery_is_retried_then_reported_without_a_gate(
    harness: Harness,
) -> None:
    """Connection refused: nothing was sent, so the workflow retries, then tells the model."""
    spec, _ = poster(harness)
    with webhook_sink() as sink:
        closed = sink.url  # the server stops at the end of this block
    async with harness.worker([spec], tools=[post_hook], env={"HOOK_URL": closed}):
        handle = await harness.start(spec)
        result = await handle.result()
        state = await harness.state(handle)
    assert result.status is TaskStatus.COMPLETED
    assert state.gate_seq == 0
    [call] = state.steps[0].tool_calls
    assert call.outcome is ToolOutcome.ERROR
    assert "the webhook is not reachable" in call.observation
    history = await handle.fetch_history()
    tool_runs = [
        e
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == "taskcraft.tool.run"
    ]
    timers = [e for e in history.events if e.HasField("timer_started_event_attributes")]
    assert len(tool_runs) == 3
    assert len(timers) == 2
