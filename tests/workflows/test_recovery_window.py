"""The recovery window and the order of tries after a wait, on the time-skipping clock.

Every time here is an event time in the task's history on the time-skipping server: the
server leaps over timers and retry backoffs, so these are the times the task would see.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import WorkflowFailureError, WorkflowHistory
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from infra.settings import Settings
from infra.worker_factory import build_worker
from taskcraft.agents import AgentSpec, RecoverySettings
from taskcraft.calls import MODEL_ACTIVITY
from taskcraft.model_ref import ModelRef, ModelRetry
from taskcraft.status import TaskStatus
from taskcraft.task import TaskInput, TaskResult, TaskState
from tests.support.fake_providers import FakeProviders, fault, reply
from workflows.search_attributes import AGENT, STATUS
from workflows.task.model_budget import PROBE_START_TO_CLOSE_S

# The defaults a route gets when it says nothing: 4 attempts, backoff 2 s, 4 s, 8 s.
DEFAULT_RETRY = ModelRetry()
# Between the workflow's clock and an event's time: a workflow task's latency, which a
# busy machine stretches (the clock only leaps while nothing runs).
SLACK = timedelta(seconds=5)


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def run_to_end(
    env: WorkflowEnvironment,
    providers: FakeProviders,
    data_dir: Path,
    tmp_path: Path,
    spec: AgentSpec,
) -> tuple[TaskState, WorkflowHistory]:
    """Run one task on the time-skipping server until it ends: its state and history."""
    settings = Settings(
        task_queue=f"win-{uuid.uuid4().hex[:10]}",
        data_dir=data_dir,
        workspace=tmp_path,
        env={
            "OPENAI_BASE_URL": providers.openai_base_url,
            "OPENAI_API_KEY": "test-key",
            "ANTHROPIC_BASE_URL": providers.anthropic_base_url,
            "ANTHROPIC_API_KEY": "test-key",
        },
    )
    async with (
        httpx.AsyncClient(timeout=30) as http,
        build_worker(env.client, settings, http, agents=[spec]),
    ):
        handle = await env.client.start_workflow(
            spec.workflow,
            TaskInput(agent=spec.name, goal="answer"),
            id=f"win-{uuid.uuid4().hex[:10]}",
            task_queue=settings.task_queue,
            result_type=TaskResult,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(AGENT, spec.name), SearchAttributePair(STATUS, "PENDING")]
            ),
        )
        with contextlib.suppress(WorkflowFailureError):  # the test reads state and history
            await handle.result()
        state = await handle.query("state", result_type=TaskState)
        history = await handle.fetch_history()
    return state, history


def at(event: Any) -> datetime:
    return event.event_time.ToDatetime()


def model_calls(history: WorkflowHistory) -> list[Any]:
    """The model activities' scheduled events, in order."""
    return [
        event
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
        and event.activity_task_scheduled_event_attributes.activity_type.name == MODEL_ACTIVITY
    ]


def started_attempts(history: WorkflowHistory) -> list[Any]:
    """Each model call's started event: the time and number of its last attempt."""
    calls = {event.event_id for event in model_calls(history)}
    return [
        event
        for event in history.events
        if event.HasField("activity_task_started_event_attributes")
        and event.activity_task_started_event_attributes.scheduled_event_id in calls
    ]


def event_of(history: WorkflowHistory, field: str) -> Any:
    return next(event for event in history.events if event.HasField(field))


async def test_the_window_opens_at_the_first_failure_and_no_attempt_starts_after_it(
    skipping_env: WorkflowEnvironment,
    providers: FakeProviders,
    skipping_data_dir: Path,
    tmp_path: Path,
) -> None:
    """Two models down, default retries (a pass takes 28 s of backoff), a 120 s window:
    FAILED 120 s after the first call began, as the window says (the old way: 174 s, as
    the window opened only after the first full pass and was checked between passes);
    every call after the first failure was cut to the time left, and no model call was
    scheduled or started after the window closed."""
    primary, backup = unique("primary"), unique("backup")
    providers.set_default(fault(503, "primary down"), model=primary)
    providers.set_default(fault(503, "backup down"), model=backup)
    window = timedelta(seconds=120)
    spec = AgentSpec(
        name="windowed",
        instructions="Answer.",
        model_route=[
            ModelRef(ref=f"openai:{primary}", retry=DEFAULT_RETRY),
            ModelRef(ref=f"anthropic:{backup}", retry=DEFAULT_RETRY),
        ],
        recovery=RecoverySettings(window_s=window.total_seconds()),  # tries after 30 s
    )

    state, history = await run_to_end(skipping_env, providers, skipping_data_dir, tmp_path, spec)

    assert state.status is TaskStatus.FAILED
    assert state.error is not None
    assert state.error.startswith(
        "every model in the route kept failing for 120s (the recovery window); last failures: "
        f"openai:{primary}: ModelUnavailable: "
    )
    calls = model_calls(history)
    first_call = at(calls[0])

    failed_at = at(event_of(history, "workflow_execution_failed_event_attributes"))
    assert abs(failed_at - first_call - window) < SLACK
    closes_at = first_call + window
    for event in [*calls, *started_attempts(history)]:
        assert at(event) < closes_at + SLACK
    for event in calls[1:]:  # after the first failure: held inside what was left
        scheduled = event.activity_task_scheduled_event_attributes
        cut_at = at(event) + scheduled.schedule_to_close_timeout.ToTimedelta()
        assert cut_at <= closes_at + SLACK
        assert scheduled.start_to_close_timeout.ToTimedelta() <= closes_at - at(event) + SLACK
    # The first pass: every default attempt of both (4 + 4), then at least the tries 30 s
    # later (with 62 s left), before the window closed.
    assert providers.count(model=primary) >= 4 + 1
    assert providers.count(model=backup) >= 4 + 1


async def test_after_a_wait_a_model_that_recovered_answers_after_one_try_of_one_still_down(
    skipping_env: WorkflowEnvironment,
    providers: FakeProviders,
    skipping_data_dir: Path,
    tmp_path: Path,
) -> None:
    """The primary stays down, the backup is back after the wait: the backup answers after
    one short try of the primary, not after the primary's four attempts again."""
    primary, backup = unique("primary"), unique("backup")
    providers.set_default(fault(503, "still down"), model=primary)
    providers.script(*[fault(503, "down")] * 4, reply("back"), model=backup)
    spec = AgentSpec(
        name="probing",
        instructions="Answer.",
        model_route=[
            ModelRef(ref=f"openai:{primary}", retry=DEFAULT_RETRY),
            ModelRef(ref=f"anthropic:{backup}", retry=DEFAULT_RETRY),
        ],
        recovery=RecoverySettings(initial_delay_s=60, window_s=3600),
    )

    state, history = await run_to_end(skipping_env, providers, skipping_data_dir, tmp_path, spec)

    assert (state.status, state.result) == (TaskStatus.COMPLETED, "back")
    assert providers.count(model=primary) == 4 + 1  # the first pass, then one try
    assert providers.count(model=backup) == 4 + 1
    timer = event_of(history, "timer_fired_event_attributes")
    after_the_wait = [event for event in model_calls(history) if at(event) >= at(timer)]
    budgets = [
        (
            event.activity_task_scheduled_event_attributes.retry_policy.maximum_attempts,
            event.activity_task_scheduled_event_attributes.start_to_close_timeout.ToTimedelta(),
        )
        for event in after_the_wait
    ]
    one_try = (1, timedelta(seconds=PROBE_START_TO_CLOSE_S))
    assert budgets == [one_try, one_try]  # the primary's try, then the backup's answer
    assert [s.model for s in state.steps] == [f"anthropic:{backup}"]
    assert len(state.steps[0].failovers) == 3  # two full budgets, one try


async def test_after_a_wait_probes_that_fail_are_followed_by_full_budgets(
    skipping_env: WorkflowEnvironment,
    providers: FakeProviders,
    skipping_data_dir: Path,
    tmp_path: Path,
) -> None:
    """Both still failing at their one try, the primary answers on a retry of its full
    budget: a probe comes first, never instead of the retries."""
    primary, backup = unique("primary"), unique("backup")
    providers.script(*[fault(503)] * 4, fault(503), fault(503), reply("third time"), model=primary)
    providers.set_default(fault(503), model=backup)
    spec = AgentSpec(
        name="probing",
        instructions="Answer.",
        model_route=[
            ModelRef(ref=f"openai:{primary}", retry=DEFAULT_RETRY),
            ModelRef(ref=f"anthropic:{backup}", retry=DEFAULT_RETRY),
        ],
        recovery=RecoverySettings(initial_delay_s=60, window_s=3600),
    )

    state, _ = await run_to_end(skipping_env, providers, skipping_data_dir, tmp_path, spec)

    assert (state.status, state.result) == (TaskStatus.COMPLETED, "third time")
    # First pass 4 + 4; after the wait one try each; then the primary's full budget.
    assert providers.count(model=primary) == 4 + 1 + 2
    assert providers.count(model=backup) == 4 + 1
