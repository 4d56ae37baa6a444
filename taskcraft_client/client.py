"""``TaskcraftClient``: start, read, list, decide and steer tasks from Python.

The CLI and the inbox are built on it, so an application gets exactly what they do
without shelling out::

    from taskcraft_client import TaskcraftClient

    client = await TaskcraftClient.connect()            # envconfig: TEMPORAL_ADDRESS, ...
    task = await client.start("ticket-triage", inputs={"project": "SUP"})
    state = await client.wait(task.task_id)
    await client.approve(task.task_id, approver="alice")

Every method raises only ``TaskcraftError``s (``taskcraft.errors``): unknown agents and
tasks, bad inputs, refused decisions, an unreachable server or worker, each with a
message a person can act on.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from infra.catalog import Catalog, catalog_for, workflow_name
from infra.connection import connect
from infra.settings import Settings
from taskcraft import handlers
from taskcraft.approvals import Decision, DecisionKind
from taskcraft.controls import ControlAction, ControlRequest, UpdateOutcome
from taskcraft.errors import (
    DecisionRefusedError,
    InvalidInputError,
    InvalidModelRefError,
    PolicyFileError,
    TaskExistsError,
    UnknownAgentError,
    UnknownTaskError,
    WorkerUnavailableError,
)
from taskcraft.inputs import validate_inputs
from taskcraft.links import task_ui_url
from taskcraft.model_ref import ModelRef
from taskcraft.policy.loader import load_named_policy
from taskcraft.status import TaskStatus
from taskcraft.task import TaskInput, TaskResult, TaskState
from taskcraft_client.records import Reading, no_worker_note, pollers, read
from taskcraft_client.schedules import Schedules
from taskcraft_client.task_tree import TaskTree, read_tree
from workflows.search_attributes import AGENT, SCHEDULE, STATUS

# A decision or control waits this long for the task's worker to validate and apply it.
UPDATE_TIMEOUT = timedelta(seconds=20)
QUERY_TIMEOUT = timedelta(seconds=5)
WAIT_POLL_S = 0.5


@dataclass(frozen=True)
class StartedTask:
    task_id: str
    agent: str
    url: str  # the task's page in the Temporal UI


@dataclass(frozen=True)
class TaskSummary:
    """One row of ``list``: what visibility knows without asking the task."""

    task_id: str
    agent: str
    status: str  # TaskStatus value, or "-" before the task set one
    started: datetime
    closed: bool
    parent: str | None = None  # a child task: the task whose agent called it
    schedule: str | None = None  # a scheduled task: the schedule that started it


class TaskcraftClient:
    def __init__(
        self, temporal: Client, settings: Settings, *, catalog: Catalog | None = None
    ) -> None:
        self.temporal = temporal
        self.settings = settings
        self._catalog = catalog
        # How long a running task's worker gets to answer before its history is read.
        self.query_timeout = QUERY_TIMEOUT

    @classmethod
    async def connect(cls, settings: Settings | None = None) -> TaskcraftClient:
        """Connect as configured (envconfig and ``TASKCRAFT_*``); see ``infra.connection``."""
        settings = settings or Settings.from_env(os.environ)
        return cls(await connect(settings), settings)

    @property
    def catalog(self) -> Catalog:
        """The agents (and workflows) this deployment's folders define, read once."""
        if self._catalog is None:
            self._catalog = catalog_for(self.settings)
        return self._catalog

    @property
    def workflows(self) -> list[type]:
        from workflows import WORKFLOWS

        return [*WORKFLOWS, *self.catalog.workflows]

    @property
    def schedules(self) -> Schedules:
        """Agents on a schedule: create, list, show, pause, trigger, backfill, apply."""
        return Schedules(self)

    def url(self, task_id: str) -> str:
        return task_ui_url(self.settings.ui_url, self.temporal.namespace, task_id)

    # ----- starting -----------------------------------------------------------------

    async def start(
        self,
        agent: str,
        *,
        goal: str | None = None,
        inputs: Mapping[str, str] | None = None,
        task_id: str | None = None,
        model: Sequence[str] | None = None,
        policy: str | None = None,
    ) -> StartedTask:
        """Start a task; everything is checked first, so a refusal creates no task."""
        spec = self.catalog.agent(agent)
        if spec is None:
            raise UnknownAgentError(
                f"unknown agent {agent!r}; known agents: {self.catalog.known_agents()} "
                "(add folders of agent files with TASKCRAFT_AGENTS)"
            )
        checked = validate_inputs(spec.name, spec.inputs, dict(inputs or {}))
        text = (goal or "").strip() or spec.description
        if not text:
            raise InvalidInputError(f"agent {spec.name!r} needs a goal (--goal)")
        route = list(model) if model else None
        for ref in route or []:
            try:
                ModelRef(ref=ref)
            except InvalidModelRefError as error:
                raise InvalidInputError(str(error)) from None
        if policy is not None:
            try:
                load_named_policy(policy, self.catalog.policy_dirs)
            except PolicyFileError as error:
                raise PolicyFileError(
                    f"--policy {policy}: {error} (the CLI reads the same TASKCRAFT_POLICY_DIRS "
                    "and agent folders as the workers)"
                ) from None
        task_id = task_id or f"{spec.name}-{secrets.token_hex(4)}"
        try:
            await self.temporal.start_workflow(
                spec.workflow,
                TaskInput(
                    agent=spec.name, goal=text, inputs=checked, model_route=route, policy=policy
                ),
                id=task_id,
                task_queue=self.settings.task_queue,
                result_type=TaskResult,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(AGENT, spec.name),
                        SearchAttributePair(STATUS, TaskStatus.PENDING.value),
                    ]
                ),
                static_summary=f"{spec.name}: {text[:120]}",
                static_details=f"Agent `{spec.name}` — {spec.description}\n\nGoal: {text}",
            )
        except WorkflowAlreadyStartedError:
            raise TaskExistsError(await self._exists_message(task_id)) from None
        return StartedTask(task_id=task_id, agent=spec.name, url=self.url(task_id))

    async def _exists_message(self, task_id: str) -> str:
        description = await self.temporal.get_workflow_handle(task_id).describe()
        if description.status is WorkflowExecutionStatus.RUNNING:
            where = "it is still running"
        else:
            name = description.status.name.lower() if description.status else "closed"
            where = f"it has {name}"
        return f"a task with id {task_id!r} already exists ({where}); choose another --id"

    # ----- reading ------------------------------------------------------------------

    async def read(self, task_id: str, *, run_id: str | None = None) -> Reading:
        """The task's record (live from its worker, or rebuilt from history) and a note."""
        return await read(
            self.temporal, task_id, self.workflows, run_id=run_id, query_timeout=self.query_timeout
        )

    async def state(self, task_id: str) -> TaskState:
        return (await self.read(task_id)).state

    async def runs(self, task_id: str) -> list[TaskState]:
        """The task's record in every run (continue-as-new), oldest first."""
        latest = await self.state(task_id)
        earlier = [(await self.read(task_id, run_id=run)).state for run in latest.previous_run_ids]
        return [*earlier, latest]

    async def tree(self, task_id: str) -> TaskTree:
        """The task's runs and, nested, the child tasks its agent called (``history``)."""
        return await read_tree(self.runs, task_id)

    def list_query(
        self, status: str | None = None, agent: str | None = None, schedule: str | None = None
    ) -> str:
        names = sorted({workflow_name(defn) for defn in self.workflows})
        clauses = ["WorkflowType IN (" + ", ".join(f"'{name}'" for name in names) + ")"]
        if status:
            try:
                clauses.append(f"TaskcraftStatus = '{TaskStatus(status.upper()).value}'")
            except ValueError:
                known = ", ".join(s.value for s in TaskStatus)
                raise InvalidInputError(f"unknown status {status!r}; use one of {known}") from None
        if agent:
            clauses.append(f"TaskcraftAgent = '{_literal('an agent name', agent)}'")
        if schedule:
            clauses.append(f"TaskcraftSchedule = '{_literal('a schedule name', schedule)}'")
        return " AND ".join(clauses)

    async def list_tasks(
        self,
        *,
        status: str | None = None,
        agent: str | None = None,
        schedule: str | None = None,
        limit: int = 100,
    ) -> list[TaskSummary]:
        rows = []
        async for execution in self.temporal.list_workflows(
            self.list_query(status, agent, schedule), limit=limit
        ):
            attributes = execution.typed_search_attributes
            rows.append(
                TaskSummary(
                    task_id=execution.id,
                    agent=attributes.get(AGENT) or "-",
                    status=attributes.get(STATUS) or "-",
                    started=execution.start_time,
                    closed=execution.status is not WorkflowExecutionStatus.RUNNING,
                    parent=execution.parent_id,
                    schedule=attributes.get(SCHEDULE),
                )
            )
        return rows

    async def pending(self) -> tuple[list[TaskState], list[str]]:
        """Tasks waiting for a human, oldest request first; and tasks that did not answer."""
        query = self.list_query() + " AND TaskcraftStatus IN ('AWAITING_APPROVAL', 'PAUSED')"
        query += " AND ExecutionStatus = 'Running'"
        states: list[TaskState] = []
        problems: list[str] = []
        async for execution in self.temporal.list_workflows(query):
            reading = await self.read(execution.id)
            if reading.note:
                problems.append(f"{execution.id}: {reading.note}")
            if reading.state.status.awaits_human:
                states.append(reading.state)
        states.sort(key=_waiting_since)
        return states, problems

    async def wait(self, task_id: str, *, poll_s: float = WAIT_POLL_S) -> TaskState:
        """Block until the task ends; its final record (COMPLETED, FAILED or CANCELLED)."""
        handle: WorkflowHandle[Any, Any] = self.temporal.get_workflow_handle(task_id)
        while True:
            description = await handle.describe()
            if description.status is not WorkflowExecutionStatus.RUNNING:
                return await self.state(task_id)
            await asyncio.sleep(poll_s)

    # ----- deciding and steering ----------------------------------------------------

    async def decide(self, task_id: str, decision: Decision) -> UpdateOutcome:
        """Answer the task's pending gate; a refusal raises ``DecisionRefusedError``."""
        outcome = await self._update(task_id, handlers.DECIDE_AND_CONFIRM, decision)
        if not outcome.applied:
            raise DecisionRefusedError(f"not applied: {outcome.message}")
        return outcome

    async def approve(
        self, task_id: str, *, approver: str, gate_id: str | None = None, comment: str = ""
    ) -> UpdateOutcome:
        return await self.decide(
            task_id,
            Decision(
                kind=DecisionKind.APPROVE, approver=approver, gate_id=gate_id, comment=comment
            ),
        )

    async def reject(
        self, task_id: str, *, approver: str, reason: str, gate_id: str | None = None
    ) -> UpdateOutcome:
        return await self.decide(
            task_id,
            Decision(kind=DecisionKind.REJECT, approver=approver, gate_id=gate_id, reason=reason),
        )

    async def edit(
        self,
        task_id: str,
        *,
        approver: str,
        arguments: dict[str, Any] | None = None,
        draft: str | None = None,
        gate_id: str | None = None,
        comment: str = "",
    ) -> UpdateOutcome:
        if arguments is None and draft is None:
            raise InvalidInputError("an edit needs replacement arguments or a replacement draft")
        return await self.decide(
            task_id,
            Decision(
                kind=DecisionKind.EDIT,
                approver=approver,
                gate_id=gate_id,
                arguments=arguments,
                draft=draft,
                comment=comment,
            ),
        )

    async def control(self, task_id: str, request: ControlRequest) -> UpdateOutcome:
        outcome = await self._update(task_id, handlers.CONTROL, request)
        if not outcome.applied:
            raise DecisionRefusedError(f"not applied: {outcome.message}")
        return outcome

    async def pause(self, task_id: str, *, by: str) -> UpdateOutcome:
        return await self.control(task_id, ControlRequest(action=ControlAction.PAUSE, by=by))

    async def resume(self, task_id: str, *, by: str) -> UpdateOutcome:
        return await self.control(task_id, ControlRequest(action=ControlAction.RESUME, by=by))

    async def message(self, task_id: str, text: str, *, by: str) -> UpdateOutcome:
        request = ControlRequest(action=ControlAction.MESSAGE, by=by, text=text)
        return await self.control(task_id, request)

    async def cancel(self, task_id: str) -> None:
        state = await self.state(task_id)
        if state.status.is_terminal:
            raise InvalidInputError(f"task {task_id} is already {state.status.value}")
        await self.temporal.get_workflow_handle(task_id).cancel()

    async def _update(self, task_id: str, name: str, argument: Any) -> UpdateOutcome:
        """Send an update the task's worker validates and applies, with a definite answer.

        With no worker on the task's queue nothing is sent: the caller is told which
        queue needs one, instead of waiting for an answer that cannot come.
        """
        handle: WorkflowHandle[Any, Any] = self.temporal.get_workflow_handle(task_id)
        try:
            description = await handle.describe()
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                raise UnknownTaskError(f"no task with id {task_id!r}") from None
            raise
        if description.status is not WorkflowExecutionStatus.RUNNING:
            state = await self.state(task_id)
            raise DecisionRefusedError(f"refused: task is already {state.status.value}")
        queue = description.raw_description.execution_config.task_queue.name
        if await pollers(self.temporal, queue) == 0:
            raise WorkerUnavailableError(
                f"nothing was sent to task {task_id}: {no_worker_note(queue)}"
            )
        try:
            outcome: UpdateOutcome = await handle.execute_update(
                name, argument, result_type=UpdateOutcome, rpc_timeout=UPDATE_TIMEOUT
            )
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            raise DecisionRefusedError(
                f"refused: {getattr(cause, 'message', None) or cause}"
            ) from None
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise WorkerUnavailableError(
                f"no worker confirmed it within {UPDATE_TIMEOUT.seconds} s; it may still apply "
                f"when a worker picks task {task_id} up (check with `taskcraft status`)"
            ) from None
        return outcome


def _literal(what: str, value: str) -> str:
    if "'" in value or "\\" in value:
        raise InvalidInputError(f"{what} cannot contain quotes or backslashes")
    return value


def _waiting_since(state: TaskState) -> datetime:
    moment = state.pending.asked_at if state.pending else (state.updated_at or state.created_at)
    assert moment is not None
    return moment
