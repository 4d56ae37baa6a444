"""Agents on a schedule, on the dev server: Temporal Schedules starting ordinary tasks.

The time-skipping test server does not implement schedules (CreateSchedule answers
"unimplemented"), so these run on the dev server: a schedule that fires every two
seconds, and otherwise ``trigger`` and ``backfill``, which fire at once for any time.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from temporalio.service import RPCError

from infra.catalog import Catalog
from taskcraft.agents import AgentSpec
from taskcraft.schedules import OverlapPolicy, ScheduleDefinition
from taskcraft.status import TaskStatus
from taskcraft.task import TaskState
from taskcraft.tools import tool
from taskcraft_client import ScheduleView, TaskcraftClient
from tests.support.fake_providers import FakeToolCall, reply
from tests.workflows.conftest import Harness
from workflows.search_attributes import SCHEDULE

T = TypeVar("T")
BERLIN = ZoneInfo("Europe/Berlin")


@tool(requires_approval=True, side_effects="idempotent")
async def publish(text: str) -> str:
    """Publish a text; a person approves each one."""
    return f"published {text}"


def reporter(model: str, **fields: Any) -> AgentSpec:
    return AgentSpec.model_validate(
        {
            "name": "reporter",
            "description": "Writes the weekly report.",
            "instructions": "Report on the week you are given.",
            "model_route": [f"openai:{model}"],
            "tools": ["publish"],
            "policy": "open",
            "inputs": [
                {"name": "week", "type": "iso_week", "required": True},
                {"name": "fired", "description": "when the schedule fired"},
                {"name": "project", "default": "INC"},
            ],
            **fields,
        }
    )


@pytest.fixture(autouse=True)
def open_policy(harness: Harness, tmp_path: Path) -> None:
    harness.allow_every_call(tmp_path / "policies")


@pytest.fixture
async def names(harness: Harness) -> AsyncIterator[Callable[[str], str]]:
    """Schedule names unique to the test (schedules are namespace-wide); deleted after."""
    made: list[str] = []

    def name(base: str) -> str:
        made.append(f"{base}-{uuid.uuid4().hex[:6]}")
        return made[-1]

    yield name
    for made_name in made:
        with contextlib.suppress(RPCError):  # never created, or deleted by the test
            await harness.client.get_schedule_handle(made_name).delete()


def client_for(harness: Harness, *agents: AgentSpec) -> TaskcraftClient:
    return TaskcraftClient(
        harness.client, harness.settings, catalog=Catalog(agents={a.name: a for a in agents})
    )


async def until(
    read: Callable[[], Awaitable[T]], holds: Callable[[T], bool], within: float = 30
) -> T:
    """Read until ``holds``; the schedule's own workflow and visibility take a moment."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = await read()
        if holds(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within}s; last: {value}")
        await asyncio.sleep(0.1)


async def finished(harness: Harness, task_id: str) -> TaskState:
    handle = harness.client.get_workflow_handle(task_id)
    await handle.result()
    return await harness.state(handle)


async def test_a_schedule_fires_and_its_task_sees_the_firing_time(
    harness: Harness, names: Callable[[str], str]
) -> None:
    """Every 2 s; the first task's inputs are resolved from the time it fired for."""
    model = harness.model()
    harness.providers.set_default(reply("Reported."), model=model)
    agent = reporter(model)
    client = client_for(harness, agent)
    name = names("every-two-seconds")
    definition = ScheduleDefinition(
        name=name,
        agent="reporter",
        every_s=2,
        tz="Pacific/Kiritimati",  # UTC+14: its date is rarely the UTC date
        inputs={"week": "{previous_iso_week}", "fired": "{scheduled_time} {date}"},
    )
    async with harness.worker([agent], tools=[publish]):
        await client.schedules.create(definition)
        fired = await until(lambda: client.schedules.show(name), lambda v: bool(v.recent))
        await client.schedules.pause(name)
        scheduled_at, task_id = fired.recent[0]
        state = await finished(harness, task_id)
        description = await harness.client.get_workflow_handle(task_id).describe()
        listed = await until(lambda: client.list_tasks(schedule=name), bool)

    local = scheduled_at.astimezone(ZoneInfo("Pacific/Kiritimati"))
    year, number, _ = (local - timedelta(days=7)).isocalendar()
    assert task_id == f"{name}-{scheduled_at.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    assert state.status is TaskStatus.COMPLETED
    assert state.schedule == name
    assert state.scheduled_at == scheduled_at
    assert state.inputs == {
        "week": f"{year}-W{number:02d}",
        "fired": f"{local.isoformat()} {local.date().isoformat()}",
        "project": "INC",
    }
    assert state.goal == "Writes the weekly report."
    assert description.typed_search_attributes.get(SCHEDULE) == name
    assert [row.task_id for row in listed][-1] == task_id
    assert listed[-1].schedule == name


async def test_overlap_skip_holds_while_a_run_waits_at_a_gate(
    harness: Harness, names: Callable[[str], str]
) -> None:
    model = harness.model()
    harness.providers.set_default(reply("Reported."), model=model)
    harness.providers.script(
        reply("", [FakeToolCall("publish", {"text": "report"}, id="p1")]), model=model
    )
    agent = reporter(model)
    client = client_for(harness, agent)
    name = names("skip-at-gate")
    definition = ScheduleDefinition(
        name=name, agent="reporter", cron="0 9 1 1 *", inputs={"week": "{iso_week}"}
    )
    async with harness.worker([agent], tools=[publish]):
        await client.schedules.create(definition)
        await client.schedules.trigger(name)
        first = await until(lambda: client.schedules.show(name), lambda v: bool(v.running))
        task_id = first.running[0].task_id
        await harness.wait_for(
            harness.client.get_workflow_handle(task_id), lambda s: bool(s.pending)
        )
        await client.schedules.trigger(name)
        skipped = await until(lambda: client.schedules.show(name), lambda v: v.skipped_overlap == 1)
        await client.approve(task_id, approver="alice")
        await finished(harness, task_id)
        await until(lambda: client.schedules.show(name), lambda v: not v.running)
        await client.schedules.trigger(name)
        later = await until(lambda: client.schedules.show(name), lambda v: len(v.recent) == 2)

    assert [task.status for task in skipped.running] == ["AWAITING_APPROVAL"]
    assert skipped.overlap_note == (
        "skip: the next firing is skipped while the last task runs "
        f"({task_id} is AWAITING_APPROVAL)"
    )
    assert [recent_id for _, recent_id in skipped.recent] == [task_id]
    # Once the task ended, the next firing ran (recent holds it) and was not skipped.
    assert later.skipped_overlap == 1
    assert later.recent[0][1] == task_id


async def test_backfill_creates_exactly_the_expected_runs(
    harness: Harness, names: Callable[[str], str]
) -> None:
    """Mondays 09:00 Berlin from 2 to 23 November 2026: four tasks, each for its own week."""
    model = harness.model()
    harness.providers.set_default(reply("Reported."), model=model)
    agent = reporter(model)
    client = client_for(harness, agent)
    name = names("weekly")
    definition = ScheduleDefinition(
        name=name,
        agent="reporter",
        cron="0 9 * * MON",
        tz="Europe/Berlin",
        inputs={"week": "{previous_iso_week}"},
    )
    async with harness.worker([agent], tools=[publish]):
        # Paused, so nothing but the backfill starts a task.
        await client.schedules.create(definition, paused=True)
        await client.schedules.backfill(
            name,
            datetime(2026, 11, 1, tzinfo=BERLIN),
            datetime(2026, 11, 23, 9, tzinfo=BERLIN),
            OverlapPolicy.ALLOW_ALL,
        )
        view: ScheduleView = await until(
            lambda: client.schedules.show(name), lambda v: len(v.recent) >= 4
        )
        states = [await finished(harness, task_id) for _, task_id in view.recent]
        listed = await until(lambda: client.list_tasks(schedule=name), lambda r: len(r) >= 4)

    mondays = [datetime(2026, 11, day, 8, tzinfo=UTC) for day in (2, 9, 16, 23)]
    assert [at for at, _ in view.recent] == mondays
    assert [task_id for _, task_id in view.recent] == [
        f"{name}-2026-11-{day:02d}T08:00:00Z" for day in (2, 9, 16, 23)
    ]
    assert [(s.scheduled_at, s.inputs["week"]) for s in states] == list(
        zip(mondays, ["2026-W44", "2026-W45", "2026-W46", "2026-W47"], strict=True)
    )
    assert sorted(row.task_id for row in listed) == sorted(t for _, t in view.recent)
    assert view.paused


async def test_apply_creates_the_declared_schedules_and_is_idempotent(
    harness: Harness, names: Callable[[str], str]
) -> None:
    name = names("declared")
    model = harness.model()
    declared = reporter(
        model,
        schedules=[{"name": name, "cron": "0 9 * * MON", "inputs": {"week": "{iso_week}"}}],
    )
    client = client_for(harness, declared)

    assert await client.schedules.apply() == [(name, "created")]
    assert await client.schedules.apply() == [(name, "unchanged")]
    await client.schedules.pause(name, "holiday")
    changed = declared.model_copy(
        update={"schedules": [declared.schedules[0].model_copy(update={"cron": "0 10 * * MON"})]}
    )
    client = client_for(harness, changed)
    assert await client.schedules.apply() == [(name, "updated")]
    view = await client.schedules.show(name)
    assert view.definition.cron == "0 10 * * MON"
    assert view.paused  # an operator's pause outlives the update
    assert view.note == "holiday"
    assert view.source == "agent reporter"  # a Python-defined agent; files give their path
    listed = await until(
        client.schedules.all, lambda views: name in [v.definition.name for v in views]
    )
    assert [v.definition.agent for v in listed if v.definition.name == name] == ["reporter"]
