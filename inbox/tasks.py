"""What the inbox reads from Temporal and sends to it, through the Python client.

The inbox keeps no state of its own: tasks awaiting a human come from a visibility query
on ``TaskcraftStatus``; a task's record comes from ``TaskcraftClient.read`` (its worker,
or its history when no worker answers, with a note saying so); a decision is the same
``decide_and_confirm`` update the CLI sends, so the task's validator decides what is
allowed. One task whose worker is gone never holds up the whole list.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio.client import Client
from temporalio.service import RPCStatusCode

from infra.settings import Settings
from taskcraft.approvals import Decision
from taskcraft.controls import UpdateOutcome
from taskcraft.errors import (
    DecisionRefusedError,
    TaskcraftError,
    TemporalUnavailableError,
    UnknownTaskError,
)
from taskcraft.status import TaskStatus
from taskcraft.task import TaskState
from taskcraft_client import TaskcraftClient
from workflows.search_attributes import AGENT

ClientFactory = Callable[[], Awaitable[Client | TaskcraftClient]]

# Enough for one screen; the page says when there are more.
MAX_LISTED_TASKS = 200
# States read at once when building the list.
READ_CONCURRENCY = 16
# RPC failures that mean "Temporal is not reachable right now", not "the request is wrong".
OUTAGE_CODES = frozenset({RPCStatusCode.UNAVAILABLE})


@dataclass(frozen=True)
class InboxRow:
    task_id: str
    agent: str
    started: datetime | None
    state: TaskState | None  # None: the task could not be read (``problem`` says why)
    problem: str = ""


@dataclass(frozen=True)
class DecideResult:
    outcome: UpdateOutcome | None
    refusal: str | None


def _oldest_first(row: InboxRow) -> tuple[bool, datetime, str]:
    """Oldest request first; tasks that could not be read go last, oldest start first."""
    if row.state is not None and row.state.pending is not None:
        return (False, row.state.pending.asked_at, row.task_id)
    return (True, row.started or datetime.min.replace(tzinfo=UTC), row.task_id)


class TemporalAccess:
    """One lazily connected client per process (a failed connect is retried next request)."""

    def __init__(
        self,
        source: Client | TaskcraftClient | ClientFactory,
        *,
        query_timeout_s: float,
        list_filter: str = "",
    ) -> None:
        self._query_timeout = timedelta(seconds=query_timeout_s)
        self._client = self._wrap(source) if isinstance(source, Client | TaskcraftClient) else None
        self._factory = None if self._client is not None else source
        self._lock = asyncio.Lock()
        self._list_filter = list_filter

    async def client(self) -> TaskcraftClient:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                assert callable(self._factory)
                try:
                    self._client = self._wrap(await self._factory())
                except TaskcraftError:
                    raise
                except (RuntimeError, OSError) as error:
                    raise TemporalUnavailableError(
                        f"cannot reach the Temporal server ({str(error).splitlines()[0][:200]})"
                    ) from None
            return self._client

    def _wrap(self, source: Client | TaskcraftClient) -> TaskcraftClient:
        client = (
            source if isinstance(source, TaskcraftClient) else TaskcraftClient(source, Settings())
        )
        client.query_timeout = self._query_timeout
        return client

    async def all_runs(self, task_id: str) -> tuple[list[TaskState], str | None]:
        """The task's record in every run (continue-as-new), oldest first, and a note."""
        client = await self.client()
        latest = await client.read(task_id)
        earlier = [
            (await client.read(task_id, run_id=run)).state for run in latest.state.previous_run_ids
        ]
        return [*earlier, latest.state], latest.note

    async def awaiting(self) -> tuple[list[InboxRow], bool]:
        """Tasks waiting at a gate, oldest request first, and whether the list was cut."""
        client = await self.client()
        query = client.list_query(status=TaskStatus.AWAITING_APPROVAL.value)
        query += " AND ExecutionStatus = 'Running'"
        if self._list_filter:
            query += f" AND ({self._list_filter})"
        found = [
            execution
            async for execution in client.temporal.list_workflows(query, limit=MAX_LISTED_TASKS + 1)
        ]
        limit = asyncio.Semaphore(READ_CONCURRENCY)

        async def row(task_id: str, agent: str, started: datetime | None) -> InboxRow | None:
            async with limit:
                try:
                    reading = await client.read(task_id)
                except UnknownTaskError:  # deleted between the list and the read
                    return None
                except TaskcraftError as error:
                    return InboxRow(task_id, agent, started, None, str(error))
            if reading.state.pending is None:  # visibility lags a little: decided meanwhile
                return None
            return InboxRow(
                task_id, reading.state.agent, started, reading.state, reading.note or ""
            )

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
        client = await self.client()
        try:
            outcome = await client.decide(task_id, decision)
        except DecisionRefusedError as error:
            return DecideResult(outcome=None, refusal=str(error).removeprefix("refused: "))
        return DecideResult(outcome=outcome, refusal=None)
