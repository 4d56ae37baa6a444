"""Unanswered gates: who is told, and what happens when nobody answers.

Notifications run on the dev server (``harness``) against loopback webhooks. Hours-long
waits and every timeout outcome run on the time-skipping test server, which skips time
only while a test waits for a result (``handle.result()``) or sleeps on it
(``env.sleep``), so a gate's 24-hour timer cannot fire while a test polls.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from infra.settings import Settings
from infra.worker_factory import build_worker
from taskcraft.agents import AgentSpec
from taskcraft.approvals import Decision, DecisionKind
from taskcraft.calls import NOTIFY_ACTIVITY
from taskcraft.controls import UpdateOutcome
from taskcraft.status import TaskStatus
from taskcraft.task import TaskInput, TaskResult, TaskState, ToolOutcome
from tests.support.fake_providers import FakeProviders, FakeToolCall, reply
from tests.support.fake_services import running_fake_services
from tests.workflows.conftest import Harness
from tests.workflows.test_gates import awaiting, decide, write, writer
from workflows.search_attributes import AGENT, STATUS

HOUR = 3600.0


def about(elapsed: timedelta, expected: timedelta) -> bool:
    """Timers fire on time; the workflow task that records it takes a few milliseconds."""
    return expected <= elapsed < expected + timedelta(seconds=5)


class Skipping:
    """One test's queue and workspace on the shared time-skipping server."""

    def __init__(
        self, env: WorkflowEnvironment, providers: FakeProviders, skipping_data_dir: Path, tmp: Path
    ) -> None:
        self.env = env
        self.providers = providers
        self.workspace = tmp / "workspace"
        self.workspace.mkdir()
        self.model = f"ts-{uuid.uuid4().hex[:8]}"
        self.settings = Settings(
            task_queue=f"ts-{uuid.uuid4().hex[:10]}",
            data_dir=skipping_data_dir,
            workspace=self.workspace,
            env={"OPENAI_BASE_URL": providers.openai_base_url, "OPENAI_API_KEY": "test-key"},
        )

    def agent(self, **approval: Any) -> AgentSpec:
        return AgentSpec.model_validate(
            {
                "name": "writer",
                "instructions": "Write what you are asked to write.",
                "model_route": [f"openai:{self.model}"],
                "tools": ["write_file"],
                "approval": approval,
            }
        )

    @asynccontextmanager
    async def worker(self, agents: Sequence[AgentSpec]) -> AsyncIterator[None]:
        async with (
            httpx.AsyncClient(timeout=30) as http,
            build_worker(self.env.client, self.settings, http, agents=agents),
        ):
            yield

    async def start(self, agent: AgentSpec) -> WorkflowHandle[Any, TaskResult]:
        return await self.env.client.start_workflow(
            agent.workflow,
            TaskInput(agent=agent.name, goal="save the note"),
            id=f"ts-{uuid.uuid4().hex[:10]}",
            task_queue=self.settings.task_queue,
            result_type=TaskResult,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(AGENT, agent.name), SearchAttributePair(STATUS, "PENDING")]
            ),
        )

    async def state(self, handle: WorkflowHandle[Any, Any]) -> TaskState:
        state: TaskState = await handle.query("state", result_type=TaskState)
        return state

    async def at_gate(self, handle: WorkflowHandle[Any, Any]) -> TaskState:
        """Poll (time does not move meanwhile) until the task waits at gate g1."""
        import asyncio

        for _ in range(400):
            try:
                state = await self.state(handle)
            except Exception:  # the first workflow task may not have run yet
                state = None
            if state is not None and state.pending is not None:
                return state
            await asyncio.sleep(0.05)
        raise AssertionError(f"task never reached a gate; last state: {state}")


@pytest.fixture
def skipping(
    skipping_env: WorkflowEnvironment,
    providers: FakeProviders,
    skipping_data_dir: Path,
    tmp_path: Path,
) -> Skipping:
    return Skipping(skipping_env, providers, skipping_data_dir, tmp_path)


def script_write_then(skipping: Skipping, final: str) -> None:
    skipping.providers.script(
        reply("", [FakeToolCall("write_file", {"path": "note.txt", "content": "hi"}, id="w1")]),
        reply(final),
        model=skipping.model,
    )


async def notifications(handle: WorkflowHandle[Any, Any]) -> list[dict[str, Any]]:
    """The inputs of every notify activity the task scheduled, in order."""
    import json

    return [
        json.loads(attributes.input.payloads[0].data)
        for event in (await handle.fetch_history()).events
        if event.HasField("activity_task_scheduled_event_attributes")
        and (attributes := event.activity_task_scheduled_event_attributes).activity_type.name
        == NOTIFY_ACTIVITY
    ]


async def test_gate_waits_four_hours_then_an_approval_completes_the_task(
    skipping: Skipping,
) -> None:
    """Four hours at a gate change nothing: still waiting, then approved, the call runs."""
    script_write_then(skipping, "Saved.")
    agent = skipping.agent()
    async with skipping.worker([agent]):
        handle = await skipping.start(agent)
        asked = await skipping.at_gate(handle)
        await skipping.env.sleep(timedelta(hours=4))
        waiting = await skipping.state(handle)
        outcome: UpdateOutcome = await handle.execute_update(
            "decide_and_confirm",
            Decision(kind=DecisionKind.APPROVE, approver="alice"),
            result_type=UpdateOutcome,
        )
        result = await handle.result()
        state = await skipping.state(handle)
        description = await handle.describe()
    assert waiting.status is TaskStatus.AWAITING_APPROVAL
    assert waiting.pending == asked.pending
    assert waiting.decisions == []
    assert outcome.applied
    assert result.status is TaskStatus.COMPLETED
    assert (skipping.workspace / "note.txt").read_text() == "hi"
    assert asked.pending is not None
    waited = state.decisions[0].at - asked.pending.asked_at
    assert timedelta(hours=4) <= waited < timedelta(hours=5)
    assert description.typed_search_attributes.get(STATUS) == "COMPLETED"


async def test_timed_out_gate_rejects_and_the_model_hears_why(skipping: Skipping) -> None:
    """on_timeout = reject: after timeout_s the call is rejected and the model is told."""
    script_write_then(skipping, "Nobody approved; nothing written.")
    agent = skipping.agent(timeout_s=2 * HOUR, on_timeout="reject")
    async with skipping.worker([agent]):
        handle = await skipping.start(agent)
        asked = await skipping.at_gate(handle)
        result = await handle.result()
        state = await skipping.state(handle)
    assert result.status is TaskStatus.COMPLETED
    assert result.result == "Nobody approved; nothing written."
    assert not (skipping.workspace / "note.txt").exists()
    [record] = state.decisions
    assert (record.kind, record.approver, record.via, record.applied) == (
        None,
        "timeout",
        "timeout",
        True,
    )
    assert asked.pending is not None
    assert about(record.at - asked.pending.asked_at, timedelta(hours=2))
    assert state.steps[0].tool_calls[0].outcome is ToolOutcome.REJECTED
    told = skipping.providers.requests(model=skipping.model)[1].body["messages"][-1]
    assert told == {
        "role": "tool",
        "tool_call_id": "w1",
        "content": "Rejected by timeout: no decision was made before gate g1 timed out",
    }


async def test_escalated_gate_notifies_the_second_audience_then_rejects(
    skipping: Skipping,
) -> None:
    """on_timeout = escalate: notify ``escalate_to``, widen the approvers, then reject."""
    script_write_then(skipping, "Escalation expired.")
    agent = skipping.agent(
        approvers=["alice"],
        timeout_s=HOUR,
        on_timeout="escalate",
        escalate_to=["boss"],
        escalation_timeout_s=3 * HOUR,
    )
    async with skipping.worker([agent]):
        handle = await skipping.start(agent)
        asked = await skipping.at_gate(handle)
        await skipping.env.sleep(timedelta(hours=1, minutes=30))
        escalated = await skipping.state(handle)
        result = await handle.result()
        state = await skipping.state(handle)
    assert asked.pending is not None
    assert not asked.pending.escalated
    assert asked.pending.allowed_approvers() == ["alice"]
    assert escalated.status is TaskStatus.AWAITING_APPROVAL
    assert escalated.pending is not None
    assert escalated.pending.escalated
    assert escalated.pending.allowed_approvers() == ["alice", "boss"]
    assert about(escalated.pending.timeout_at - asked.pending.asked_at, timedelta(hours=4))
    sent = await notifications(handle)
    assert [(n["gate_id"], n["approvers"], n["escalation"]) for n in sent] == [
        ("g1", ["alice"], False),
        ("g1", ["boss"], True),
    ]
    assert result.result == "Escalation expired."
    [record] = state.decisions
    assert (record.via, record.kind) == ("timeout", None)
    assert about(record.at - asked.pending.asked_at, timedelta(hours=4))
    assert state.steps[0].tool_calls[0].outcome is ToolOutcome.REJECTED


async def test_second_audience_may_decide_only_after_escalation(skipping: Skipping) -> None:
    """Before the escalation ``boss`` is refused; after it ``boss`` approves and the call runs."""
    script_write_then(skipping, "Saved after escalation.")
    agent = skipping.agent(
        approvers=["alice"], timeout_s=HOUR, on_timeout="escalate", escalate_to=["boss"]
    )
    approve = Decision(kind=DecisionKind.APPROVE, approver="boss")
    async with skipping.worker([agent]):
        handle = await skipping.start(agent)
        await skipping.at_gate(handle)
        with pytest.raises(WorkflowUpdateFailedError) as early:
            await handle.execute_update("decide_and_confirm", approve, result_type=UpdateOutcome)
        await skipping.env.sleep(timedelta(hours=2))
        outcome: UpdateOutcome = await handle.execute_update(
            "decide_and_confirm", approve, result_type=UpdateOutcome
        )
        result = await handle.result()
    assert getattr(early.value.cause, "message", "") == (
        "'boss' may not decide gate g1 (allowed: alice)"
    )
    assert outcome.message == "approve recorded for gate g1 by boss"
    assert result.result == "Saved after escalation."
    assert (skipping.workspace / "note.txt").read_text() == "hi"


async def test_timed_out_gate_fails_the_task_when_so_declared(skipping: Skipping) -> None:
    """on_timeout = fail: the task ends FAILED, saying which gate timed out."""
    script_write_then(skipping, "never reached")
    agent = skipping.agent(timeout_s=6 * HOUR, on_timeout="fail")
    async with skipping.worker([agent]):
        handle = await skipping.start(agent)
        asked = await skipping.at_gate(handle)
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()
        state = await skipping.state(handle)
        description = await handle.describe()
    assert getattr(failure.value.cause, "message", "") == "gate g1 timed out with no decision"
    assert state.status is TaskStatus.FAILED
    assert state.error == "gate g1 timed out with no decision"
    assert state.pending is None
    assert asked.pending is not None
    [record] = state.decisions
    assert record.via == "timeout"
    assert about(record.at - asked.pending.asked_at, timedelta(hours=6))
    assert not (skipping.workspace / "note.txt").exists()
    assert skipping.providers.count(model=skipping.model) == 1
    assert description.typed_search_attributes.get(STATUS) == "FAILED"


async def test_entering_a_gate_posts_to_the_slack_webhook(harness: Harness) -> None:
    """The notification names the proposal, the exact CLI command and the Temporal UI page."""
    model = harness.model()
    harness.providers.script(reply("", [write("out.txt", "x", "w1")]), reply("ok"), model=model)
    agent = writer(model)
    with running_fake_services() as services:
        env = {
            "TASKCRAFT_NOTIFY": "slack",
            "TASKCRAFT_NOTIFY_URL": services.url("/slack/webhook/T1/B1/secret"),
        }
        async with harness.worker([agent], env=env):
            handle = await harness.start(agent)
            await harness.wait_for(handle, awaiting("g1"))
            await harness.wait_for(handle, lambda _: len(services.webhook_posts) == 1)
            await decide(handle, kind="approve")
            await handle.result()
    [post] = services.webhook_posts
    text = post["text"]
    assert f"Task {handle.id} (writer) waits for approval: run write_file" in text
    assert "write_file({'path': 'out.txt', 'content': 'x'})" in text
    assert f"Approve: taskcraft approve {handle.id} --gate g1" in text
    assert f"http://localhost:8233/namespaces/default/workflows/{handle.id}" in text


async def test_a_failing_notification_channel_never_holds_the_gate(harness: Harness) -> None:
    """With the webhook unreachable the gate is still entered, answered and passed."""
    model = harness.model()
    harness.providers.script(reply("", [write("out.txt", "x", "w1")]), reply("ok"), model=model)
    agent = writer(model)
    env = {"TASKCRAFT_NOTIFY": "webhook", "TASKCRAFT_NOTIFY_URL": "http://127.0.0.1:9/hook"}
    async with harness.worker([agent], env=env):
        handle = await harness.start(agent)
        await harness.wait_for(handle, awaiting("g1"))
        await decide(handle, kind="approve")
        result = await handle.result()
    assert result.status is TaskStatus.COMPLETED
    events = (await handle.fetch_history()).events
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    completed = [e for e in events if e.HasField("activity_task_completed_event_attributes")]
    # Pin, two model turns and the write completed; the task ended while the
    # notification was still being retried.
    assert scheduled.count(NOTIFY_ACTIVITY) == 1
    assert len(completed) == len(scheduled) - 1 == 4
