"""The scenarios ``record`` runs: one task each, covering a workflow path the replay test guards.

Every path a running task can be on when new code is deployed needs a saved history:
gates decided every way (approve, reject, edit, timeout, escalation), budgets, pause and
notes, continue-as-new, failover and RECOVERING (the window closing, one try of each model
after a wait, a configuration error), answers cut off or filtered, cancellation, the
incident report, agents calling agents (as child workflows) and a task a schedule started.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.client import Client, WorkflowHandle

from infra.catalog import catalog_for
from infra.settings import Settings
from taskcraft.agents import AgentSpec, OnConfigError, RecoverySettings
from taskcraft.approvals import ApprovalSettings, Decision, DecisionKind, TimeoutOutcome
from taskcraft.budgets import Budgets, OnExhausted
from taskcraft.controls import ControlAction, ControlRequest
from taskcraft.model_ref import ModelRef
from taskcraft.schedules import ScheduleDefinition
from taskcraft.status import TaskStatus
from taskcraft.task import TaskInput, TaskResult, TaskState
from taskcraft_client import TaskcraftClient
from tests.support.fake_providers import (
    FakeProviders,
    FakeToolCall,
    fault,
    filtered,
    reply,
    truncated,
)

SAVE_GOAL = "Summarise the files and save the summary to a file."
READ_GOAL = "What do the files say?"


@dataclass
class Recording:
    """What a scenario needs: a client, the worker's queue, the provider script."""

    client: Client
    settings: Settings
    providers: FakeProviders


RunScenario = Callable[[Recording], Awaitable[WorkflowHandle[Any, Any]]]


@dataclass(frozen=True)
class Scenario:
    name: str
    run: RunScenario
    agents: tuple[AgentSpec, ...] = ()


SHIPPED = catalog_for(Settings())


def _analyst(name: str, **changes: Any) -> AgentSpec:
    return SHIPPED.agents["workspace-analyst"].model_copy(update={"name": name, **changes})


RUNS_OF_ONE_STEP = _analyst("analyst-runs-of-one-step", continue_as_new_after_steps=1)
BUDGET_ASKS = _analyst(
    "analyst-budget-asks", budgets=Budgets(max_steps=2, on_exhausted=OnExhausted.ASK)
)
BUDGET_FAILS = _analyst("analyst-budget-fails", budgets=Budgets(max_steps=1))
ESCALATES = _analyst(
    "analyst-escalates",
    approval=ApprovalSettings(
        timeout_s=2,
        on_timeout=TimeoutOutcome.ESCALATE,
        escalate_to=["boss"],
        escalation_timeout_s=3600,
    ),
)
TIMES_OUT = _analyst("analyst-gate-times-out", approval=ApprovalSettings(timeout_s=2))
FINAL_GATE = _analyst("analyst-final-answer-gate", approve_final_answer=True)
RECOVERS = AgentSpec(
    name="recovers",
    instructions="Answer in one sentence.",
    model_route=[ModelRef(ref="openai:recovering-model?maximum_attempts=1")],
    recovery=RecoverySettings(initial_delay_s=1, max_delay_s=2, window_s=600),
)
# A lead that asks two agents at once: a scout that reads, a scribe whose write is gated.
SCOUT = _analyst("scout", model_route=[ModelRef(ref="openai:record-scout")])
SCRIBE = _analyst("scribe", model_route=[ModelRef(ref="openai:record-scribe")])
LEAD = AgentSpec(
    name="lead",
    instructions="Ask the scout what the notes say and the scribe to save a summary.",
    model_route=[ModelRef(ref="openai:record-lead")],
    agents=["scout", "scribe"],
)
FAILS_OVER = AgentSpec(
    name="fails-over",
    instructions="Answer in one sentence.",
    model_route=[
        ModelRef(ref="openai:failover-primary?maximum_attempts=1"),
        ModelRef(ref="anthropic:failover-backup"),
    ],
)

CUT_OFF = AgentSpec(
    name="cut-off",
    instructions="Answer in one sentence.",
    model_route=[ModelRef(ref="openai:cut-off-model?maximum_attempts=1")],
    tools=["read_file"],
)
FILTERED = AgentSpec(
    name="filtered",
    instructions="Answer in one sentence.",
    model_route=[ModelRef(ref="anthropic:filtered-model?maximum_attempts=1")],
)
PROBES = AgentSpec(
    name="probes-after-a-wait",
    instructions="Answer in one sentence.",
    model_route=[
        ModelRef(ref="openai:probe-primary?maximum_attempts=2&initial_interval_s=0.2"),
        ModelRef(ref="anthropic:probe-backup?maximum_attempts=2&initial_interval_s=0.2"),
    ],
    recovery=RecoverySettings(initial_delay_s=1, max_delay_s=2, window_s=600),
)
WINDOW_CLOSES = AgentSpec(
    name="window-closes",
    instructions="Answer in one sentence.",
    model_route=[ModelRef(ref="openai:window-model?maximum_attempts=1")],
    recovery=RecoverySettings(initial_delay_s=1, max_delay_s=2, window_s=3),
)
# The next two histories were recorded by the code before the patches they guard (commit
# b24c5f8; the cut-off answer with this branch's activities beside that workflow code, as in
# a rolling deploy): they replay the old branches of ``model-route-window-at-first-failure``
# and ``model-answer-stop-reasons``. Recorded again today they would take the new ones.
TWO_DOWN = AgentSpec(
    name="two-models-down",
    instructions="Answer in one sentence.",
    model_route=[
        ModelRef(ref="openai:two-down-primary?maximum_attempts=2&initial_interval_s=0.2"),
        ModelRef(ref="anthropic:two-down-backup?maximum_attempts=2&initial_interval_s=0.2"),
    ],
    recovery=RecoverySettings(initial_delay_s=1, max_delay_s=2, window_s=600),
)
CUT_OFF_OLD = AgentSpec(
    name="cut-off-before-stop-reasons",
    instructions="Answer in one sentence.",
    model_route=[ModelRef(ref="openai:cut-off-old-model?maximum_attempts=1")],
)
FAILS_ON_CONFIG = AgentSpec(
    name="fails-on-config",
    instructions="Answer in one sentence.",
    model_route=[ModelRef(ref="openai:config-model?maximum_attempts=1")],
    recovery=RecoverySettings(on_config_error=OnConfigError.FAIL),
)


async def _start(
    rec: Recording,
    agent: str,
    goal: str,
    *,
    workflow: str = "AgentWorkflow",
    inputs: dict[str, str] | None = None,
) -> WorkflowHandle[Any, TaskResult]:
    return await rec.client.start_workflow(
        workflow,
        TaskInput(agent=agent, goal=goal, inputs=inputs or {}),
        id=f"record-{agent}-{uuid.uuid4().hex[:6]}",
        task_queue=rec.settings.task_queue,
        result_type=TaskResult,
    )


async def _until(
    handle: WorkflowHandle[Any, Any], predicate: Callable[[TaskState], bool]
) -> TaskState:
    async with asyncio.timeout(60):
        while True:
            with contextlib.suppress(Exception):  # the first workflow task may not have run
                state: TaskState = await handle.query("state", result_type=TaskState)
                if predicate(state):
                    return state
            await asyncio.sleep(0.1)


def _at_gate(gate_id: str) -> Callable[[TaskState], bool]:
    return lambda s: s.pending is not None and s.pending.gate_id == gate_id


async def _decide(handle: WorkflowHandle[Any, Any], gate_id: str, decision: Decision) -> None:
    await _until(handle, _at_gate(gate_id))
    await handle.execute_update(
        "decide_and_confirm", decision.model_copy(update={"gate_id": gate_id})
    )


async def _finish(handle: WorkflowHandle[Any, Any]) -> WorkflowHandle[Any, Any]:
    with contextlib.suppress(Exception):  # FAILED and CANCELLED tasks are recorded too
        await handle.result()
    return handle


def _approve(who: str = "alice", comment: str = "") -> Decision:
    return Decision(kind=DecisionKind.APPROVE, approver=who, comment=comment)


def _reject(who: str, reason: str) -> Decision:
    return Decision(kind=DecisionKind.REJECT, approver=who, reason=reason)


def _decided(
    *decisions: Decision, agent: str = "workspace-analyst", goal: str = SAVE_GOAL
) -> RunScenario:
    async def run(rec: Recording) -> WorkflowHandle[Any, Any]:
        handle = await _start(rec, agent, goal)
        for number, decision in enumerate(decisions, start=1):
            await _decide(handle, f"g{number}", decision)
        return await _finish(handle)

    return run


async def _read_only(rec: Recording) -> WorkflowHandle[Any, Any]:
    return await _finish(await _start(rec, "workspace-analyst", READ_GOAL))


async def _edited(rec: Recording) -> WorkflowHandle[Any, Any]:
    handle = await _start(rec, "workspace-analyst", SAVE_GOAL)
    edit = Decision(
        kind=DecisionKind.EDIT,
        approver="alice",
        arguments={"path": "summary.md", "content": "Edited by alice.\n"},
    )
    await _decide(handle, "g1", edit)
    return await _finish(handle)


async def _paused_with_a_note(rec: Recording) -> WorkflowHandle[Any, Any]:
    handle = await _start(rec, "workspace-analyst", READ_GOAL)
    await handle.execute_update("control", ControlRequest(action=ControlAction.PAUSE, by="alice"))
    await _until(handle, lambda s: s.status is TaskStatus.PAUSED)
    note = ControlRequest(action=ControlAction.MESSAGE, by="alice", text="Mention the todo list.")
    await handle.execute_update("control", note)
    await handle.execute_update("control", ControlRequest(action=ControlAction.RESUME, by="bob"))
    return await _finish(handle)


async def _cancelled_at_gate(rec: Recording) -> WorkflowHandle[Any, Any]:
    handle = await _start(rec, "workspace-analyst", SAVE_GOAL)
    await _until(handle, _at_gate("g1"))
    await handle.cancel()
    return await _finish(handle)


async def _gate_times_out(rec: Recording) -> WorkflowHandle[Any, Any]:
    return await _finish(await _start(rec, TIMES_OUT.name, SAVE_GOAL))


async def _escalated(rec: Recording) -> WorkflowHandle[Any, Any]:
    handle = await _start(rec, ESCALATES.name, SAVE_GOAL)
    await _until(handle, lambda s: s.pending is not None and s.pending.escalated)
    await _decide(handle, "g1", _approve("boss"))
    return await _finish(handle)


async def _recovering(rec: Recording) -> WorkflowHandle[Any, Any]:
    rec.providers.script(
        fault(503, "overloaded"),
        fault(503, "still overloaded"),
        reply("Recovered."),
        model="recovering-model",
    )
    return await _finish(await _start(rec, RECOVERS.name, "Say hello."))


async def _failed_over(rec: Recording) -> WorkflowHandle[Any, Any]:
    rec.providers.set_default(fault(401, "bad key"), model="failover-primary")
    rec.providers.script(reply("Answered by the backup."), model="failover-backup")
    return await _finish(await _start(rec, FAILS_OVER.name, "Say hello."))


async def _cut_off(rec: Recording) -> WorkflowHandle[Any, Any]:
    """Cut off in its text (continued), then inside a tool call (asked again), then done."""
    rec.providers.script(
        truncated("The notes say"),
        truncated(" to ship", [FakeToolCall("read_file", '{"pa', id="cut")]),
        reply(" the release on Friday."),
        model="cut-off-model",
    )
    return await _finish(await _start(rec, CUT_OFF.name, "Say what the notes say."))


async def _filtered(rec: Recording) -> WorkflowHandle[Any, Any]:
    rec.providers.script(filtered(), model="filtered-model")
    return await _finish(await _start(rec, FILTERED.name, "Say hello."))


async def _two_down(rec: Recording) -> WorkflowHandle[Any, Any]:
    """Both down for two passes; on the third the primary still fails, the backup answers."""
    rec.providers.set_default(fault(503, "still down"), model="two-down-primary")
    rec.providers.script(*[fault(503)] * 4, reply("Back."), model="two-down-backup")
    return await _finish(await _start(rec, TWO_DOWN.name, "Say hello."))


async def _cut_off_old(rec: Recording) -> WorkflowHandle[Any, Any]:
    rec.providers.script(truncated("The notes say"), model="cut-off-old-model")
    return await _finish(await _start(rec, CUT_OFF_OLD.name, "Say what the notes say."))


async def _probes(rec: Recording) -> WorkflowHandle[Any, Any]:
    """Both down for the first pass; after the wait the primary's one try fails, the
    backup's answers."""
    rec.providers.set_default(fault(503, "still down"), model="probe-primary")
    rec.providers.script(fault(503), fault(503), reply("Back."), model="probe-backup")
    return await _finish(await _start(rec, PROBES.name, "Say hello."))


async def _window_closes(rec: Recording) -> WorkflowHandle[Any, Any]:
    rec.providers.set_default(fault(503, "down for good"), model="window-model")
    return await _finish(await _start(rec, WINDOW_CLOSES.name, "Say hello."))


async def _fails_on_config(rec: Recording) -> WorkflowHandle[Any, Any]:
    rec.providers.set_default(fault(401, "invalid api key"), model="config-model")
    return await _finish(await _start(rec, FAILS_ON_CONFIG.name, "Say hello."))


def _incident(*decisions: Decision) -> RunScenario:
    async def run(rec: Recording) -> WorkflowHandle[Any, Any]:
        handle = await _start(
            rec,
            "incident-report",
            "Weekly incident report for 2026-W47",
            workflow="IncidentReportWorkflow",
            inputs={"week": "2026-W47"},
        )
        for number, decision in enumerate(decisions, start=1):
            await _decide(handle, f"g{number}", decision)
        return await _finish(handle)

    return run


async def _parent_with_two_children(rec: Recording) -> WorkflowHandle[Any, Any]:
    """The lead's calls are gated by the default policy (no rule names call_agent_*), then
    the two children run at once; the scribe's write waits at its own gate."""
    rec.providers.script(
        reply(
            "Asking both.",
            [
                FakeToolCall("call_agent_scout", {"goal": "What do the notes say?"}, id="c1"),
                FakeToolCall("call_agent_scribe", {"goal": "Save a summary."}, id="c2"),
            ],
        ),
        reply("The notes say to ship on Friday; the summary is saved."),
        model="record-lead",
    )
    rec.providers.script(
        reply("Reading.", [FakeToolCall("read_file", {"path": "notes.md"}, id="r1")]),
        reply("Ship the release on Friday."),
        model="record-scout",
    )
    rec.providers.script(
        reply("", [FakeToolCall("write_file", {"path": "summary.md", "content": "Ship.\n"})]),
        reply("Saved summary.md."),
        model="record-scribe",
    )
    handle = await _start(rec, LEAD.name, "Find out what the notes say and save a summary.")
    await _decide(handle, "g1", _approve())
    await _decide(handle, "g2", _approve())
    scribe = rec.client.get_workflow_handle(f"{handle.id}/scribe-1-2")
    await _decide(scribe, "g1", _approve("bob"))
    return await _finish(handle)


async def _parent_paused_then_cancelled(rec: Recording) -> WorkflowHandle[Any, Any]:
    """A pause and a resume of the lead reach the child it waits for; its cancel too."""
    rec.providers.script(
        reply("", [FakeToolCall("call_agent_scribe", {"goal": "Save a summary."}, id="c1")]),
        model="record-lead",
    )
    rec.providers.script(
        reply("", [FakeToolCall("write_file", {"path": "summary.md", "content": "Ship.\n"})]),
        model="record-scribe",
    )
    handle = await _start(rec, LEAD.name, "Save a summary.")
    await _decide(handle, "g1", _approve())
    scribe = rec.client.get_workflow_handle(f"{handle.id}/scribe-1-1")
    await _until(scribe, _at_gate("g1"))
    await handle.execute_update("control", ControlRequest(action=ControlAction.PAUSE, by="alice"))
    await handle.execute_update("control", ControlRequest(action=ControlAction.RESUME, by="alice"))
    await handle.cancel()
    await _finish(scribe)
    return await _finish(handle)


async def _scheduled_incident_report(rec: Recording) -> WorkflowHandle[Any, Any]:
    """A weekly schedule, backfilled for Monday 23 November 2026: week 2026-W47 comes from
    {previous_iso_week} and the firing time, not from the day it ran."""
    client = TaskcraftClient(rec.client, rec.settings, catalog=SHIPPED)
    name = f"weekly-incidents-{uuid.uuid4().hex[:6]}"
    weekly = ScheduleDefinition(
        name=name,
        agent="incident-report",
        cron="0 9 * * MON",
        tz="Europe/Berlin",
        inputs={"week": "{previous_iso_week}"},
    )
    await client.schedules.create(weekly, paused=True)
    monday = datetime(2026, 11, 23, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    await client.schedules.backfill(name, monday, monday)
    handle = rec.client.get_workflow_handle(f"{name}-2026-11-23T08:00:00Z")
    await _decide(handle, "g1", _approve("carol", "ship it"))
    await _finish(handle)
    await client.schedules.delete(name)
    return handle


def _simple(agent: AgentSpec, goal: str = READ_GOAL) -> RunScenario:
    async def run(rec: Recording) -> WorkflowHandle[Any, Any]:
        return await _finish(await _start(rec, agent.name, goal))

    return run


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("analyst_read_only", _read_only),
    Scenario("analyst_approved_write", _decided(_approve())),
    Scenario("analyst_rejected_write", _decided(_reject("bob", "no files, please"))),
    Scenario("analyst_edited_write", _edited),
    Scenario("analyst_paused_with_a_note", _paused_with_a_note),
    Scenario("analyst_cancelled_at_gate", _cancelled_at_gate),
    Scenario("gate_timed_out", _gate_times_out, (TIMES_OUT,)),
    Scenario("gate_escalated_then_approved", _escalated, (ESCALATES,)),
    Scenario(
        "budget_gate_approved",
        _decided(_approve(), _approve(), agent=BUDGET_ASKS.name),
        (BUDGET_ASKS,),
    ),
    Scenario("budget_exhausted_fails", _simple(BUDGET_FAILS), (BUDGET_FAILS,)),
    Scenario(
        "final_answer_rejected_then_approved",
        _decided(
            _reject("bob", "Name the files."), _approve(), agent=FINAL_GATE.name, goal=READ_GOAL
        ),
        (FINAL_GATE,),
    ),
    Scenario("continued_as_new", _simple(RUNS_OF_ONE_STEP), (RUNS_OF_ONE_STEP,)),
    Scenario("model_recovering", _recovering, (RECOVERS,)),
    Scenario("model_failed_over", _failed_over, (FAILS_OVER,)),
    Scenario("model_recovering_two_models", _two_down, (TWO_DOWN,)),
    Scenario("answer_cut_off_taken_as_final", _cut_off_old, (CUT_OFF_OLD,)),
    Scenario("answer_cut_off_then_continued", _cut_off, (CUT_OFF,)),
    Scenario("answer_filtered", _filtered, (FILTERED,)),
    Scenario("model_probed_after_a_wait", _probes, (PROBES,)),
    Scenario("recovery_window_closed", _window_closes, (WINDOW_CLOSES,)),
    Scenario("config_error_failed_at_once", _fails_on_config, (FAILS_ON_CONFIG,)),
    Scenario(
        "incident_report_approved",
        _incident(_approve("carol", "ship it")),
    ),
    Scenario(
        "incident_report_rejected_then_approved",
        _incident(_reject("carol", "leave out internal ticket numbers"), _approve("carol")),
    ),
    # Recorded after the refactor: calls of one turn run at once (the analyst reads its
    # three files together), and the report reads its tools' structured data.
    Scenario("analyst_parallel_reads_approved_write", _decided(_approve())),
    Scenario("incident_report_structured_data", _incident(_approve("carol", "ship it"))),
    # Agents calling agents (children saved beside their parent) and a scheduled task.
    Scenario("parent_with_two_children", _parent_with_two_children, (LEAD, SCOUT, SCRIBE)),
    Scenario("scheduled_incident_report", _scheduled_incident_report),
    Scenario(
        "parent_paused_then_cancelled_with_a_child",
        _parent_paused_then_cancelled,
        (LEAD, SCOUT, SCRIBE),
    ),
)
