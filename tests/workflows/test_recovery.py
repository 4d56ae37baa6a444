"""RECOVERING: every model in the route is down, the task waits and tries again.

Short recovery settings on the dev server show the state while it waits, recovery and
an operator's ``resume``; hour-long windows run on the time-skipping server, which skips
the durable timers while the test waits for the result.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowFailureError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from infra.settings import Settings
from infra.worker_factory import build_worker
from taskcraft.agents import AgentSpec, RecoverySettings
from taskcraft.controls import OperatorRequest
from taskcraft.model_ref import ModelRef, ModelRetry
from taskcraft.status import TaskStatus
from taskcraft.task import TaskInput, TaskResult, TaskState
from tests.support.fake_providers import FakeProviders, fault, reply
from tests.workflows.conftest import Harness
from workflows.search_attributes import AGENT, STATUS

ONE_TRY = ModelRetry(maximum_attempts=1)


def down_route(harness_model: Any) -> tuple[str, str, list[ModelRef]]:
    """Two models, each tried once per round (so a round is two requests)."""
    primary, backup = harness_model("primary"), harness_model("backup")
    route = [
        ModelRef(ref=f"openai:{primary}", retry=ONE_TRY),
        ModelRef(ref=f"anthropic:{backup}", retry=ONE_TRY),
    ]
    return primary, backup, route


def agent(route: list[ModelRef], recovery: RecoverySettings) -> AgentSpec:
    return AgentSpec(
        name="recovering", instructions="Answer.", model_route=route, recovery=recovery
    )


def is_recovering(state: TaskState) -> bool:
    return state.status is TaskStatus.RECOVERING and state.recovery is not None


def timer_delays(history: Any) -> list[timedelta]:
    """The durable timers the task started, in order: its RECOVERING waits."""
    return [
        event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        for event in history.events
        if event.HasField("timer_started_event_attributes")
    ]


async def test_all_models_down_then_one_recovers(harness: Harness) -> None:
    """RECOVERING names both failures and the next try; a model coming back completes it."""
    primary, backup, route = down_route(harness.model)
    harness.providers.set_default(fault(503, "primary overloaded"), model=primary)
    harness.providers.set_default(fault(503, "backup overloaded"), model=backup)
    recovery = RecoverySettings(
        initial_delay_s=0.5, backoff_coefficient=2.0, max_delay_s=1.0, window_s=60
    )
    spec = agent(route, recovery)
    async with harness.worker([spec]):
        handle = await harness.start(spec)
        waiting = await harness.wait_for(handle, is_recovering)
        metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
        harness.providers.script(reply("back online"), model=backup)
        result = await handle.result()
        state = await harness.state(handle)
        history = await handle.fetch_history()
    info = waiting.recovery
    assert info is not None
    assert info.attempt == 1
    assert info.cause == (
        f"openai:{primary}: ModelUnavailable: openai answered HTTP 503 (unavailable): "
        f"primary overloaded; anthropic:{backup}: ModelUnavailable: anthropic answered "
        "HTTP 503 (unavailable): backup overloaded"
    )
    # The window opened when the first failing call began; the first wait is 0.5 s long,
    # from the end of the pass (both calls failed meanwhile).
    assert timer_delays(history)[0] == timedelta(seconds=0.5)
    assert info.next_try_at - info.since >= timedelta(seconds=0.5)
    assert info.gives_up_at - info.since == timedelta(seconds=60)
    assert "recovery try 1" in waiting.status_detail
    assert f"Next try at {info.next_try_at.isoformat()}" in metadata.current_details
    assert "backup overloaded" in metadata.current_details
    assert (result.status, result.result) == (TaskStatus.COMPLETED, "back online")
    assert state.recovery is None
    rounds = harness.providers.count(model=backup)
    assert rounds >= 2
    assert harness.providers.count(model=primary) == rounds
    # Every failure on the way is on the step; the backup's last call was the answer.
    assert len(state.steps[0].failovers) == 2 * rounds - 1
    assert state.steps[0].model == f"anthropic:{backup}"


async def test_resume_ends_the_recovery_wait_early(harness: Harness) -> None:
    """A 10-minute recovery delay, cut short by the ``resume`` signal."""
    primary, backup, route = down_route(harness.model)
    harness.providers.set_default(fault(500), model=primary)
    harness.providers.script(fault(500), reply("resumed answer"), model=backup)
    spec = agent(route, RecoverySettings(initial_delay_s=600, window_s=3600))
    async with harness.worker([spec]):
        handle = await harness.start(spec)
        waiting = await harness.wait_for(handle, is_recovering)
        await handle.signal("resume", OperatorRequest(by="alice"))
        result = await asyncio.wait_for(handle.result(), timeout=15)
        state = await harness.state(handle)
        history = await handle.fetch_history()
    info = waiting.recovery
    assert info is not None
    assert timer_delays(history) == [timedelta(seconds=600)]
    assert info.next_try_at - info.since >= timedelta(seconds=600)
    assert (result.status, result.result) == (TaskStatus.COMPLETED, "resumed answer")
    assert state.recovery is None
    first, second = harness.providers.requests(model=backup)
    assert (second.timestamp - first.timestamp).total_seconds() < 15
    assert harness.providers.count(model=primary) == 2


# ----- hour-long windows, on the time-skipping server -------------------------------------


HOURLY = RecoverySettings(
    initial_delay_s=60, backoff_coefficient=2.0, max_delay_s=600, window_s=3600
)


async def run_skipping(
    env: WorkflowEnvironment,
    providers: FakeProviders,
    data_dir: Path,
    tmp_path: Path,
    spec: AgentSpec,
) -> tuple[TaskState, timedelta, BaseException | None]:
    """Run one task to its end: its final state, its duration in workflow time, its failure.

    The duration comes from the record (``created_at`` to the last status change): once
    nothing is left to run, the test server's clock leaps ahead, so reading it after the
    result measures nothing.
    """
    settings = Settings(
        task_queue=f"rec-{uuid.uuid4().hex[:10]}",
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
            id=f"rec-{uuid.uuid4().hex[:10]}",
            task_queue=settings.task_queue,
            result_type=TaskResult,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(AGENT, spec.name), SearchAttributePair(STATUS, "PENDING")]
            ),
        )
        failure: BaseException | None = None
        try:
            await handle.result()
        except WorkflowFailureError as error:
            failure = error
        state = await handle.query("state", result_type=TaskState)
    assert state.created_at is not None
    assert state.updated_at is not None
    return state, state.updated_at - state.created_at, failure


async def test_recovery_window_exhausted_ends_failed_with_the_cause(
    skipping_env: WorkflowEnvironment,
    providers: FakeProviders,
    skipping_data_dir: Path,
    tmp_path: Path,
) -> None:
    """An hour of growing waits (60 s … 600 s), then FAILED naming what kept failing."""
    primary, backup, route = down_route(lambda name: f"{name}-{uuid.uuid4().hex[:8]}")
    providers.set_default(fault(401, "key revoked"), model=primary)
    providers.set_default(fault(503, "still down"), model=backup)
    state, elapsed, failure = await run_skipping(
        skipping_env, providers, skipping_data_dir, tmp_path, agent(route, HOURLY)
    )
    assert failure is not None
    assert state.status is TaskStatus.FAILED
    assert state.recovery is None
    assert state.error is not None
    assert state.error.startswith(
        "every model in the route kept failing for 3600s (the recovery window); last failures: "
        f"openai:{primary}: ModelAuthFailed: "
    )
    assert f"anthropic:{backup}: ModelUnavailable: " in state.error
    assert "still down" in state.error
    # Waits of 60, 120, 240, 480, 600, 600, 600, 600, then 180 s to a last round that
    # leaves a pass of tries (2 x 60 s) before the window closes: ten rounds; then the
    # task waits out the window and fails when it closes.
    assert providers.count(model=primary) == 10
    assert providers.count(model=backup) == 10
    assert timedelta(seconds=3600) <= elapsed < timedelta(seconds=3660)


async def test_long_outage_recovers_after_growing_waits(
    skipping_env: WorkflowEnvironment,
    providers: FakeProviders,
    skipping_data_dir: Path,
    tmp_path: Path,
) -> None:
    """Down for five rounds (25 minutes of waits), back on the sixth: the task completes."""
    primary, backup, route = down_route(lambda name: f"{name}-{uuid.uuid4().hex[:8]}")
    providers.set_default(fault(503), model=primary)
    providers.script(*[fault(529)] * 5, reply("finally"), model=backup)
    state, elapsed, failure = await run_skipping(
        skipping_env, providers, skipping_data_dir, tmp_path, agent(route, HOURLY)
    )
    assert failure is None
    assert (state.status, state.result) == (TaskStatus.COMPLETED, "finally")
    assert providers.count(model=primary) == 6
    assert providers.count(model=backup) == 6
    # 60 + 120 + 240 + 480 + 600 seconds of waiting.
    assert timedelta(seconds=1500) <= elapsed < timedelta(seconds=1560)
