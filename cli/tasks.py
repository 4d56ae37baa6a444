"""CLI commands that act on tasks through Temporal: start, status, list, history, controls."""

from __future__ import annotations

import json
import secrets
import sys
from argparse import Namespace
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from cli.render import render_audit, render_history, render_status
from infra.settings import Settings
from taskcraft.agents import AgentSpec
from taskcraft.approvals import Decision, DecisionKind
from taskcraft.catalog import find_agent
from taskcraft.controls import ControlAction, ControlRequest, UpdateOutcome
from taskcraft.errors import InvalidInputError, TemporalUnavailableError, UnknownTaskError
from taskcraft.links import task_ui_url
from taskcraft.status import TaskStatus
from taskcraft.task import TaskInput, TaskResult, TaskState
from workflows.search_attributes import AGENT, STATUS

TASK_WORKFLOW_TYPES = ("AgentWorkflow", "IncidentReportWorkflow")


def parse_inputs(pairs: list[str]) -> dict[str, str]:
    inputs: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"--input {pair!r} must look like KEY=VALUE")
        inputs[key.strip()] = value
    return inputs


def _emit(data: Any, as_json: bool, text: str) -> None:
    print(json.dumps(data, indent=2, default=str) if as_json else text)


QUERY_TIMEOUT = timedelta(seconds=10)


async def fetch_state(client: Client, task_id: str, run_id: str | None = None) -> TaskState:
    """The task's record, from the ``state`` query (answered by a worker)."""
    handle = client.get_workflow_handle(task_id, run_id=run_id)
    try:
        state: TaskState = await handle.query(
            "state", result_type=TaskState, rpc_timeout=QUERY_TIMEOUT
        )
        return state
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise UnknownTaskError(f"no task with id {task_id!r}") from None
        if error.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.FAILED_PRECONDITION):
            raise TemporalUnavailableError(
                f"no worker answered for task {task_id!r} ({error.message}); is a worker running "
                "on its task queue?"
            ) from None
        raise


async def fetch_all_runs(client: Client, task_id: str) -> list[TaskState]:
    latest = await fetch_state(client, task_id)
    earlier = [await fetch_state(client, task_id, run) for run in latest.previous_run_ids]
    return [*earlier, latest]


async def start(client: Client, settings: Settings, args: Namespace) -> int:
    spec: AgentSpec = find_agent(args.agent)
    inputs = parse_inputs(args.input or [])
    goal = (args.goal or "").strip() or spec.description
    if not goal:
        raise InvalidInputError(f"agent {spec.name!r} needs a --goal")
    task_id = args.id or f"{spec.name}-{secrets.token_hex(4)}"
    routes = [part.strip() for part in (args.model or "").split(",") if part.strip()] or None
    handle: WorkflowHandle[Any, TaskResult] = await client.start_workflow(
        spec.workflow,
        TaskInput(
            agent=spec.name, goal=goal, inputs=inputs, model_route=routes, policy=args.policy
        ),
        id=task_id,
        task_queue=settings.task_queue,
        result_type=TaskResult,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(AGENT, spec.name),
                SearchAttributePair(STATUS, TaskStatus.PENDING.value),
            ]
        ),
        static_summary=f"{spec.name}: {goal[:120]}",
        static_details=f"Agent `{spec.name}` — {spec.description}\n\nGoal: {goal}",
    )
    url = task_ui_url(settings.ui_url, client.namespace, task_id)
    print(f"Started task {task_id}")
    print(f"Temporal UI: {url}")
    if not args.wait:
        return 0
    try:
        result = await handle.result()
    except WorkflowFailureError:
        state = await fetch_state(client, task_id)
        print(f"Task {task_id} {state.status.value}: {state.error or 'see taskcraft history'}")
        return 1
    print(f"Task {task_id} {result.status.value} after {result.steps} steps")
    print(result.result or "")
    return 0


async def status(client: Client, settings: Settings, args: Namespace) -> int:
    state = await fetch_state(client, args.task_id)
    url = task_ui_url(settings.ui_url, client.namespace, state.task_id)
    _emit(state.model_dump(mode="json"), args.json, render_status(state, url))
    return 0


async def history(client: Client, settings: Settings, args: Namespace) -> int:
    states = await fetch_all_runs(client, args.task_id)
    steps = [step.model_dump(mode="json") for state in states for step in state.steps]
    data = {
        "task_id": args.task_id,
        "status": states[-1].status,
        "steps": steps,
        "decisions": [d.model_dump(mode="json") for d in states[-1].decisions],
    }
    _emit(data, args.json, render_history(states))
    return 0


async def audit(client: Client, settings: Settings, args: Namespace) -> int:
    states = await fetch_all_runs(client, args.task_id)
    records = [record.model_dump(mode="json") for state in states for record in state.audit]
    data = {
        "task_id": args.task_id,
        "policy": states[-1].policy_name,
        "policy_hash": states[-1].policy_hash,
        "decisions": records,
    }
    _emit(data, args.json, render_audit(states))
    return 0


def _list_query(status_filter: str | None, agent: str | None) -> str:
    clauses = ["WorkflowType IN (" + ", ".join(f"'{t}'" for t in TASK_WORKFLOW_TYPES) + ")"]
    if status_filter:
        try:
            clauses.append(f"TaskcraftStatus = '{TaskStatus(status_filter.upper()).value}'")
        except ValueError:
            names = ", ".join(s.value for s in TaskStatus)
            raise InvalidInputError(
                f"unknown status {status_filter!r}; use one of {names}"
            ) from None
    if agent:
        if "'" in agent:
            raise InvalidInputError("an agent name cannot contain quotes")
        clauses.append(f"TaskcraftAgent = '{agent}'")
    return " AND ".join(clauses)


async def list_tasks(client: Client, settings: Settings, args: Namespace) -> int:
    rows = []
    async for execution in client.list_workflows(
        _list_query(args.status, args.agent), limit=args.limit
    ):
        attributes = execution.typed_search_attributes
        rows.append(
            {
                "task_id": execution.id,
                "status": attributes.get(STATUS) or "-",
                "agent": attributes.get(AGENT) or "-",
                "started": execution.start_time.isoformat(),
                "temporal_status": execution.status.name if execution.status else "-",
            }
        )
    text = "\n".join(
        f"{r['task_id']:<40} {r['status']:<18} {r['agent']:<20} {r['started'][:19]}" for r in rows
    )
    _emit(rows, args.json, text or "No tasks match.")
    return 0


async def pending(client: Client, settings: Settings, args: Namespace) -> int:
    query = _list_query(None, None) + " AND TaskcraftStatus IN ('AWAITING_APPROVAL', 'PAUSED')"
    query += " AND ExecutionStatus = 'Running'"
    states = []
    async for execution in client.list_workflows(query):
        try:
            states.append(await fetch_state(client, execution.id))
        except (UnknownTaskError, TemporalUnavailableError) as error:
            print(f"warning: {execution.id}: {error}", file=sys.stderr)
    waiting = [s for s in states if s.status.awaits_human]
    waiting.sort(key=lambda s: (s.pending.asked_at if s.pending else s.updated_at) or s.created_at)  # type: ignore[arg-type,return-value]
    rows = []
    lines = []
    for state in waiting:
        what = (
            f"gate {state.pending.gate_id}: {state.pending.title}"
            if state.pending
            else f"paused by {state.paused_by}"
        )
        who = ", ".join(state.pending.allowed_approvers()) if state.pending else "-"
        rows.append(
            {
                "task_id": state.task_id,
                "agent": state.agent,
                "status": state.status,
                "waiting_for": what,
                "approvers": who or "any",
                "since": (state.pending.asked_at if state.pending else state.updated_at),
            }
        )
        lines.append(f"{state.task_id:<36} {state.status.value:<18} {what} (who: {who or 'any'})")
    _emit(rows, args.json, "\n".join(lines) or "Nothing is waiting for a human.")
    return 0


async def cancel(client: Client, settings: Settings, args: Namespace) -> int:
    state = await fetch_state(client, args.task_id)
    if state.status.is_terminal:
        raise InvalidInputError(f"task {args.task_id} is already {state.status.value}")
    await client.get_workflow_handle(args.task_id).cancel()
    print(f"Cancellation requested for {args.task_id}")
    return 0


async def _update(client: Client, task_id: str, name: str, arg: Any) -> UpdateOutcome:
    handle = client.get_workflow_handle(task_id)
    try:
        outcome: UpdateOutcome = await handle.execute_update(name, arg, result_type=UpdateOutcome)
        return outcome
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        raise InvalidInputError(f"refused: {getattr(cause, 'message', None) or cause}") from None
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            state = await fetch_state(client, task_id)
            raise InvalidInputError(f"refused: task is already {state.status.value}") from None
        raise


async def decide(client: Client, settings: Settings, args: Namespace) -> int:
    kind = DecisionKind(args.command)
    arguments = None
    if kind is DecisionKind.EDIT:
        if args.args is None and args.draft is None:
            raise InvalidInputError(
                "edit needs --args JSON (a tool call) or --draft TEXT (a draft)"
            )
        if args.args is not None:
            try:
                arguments = json.loads(args.args)
            except json.JSONDecodeError as error:
                raise InvalidInputError(f"--args is not valid JSON: {error.msg}") from None
            if not isinstance(arguments, dict):
                raise InvalidInputError("--args must be a JSON object")
    decision = Decision(
        kind=kind,
        approver=args.approver,
        gate_id=args.gate,
        comment=getattr(args, "comment", "") or "",
        reason=getattr(args, "reason", "") or "",
        arguments=arguments,
        draft=getattr(args, "draft", None),
    )
    return _report(
        args.task_id, await _update(client, args.task_id, "decide_and_confirm", decision)
    )


async def control(client: Client, settings: Settings, args: Namespace) -> int:
    request = ControlRequest(
        action=ControlAction(args.command), by=args.by, text=getattr(args, "text", "") or ""
    )
    return _report(args.task_id, await _update(client, args.task_id, "control", request))


def _report(task_id: str, outcome: UpdateOutcome) -> int:
    if not outcome.applied:
        raise InvalidInputError(f"not applied: {outcome.message}")
    print(f"{task_id}: {outcome.message}")
    return 0


def print_error(message: str) -> None:
    print(f"Error: {message}", file=sys.stderr)
