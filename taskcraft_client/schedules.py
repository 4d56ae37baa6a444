"""Agents on a schedule: create, read and steer Temporal Schedules that start tasks.

Each schedule is a Temporal Schedule named like the schedule (its id), whose action
starts an ordinary task of one agent: listed, gated and audited like any other, with the
``TaskcraftSchedule`` search attribute naming the schedule, and with its inputs'
placeholders resolved from the time it fired (``taskcraft.schedules``). Temporal gives
each task the id ``<schedule>-<firing time>``. The definition as written is kept in the
action's memo, so ``show`` prints the cron expression given, not Temporal's calendars.

Through ``TaskcraftClient.schedules``::

    weekly = ScheduleDefinition(name="weekly", agent="incident-report",
                                cron="0 9 * * MON", tz="Europe/Berlin",
                                inputs={"week": "{previous_iso_week}"})
    await client.schedules.create(weekly)
    await client.schedules.backfill("weekly", start, end)
    await client.schedules.apply()       # every schedule the agent files declare
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from temporalio.client import (
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleBackfill,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from taskcraft.agents import AgentSpec
from taskcraft.errors import (
    InvalidInputError,
    ScheduleExistsError,
    TaskcraftError,
    UnknownAgentError,
    UnknownScheduleError,
)
from taskcraft.schedules import OverlapPolicy, ScheduleDefinition, ScheduledRun
from taskcraft.status import TaskStatus
from taskcraft.task import TaskInput
from taskcraft_client.schedule_view import RunningTask, ScheduleView
from workflows.search_attributes import AGENT, SCHEDULE, STATUS

if TYPE_CHECKING:
    from taskcraft_client.client import TaskcraftClient

MEMO_KEY = "taskcraft_schedule"
OVERLAP = {
    OverlapPolicy.SKIP: ScheduleOverlapPolicy.SKIP,
    OverlapPolicy.BUFFER_ONE: ScheduleOverlapPolicy.BUFFER_ONE,
    OverlapPolicy.ALLOW_ALL: ScheduleOverlapPolicy.ALLOW_ALL,
}
CLI_SOURCE = "taskcraft schedule create"


class StoredSchedule(BaseModel):
    """What the action's memo keeps: the definition as written, and where it came from."""

    definition: ScheduleDefinition
    source: str = CLI_SOURCE
    workflow: str = "AgentWorkflow"
    goal: str = ""


def definition_from(**fields: Any) -> ScheduleDefinition:
    """A definition from the CLI's flags; a problem is one ``InvalidInputError`` line."""
    try:
        return ScheduleDefinition.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInputError(f"{where}: {message}" if where else message) from None


class Schedules:
    def __init__(self, client: TaskcraftClient) -> None:
        self._client = client
        self._temporal = client.temporal

    # ----- writing ------------------------------------------------------------------

    async def create(
        self, definition: ScheduleDefinition, *, source: str = CLI_SOURCE, paused: bool = False
    ) -> ScheduleView:
        """Create it; everything is checked first (agent, inputs, timing), as ``start`` does."""
        schedule = self._schedule(definition, source, paused=paused)
        try:
            await self._temporal.create_schedule(
                definition.name,
                schedule,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(SCHEDULE, definition.name),
                        SearchAttributePair(AGENT, definition.agent),
                    ]
                ),
            )
        except ScheduleAlreadyRunningError:
            raise ScheduleExistsError(
                f"a schedule named {definition.name!r} already exists; delete it first "
                "(taskcraft schedule delete) or choose another name"
            ) from None
        except RPCError as error:
            raise _refused(error) from None
        return await self.show(definition.name)

    async def apply(self, agents: list[AgentSpec] | None = None) -> list[tuple[str, str]]:
        """Create or update every schedule the agents declare: (name, what happened).

        Idempotent: a schedule whose definition, goal, workflow and queue are unchanged
        is left alone, and an update keeps whether an operator paused it.
        """
        outcome = []
        chosen = agents if agents is not None else list(self._client.catalog.agents.values())
        for agent in sorted(chosen, key=lambda a: a.name):
            for definition in agent.schedules:
                source = agent.source or f"agent {agent.name}"
                outcome.append((definition.name, await self._apply(definition, source)))
        return outcome

    async def _apply(self, definition: ScheduleDefinition, source: str) -> str:
        handle = self._temporal.get_schedule_handle(definition.name)
        try:
            description = await handle.describe()
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise
            await self.create(definition, source=source)
            return "created"
        wanted = self._schedule(definition, source)
        if await self._stored(description) == await self._stored_of(wanted) and (
            _queue(description) == self._client.settings.task_queue
        ):
            return "unchanged"

        def update(current: ScheduleUpdateInput) -> ScheduleUpdate:
            state = current.description.schedule.state
            wanted.state = ScheduleState(paused=state.paused, note=state.note)
            return ScheduleUpdate(schedule=wanted)

        try:
            await handle.update(update)
        except RPCError as error:
            raise _refused(error) from None
        return "updated"

    async def pause(self, name: str, note: str = "") -> None:
        await self._describe(name)
        await self._handle(name).pause(note=note or "paused with taskcraft schedule pause")

    async def unpause(self, name: str, note: str = "") -> None:
        await self._describe(name)
        await self._handle(name).unpause(note=note or "unpaused with taskcraft schedule unpause")

    async def trigger(self, name: str) -> None:
        """Fire now, under the schedule's overlap policy (a skip still skips)."""
        await self._describe(name)
        await self._handle(name).trigger()

    async def backfill(
        self,
        name: str,
        start: datetime,
        end: datetime,
        overlap: OverlapPolicy = OverlapPolicy.ALLOW_ALL,
    ) -> None:
        """Start the tasks the schedule would have started from ``start`` to ``end`` (both
        included: a firing at either end runs), even while the schedule is paused.

        Each fires for its own time (placeholders resolve to it). ``allow_all`` (the
        default) starts them all at once; ``skip`` would keep only the first.
        """
        if end < start:
            raise InvalidInputError("backfill --to must not be before --from")
        await self._describe(name)
        try:
            await self._handle(name).backfill(
                ScheduleBackfill(start_at=start, end_at=end, overlap=OVERLAP[overlap])
            )
        except RPCError as error:
            raise _refused(error) from None

    async def delete(self, name: str) -> None:
        """Delete the schedule; the tasks it started are left as they are."""
        await self._describe(name)
        await self._handle(name).delete()

    # ----- reading ------------------------------------------------------------------

    async def all(self) -> list[ScheduleView]:
        """Every schedule Taskcraft created in the namespace, by name."""
        names = [
            listed.id
            async for listed in await self._temporal.list_schedules()
            if listed.typed_search_attributes.get(SCHEDULE) is not None
        ]
        views = []
        for name in sorted(names):
            try:
                views.append(await self.show(name))
            except UnknownScheduleError:  # deleted between the list and the read
                continue
        return views

    async def show(self, name: str) -> ScheduleView:
        description = await self._describe(name)
        stored = await self._stored(description)
        if stored is None:
            raise UnknownScheduleError(f"schedule {name!r} was not created by Taskcraft")
        info = description.info
        running = [
            await self._running(action.workflow_id)
            for action in info.running_actions
            if isinstance(action, ScheduleActionExecutionStartWorkflow)
        ]
        return ScheduleView(
            definition=stored.definition,
            source=stored.source,
            goal=stored.goal,
            task_queue=_queue(description),
            paused=description.schedule.state.paused,
            note=description.schedule.state.note or "",
            next_runs=list(info.next_action_times[:5]),
            recent=[
                (result.scheduled_at, result.action.workflow_id)
                for result in info.recent_actions[-5:]
                if isinstance(result.action, ScheduleActionExecutionStartWorkflow)
            ],
            running=running,
            skipped_overlap=info.num_actions_skipped_overlap,
            missed_catch_up=info.num_actions_missed_catchup_window,
        )

    async def _running(self, task_id: str) -> RunningTask:
        try:
            state = (await self._client.read(task_id)).state
        except TaskcraftError:
            return RunningTask(task_id, "-")
        return RunningTask(task_id, state.status.value, state.status_detail)

    # ----- helpers ------------------------------------------------------------------

    def _schedule(
        self, definition: ScheduleDefinition, source: str, *, paused: bool = False
    ) -> Schedule:
        agent = self._client.catalog.agent(definition.agent)
        if agent is None:
            raise UnknownAgentError(
                f"unknown agent {definition.agent!r}; known agents: "
                f"{self._client.catalog.known_agents()}"
            )
        inputs = definition.checked_inputs(agent.inputs, at=datetime.now(UTC))
        goal = definition.goal.strip() or agent.description
        if not goal:
            raise InvalidInputError(f"agent {agent.name!r} needs a goal (--goal)")
        stored = StoredSchedule(
            definition=definition, source=source, workflow=agent.workflow, goal=goal
        )
        return Schedule(
            action=ScheduleActionStartWorkflow(
                agent.workflow,
                TaskInput(
                    agent=agent.name,
                    goal=goal,
                    inputs=inputs,
                    schedule=ScheduledRun(name=definition.name, tz=definition.tz),
                ),
                id=definition.name,
                task_queue=self._client.settings.task_queue,
                memo={MEMO_KEY: stored.model_dump(mode="json")},
                typed_search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(AGENT, agent.name),
                        SearchAttributePair(STATUS, TaskStatus.PENDING.value),
                        SearchAttributePair(SCHEDULE, definition.name),
                    ]
                ),
                static_summary=f"{agent.name} (schedule {definition.name}): {goal[:100]}",
            ),
            spec=ScheduleSpec(
                cron_expressions=[definition.cron] if definition.cron else [],
                intervals=(
                    [ScheduleIntervalSpec(every=timedelta(seconds=definition.every_s))]
                    if definition.every_s
                    else []
                ),
                time_zone_name=definition.tz,
            ),
            policy=SchedulePolicy(
                overlap=OVERLAP[definition.overlap],
                catchup_window=timedelta(seconds=definition.catch_up_window_s),
            ),
            state=ScheduleState(paused=paused, note="created paused" if paused else None),
        )

    def _handle(self, name: str) -> ScheduleHandle:
        return self._temporal.get_schedule_handle(name)

    async def _describe(self, name: str) -> ScheduleDescription:
        try:
            return await self._handle(name).describe()
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                raise UnknownScheduleError(
                    f"no schedule named {name!r} (see `taskcraft schedule list`)"
                ) from None
            raise

    async def _stored(self, description: ScheduleDescription) -> StoredSchedule | None:
        return await self._stored_of(description.schedule)

    async def _stored_of(self, schedule: Schedule) -> StoredSchedule | None:
        action = schedule.action
        memo = action.memo if isinstance(action, ScheduleActionStartWorkflow) else None
        if not memo or MEMO_KEY not in memo:
            return None
        value = memo[MEMO_KEY]
        if not isinstance(value, dict):  # as described by the server: still encoded
            [value] = await self._temporal.data_converter.decode([value], [dict])
        return StoredSchedule.model_validate(value)


def _queue(description: ScheduleDescription) -> str:
    action = description.schedule.action
    return action.task_queue if isinstance(action, ScheduleActionStartWorkflow) else "-"


def _refused(error: RPCError) -> TaskcraftError:
    if error.status is RPCStatusCode.INVALID_ARGUMENT:
        return InvalidInputError(f"Temporal refused the schedule: {error.message}")
    return TaskcraftError(f"Temporal refused the request: {error.message}")
