"""What the inbox reads from Temporal and sends to it; the inbox keeps no state of its own.

Tasks awaiting a human come from a visibility query on ``TaskcraftStatus``; everything
about a task comes from its ``state`` query; a decision is the ``decide_and_confirm``
update, the same one the CLI sends, so its validator decides what is allowed.

A query is answered by the task's worker. One task whose worker is gone must not hold
the whole list, so every query has a timeout and the list shows such a task as a row
without details.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from cli.tasks import TASK_WORKFLOW_TYPES
from taskcraft.approvals import Decision
from taskcraft.controls import UpdateOutcome
from taskcraft.errors import TaskcraftError, TemporalUnavailableError, UnknownTaskError
from taskcraft.status import TaskStatus
from taskcraft.task import TaskState
from workflows.search_attributes import AGENT

ClientFactory = Callable[[], Awaitable[Client]]

# Enough for one screen; the page says when there are more.
MAX_LISTED_TASKS = 200
# States queried at once when building the list.
QUERY_CONCURRENCY = 16
# A decision waits for the worker to validate and apply it.
UPDATE_TIMEOUT = timedelta(seconds=20)
# RPC failures that mean "Temporal is not reachable right now", not "the request is wrong".
OUTAGE_CODES = frozenset({RPCStatusCode.UNAVAILABLE})
# A query nobody answered: no worker polls the task's queue, or it is too busy. (The
# client reports its own rpc_timeout as CANCELLED "Timeout expired".)
NO_ANSWER_CODES = frozenset(
    {RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.FAILED_PRECONDITION}
)


class TaskNotAnsweringError(TaskcraftError):
    """The task's worker did not answer in time; Temporal itself is fine."""


class DecisionPendingError(TaskcraftError):
    """The decision was sent but no worker confirmed it in time; it may still apply."""


def awaiting_query(extra_filter: str = "") -> str:
    query = (
        "WorkflowType IN (" + ", ".join(f"'{name}'" for name in TASK_WORKFLOW_TYPES) + ")"
        f" AND TaskcraftStatus = '{TaskStatus.AWAITING_APPROVAL.value}'"
        " AND ExecutionStatus = 'Running'"
    )
    return f"{query} AND ({extra_filter})" if extra_filter else query


@dataclass(frozen=True)
class InboxRow:
    task_id: str
    agent: str
    started: datetime | None
    state: TaskState | None  # None: the task's worker did not answer (``problem`` says so)
    problem: str = ""


@dataclass(frozen=True)
class DecideResult:
    outcome: UpdateOutcome | None
    refusal: str | None


def _oldest_first(row: InboxRow) -> tuple[bool, datetime, str]:
    """Oldest request first; tasks that did not answer go last, oldest start first."""
    if row.state is not None and row.state.pending is not None:
        return (False, row.state.pending.asked_at, row.task_id)
    return (True, row.started or datetime.min.replace(tzinfo=UTC), row.task_id)


class TemporalAccess:
    """One lazily connected client per process (a failed connect is retried next request)."""

    def __init__(
        self, source: Client | ClientFactory, *, query_timeout_s: float, list_filter: str = ""
    ) -> None:
        self._client = source if isinstance(source, Client) else None
        self._factory = None if isinstance(source, Client) else source
        self._lock = asyncio.Lock()
        self._query_timeout = timedelta(seconds=query_timeout_s)
        self._list_query = awaiting_query(list_filter)

    async def client(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                assert self._factory is not None
                try:
                    self._client = await self._factory()
                except TaskcraftError:
                    raise
                except (RuntimeError, OSError) as error:
                    raise TemporalUnavailableError(
                        f"cannot reach the Temporal server ({str(error).splitlines()[0][:200]})"
                    ) from None
            return self._client

    async def state(self, task_id: str, run_id: str | None = None) -> TaskState:
        handle = (await self.client()).get_workflow_handle(task_id, run_id=run_id)
        try:
            state: TaskState = await handle.query(
                "state", result_type=TaskState, rpc_timeout=self._query_timeout
            )
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                raise UnknownTaskError(f"There is no task with id {task_id!r}.") from None
            if error.status in NO_ANSWER_CODES:
                raise TaskNotAnsweringError(
                    f"Task {task_id} did not answer within {self._query_timeout.total_seconds():g} s: "
                    "is a worker running for its task queue? Nothing was changed."
                ) from None
            raise
        return state

    async def all_runs(self, task_id: str) -> list[TaskState]:
        """The task's record in every run (continue-as-new), oldest first."""
        latest = await self.state(task_id)
        earlier = [await self.state(task_id, run) for run in latest.previous_run_ids]
        return [*earlier, latest]

    async def awaiting(self) -> tuple[list[InboxRow], bool]:
        """Tasks waiting at a gate, oldest request first, and whether the list was cut."""
        client = await self.client()
        found = []
        async for execution in client.list_workflows(self._list_query, limit=MAX_LISTED_TASKS + 1):
            found.append(execution)
        limit = asyncio.Semaphore(QUERY_CONCURRENCY)

        async def row(task_id: str, agent: str, started: datetime | None) -> InboxRow | None:
            async with limit:
                try:
                    state = await self.state(task_id)
                except UnknownTaskError:  # deleted between the list and the query
                    return None
                except TaskNotAnsweringError as error:
                    return InboxRow(task_id, agent, started, None, str(error))
            if state.pending is None:  # visibility lags a little: decided meanwhile
                return None
            return InboxRow(task_id, state.agent, started, state)

        rows = await asyncio.gather(
            *(
                row(e.id, e.typed_search_attributes.get(AGENT) or "-", e.start_time)
                for e in found[:MAX_LISTED_TASKS]
            )
        )
        listed = sorted((r for r in rows if r is not None), key=_oldest_first)
        return listed, len(found) > MAX_LISTED_TASKS

    async def decide(self, task_id: str, decision: Decision) -> DecideResult:
        """Send the decision; the answer is definite: applied, or refused and why."""
        handle = (await self.client()).get_workflow_handle(task_id)
        try:
            outcome: UpdateOutcome = await handle.execute_update(
                "decide_and_confirm",
                decision,
                result_type=UpdateOutcome,
                rpc_timeout=UPDATE_TIMEOUT,
            )
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            return DecideResult(outcome=None, refusal=str(getattr(cause, "message", cause)))
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise DecisionPendingError(
                f"No worker confirmed the decision within {UPDATE_TIMEOUT.seconds} s. It may "
                "still be applied when a worker picks the task up: reload the task page to see."
            ) from None
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise
            # The task has ended (or never existed): its record says which.
            state = await self.state(task_id)
            refusal = f"task is already {state.status.value}; there is nothing to decide"
            return DecideResult(outcome=None, refusal=refusal)
        if not outcome.applied:  # two decisions raced past the validator; this one lost
            return DecideResult(outcome=None, refusal=outcome.message)
        return DecideResult(outcome=outcome, refusal=None)
