"""Model calls that fail: retries per reference, failover, malformed answers, routing.

Every test scripts the loopback providers under its own model names and counts the
requests each one received, so a retried or repeated call shows up as a number.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.worker import Worker

from infra.worker_factory import build_worker
from taskcraft.agents import AgentSpec, StepRoute
from taskcraft.calls import MODEL_ACTIVITY, ModelCallInput, ModelCallResult
from taskcraft.model_ref import ModelRef, ModelRetry
from taskcraft.status import TaskStatus
from taskcraft.task import ToolOutcome
from tests.support.fake_providers import FakeToolCall, empty, fault, malformed, reply
from tests.workflows.conftest import Harness

# Fast enough that only a Retry-After (or nothing) explains a long gap between attempts.
FAST = ModelRetry(initial_interval_s=0.1, maximum_interval_s=0.2, maximum_attempts=3)


def ref(provider: str, model: str, **retry: Any) -> ModelRef:
    return ModelRef(ref=f"{provider}:{model}", retry=FAST.model_copy(update=retry))


def agent(*route: ModelRef, **overrides: Any) -> AgentSpec:
    return AgentSpec(
        name="resilient",
        instructions="Answer from the files.",
        model_route=list(route),
        tools=["list_files", "read_file"],
        **overrides,
    )


def model_activity_queues(history: Any) -> list[str]:
    return [
        event.activity_task_scheduled_event_attributes.task_queue.name
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
        and event.activity_task_scheduled_event_attributes.activity_type.name == MODEL_ACTIVITY
    ]


async def test_rate_limit_waits_for_retry_after(harness: Harness) -> None:
    """A 429 with Retry-After: 2 is retried no sooner than 2 s later, though backoff is 0.1 s."""
    model = harness.model()
    harness.providers.script(fault(429, "slow down", retry_after=2), reply("ok"), model=model)
    spec = agent(ref("openai", model))
    async with harness.worker([spec]):
        result = await (await harness.start(spec)).result()
    assert (result.status, result.result) == (TaskStatus.COMPLETED, "ok")
    first, second = harness.providers.requests(model=model)
    assert (second.timestamp - first.timestamp).total_seconds() >= 2.0
    assert harness.providers.count(model=model) == 2


@pytest.mark.parametrize(
    "failure",
    [fault(500), malformed(), empty()],
    ids=["server-error", "body-not-json", "empty-answer"],
)
async def test_failed_attempt_is_retried_on_the_same_model(harness: Harness, failure: Any) -> None:
    """A 500, a body that is not JSON, or an empty answer: one retry, no failover, no crash."""
    model, other = harness.model(), harness.model("other")
    harness.providers.script(failure, reply("second time lucky"), model=model)
    spec = agent(ref("openai", model), ref("anthropic", other))
    async with harness.worker([spec]):
        handle = await harness.start(spec)
        result = await handle.result()
        state = await harness.state(handle)
    assert (result.status, result.result) == (TaskStatus.COMPLETED, "second time lucky")
    assert harness.providers.count(model=model) == 2
    assert harness.providers.count(model=other) == 0
    assert state.steps[0].failovers == []
    assert state.models_used == [f"openai:{model}"]


@pytest.mark.parametrize(
    ("retry", "env"),
    [
        ({"start_to_close_s": 1.5}, {}),
        ({}, {"TASKCRAFT_MODEL_TIMEOUT_S": "0.5"}),
    ],
    ids=["short-start-to-close", "short-read-timeout"],
)
async def test_slow_answer_times_out_then_retry_succeeds(
    harness: Harness, retry: dict[str, float], env: dict[str, str]
) -> None:
    """An answer slower than the call's deadline is abandoned as ModelTimeout and retried."""
    model = harness.model()
    harness.providers.script(reply("too late", delay_s=5), reply("in time"), model=model)
    spec = agent(ref("openai", model, **retry))
    async with harness.worker([spec], env=env):
        handle = await harness.start(spec)
        result = await asyncio.wait_for(handle.result(), timeout=4.5)
    assert (result.status, result.result) == (TaskStatus.COMPLETED, "in time")
    assert harness.providers.count(model=model) == 2


@activity.defn(name=MODEL_ACTIVITY)
async def hung_model_call(inp: ModelCallInput) -> ModelCallResult:
    """A worker that took the call and went silent: no answer, no heartbeat."""
    await asyncio.sleep(60)
    raise AssertionError("start-to-close should have ended this attempt")


async def test_temporal_timeout_fails_over_to_next_model(harness: Harness) -> None:
    """A start-to-close timeout (a TimeoutError cause, not an adapter error) fails over."""
    hung, backup = harness.model("hung"), harness.model("backup")
    harness.providers.script(reply("backup answered"), model=backup)
    spec = agent(
        ref("openai", hung, start_to_close_s=1.0, maximum_attempts=1), ref("anthropic", backup)
    )
    env = {**harness.settings.env, "TASKCRAFT_RATE_LIMIT_OPENAI": "100"}
    async with httpx.AsyncClient() as http:
        group = build_worker(
            harness.client, replace(harness.settings, env=env), http, agents=[spec]
        )
        # The openai queue is served by a worker that hangs instead of the real one (its
        # own connection: a client refuses two workers for the same queue).
        other_client = await Client.connect(
            harness.client.service_client.config.target_host,
            namespace=harness.client.namespace,
            data_converter=harness.client.data_converter,
        )
        silent = Worker(
            other_client,
            task_queue=group.model_workers["openai"].task_queue,
            activities=[hung_model_call],
        )
        async with group.main, silent:
            handle = await harness.start(spec)
            result = await handle.result()
            state = await harness.state(handle)
    assert (result.status, result.result) == (TaskStatus.COMPLETED, "backup answered")
    [failure] = state.steps[0].failovers
    assert failure.startswith(f"openai:{hung}: ModelTimeout: ")
    assert "start-to-close timeout" in failure
    assert state.steps[0].model == f"anthropic:{backup}"
    assert harness.providers.count(model=hung) == 0
    assert harness.providers.count(model=backup) == 1


async def test_auth_failure_is_not_retried_and_fails_over_with_the_conversation(
    harness: Harness,
) -> None:
    """A 401 gets no retry; the next provider answers the same conversation; all recorded."""
    (harness.workspace / "a.txt").write_text("alpha")
    primary, backup = harness.model("primary"), harness.model("backup")
    harness.providers.script(
        reply("Looking.", [FakeToolCall("read_file", {"path": "a.txt"}, id="c1")]),
        fault(401, "invalid x-api-key"),
        model=primary,
    )
    harness.providers.script(reply("a.txt says alpha"), model=backup)
    spec = agent(ref("openai", primary), ref("anthropic", backup))
    async with harness.worker([spec]):
        handle = await harness.start(spec)
        result = await handle.result()
        state = await harness.state(handle)
    assert (result.status, result.result) == (TaskStatus.COMPLETED, "a.txt says alpha")
    # One answer and one 401, though the reference allows three attempts.
    assert harness.providers.count("openai", primary) == 2
    assert harness.providers.count("anthropic", backup) == 1
    assert [s.model for s in state.steps] == [f"openai:{primary}", f"anthropic:{backup}"]
    assert state.steps[0].failovers == []
    [failure] = state.steps[1].failovers
    assert failure.startswith(f"openai:{primary}: ModelAuthFailed: ")
    assert "invalid x-api-key" in failure
    assert state.models_used == [f"openai:{primary}", f"anthropic:{backup}"]
    # The backup saw the whole conversation, the first model's tool call and its result.
    turns = harness.providers.requests("anthropic", backup)[0].body["messages"]
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert turns[1]["content"][-1]["type"] == "tool_use"
    assert turns[2]["content"][0]["tool_use_id"] == "c1"
    assert "alpha" in turns[2]["content"][0]["content"]


async def test_a_model_that_failed_is_tried_last_while_it_cools_down(harness: Harness) -> None:
    """After the primary gives up at step 1, steps 2 and 3 go straight to the backup:
    its retries are not paid again on every step while its provider is down."""
    (harness.workspace / "a.txt").write_text("alpha")
    primary, backup = harness.model("primary"), harness.model("backup")
    harness.providers.script(fault(503), fault(503), model=primary)
    harness.providers.script(
        reply("", [FakeToolCall("list_files", {"path": "."}, id="c1")]),
        reply("", [FakeToolCall("read_file", {"path": "a.txt"}, id="c2")]),
        reply("a.txt says alpha"),
        model=backup,
    )
    spec = agent(ref("openai", primary, maximum_attempts=2), ref("anthropic", backup))
    async with harness.worker([spec]):
        handle = await harness.start(spec)
        result = await handle.result()
        state = await harness.state(handle)
    assert (result.status, result.result) == (TaskStatus.COMPLETED, "a.txt says alpha")
    assert harness.providers.count(model=primary) == 2  # step 1's two attempts, no more
    assert [s.model for s in state.steps] == [f"anthropic:{backup}"] * 3
    assert [len(s.failovers) for s in state.steps] == [1, 0, 0]
    until = state.model_cooldowns[f"openai:{primary}"]
    assert until - state.steps[0].started_at >= timedelta(seconds=299)


async def test_route_retry_settings_come_from_taskcraft_model(harness: Harness) -> None:
    """TASKCRAFT_MODEL-style refs carry retry settings: 2 attempts, then the next model."""
    flaky, steady = harness.model("flaky"), harness.model("steady")
    harness.providers.script(fault(503), fault(503), reply("flaky late"), model=flaky)
    harness.providers.script(reply("steady answered"), model=steady)
    route = (f"openai:{flaky}?maximum_attempts=2&initial_interval_s=0.1", f"anthropic:{steady}")
    configured = replace(harness, settings=replace(harness.settings, default_route=route))
    spec = agent()  # no route of its own: the worker's default applies
    async with configured.worker([spec]):
        handle = await configured.start(spec)
        result = await handle.result()
        state = await configured.state(handle)
    assert result.result == "steady answered"
    assert harness.providers.count(model=flaky) == 2
    [failure] = state.steps[0].failovers
    assert failure.startswith(f"openai:{flaky}: ModelUnavailable: ")
    assert failure.endswith("(gave up after 2 attempts)")


async def test_broken_tool_call_arguments_become_an_observation(harness: Harness) -> None:
    """Anthropic sending unparseable tool input: an INVALID observation, and the task goes on."""
    model = harness.model()
    harness.providers.script(
        reply("", [FakeToolCall("read_file", '{"path": "a.txt"', id="toolu_1")]),
        reply("I will stop."),
        model=model,
    )
    spec = agent(ref("anthropic", model))
    async with harness.worker([spec]):
        handle = await harness.start(spec)
        result = await handle.result()
        state = await harness.state(handle)
    assert (result.status, result.result) == (TaskStatus.COMPLETED, "I will stop.")
    [call] = state.steps[0].tool_calls
    assert call.outcome is ToolOutcome.INVALID
    assert "not valid JSON" in call.observation
    assert harness.providers.count(model=model) == 2  # the broken answer was not re-asked
    second = harness.providers.requests(model=model)[1].body["messages"]
    result_block = second[-1]["content"][0]
    assert (result_block["type"], result_block["is_error"]) == ("tool_result", True)


async def test_step_routes_switch_model_from_step_three(harness: Harness) -> None:
    """A cheap model plans steps 1-2; from step 3 a stronger one takes the same conversation."""
    (harness.workspace / "a.txt").write_text("alpha")
    cheap, strong = harness.model("cheap"), harness.model("strong")
    harness.providers.script(
        reply("", [FakeToolCall("list_files", {"path": "."}, id="c1")]),
        reply("", [FakeToolCall("read_file", {"path": "a.txt"}, id="c2")]),
        model=cheap,
    )
    harness.providers.script(reply("It says alpha."), model=strong)
    spec = agent(
        ref("openai", cheap),
        step_routes=[StepRoute(from_step=3, route=[ref("anthropic", strong)])],
    )
    async with harness.worker([spec]):
        handle = await harness.start(spec)
        result = await handle.result()
        state = await harness.state(handle)
    assert result.result == "It says alpha."
    assert [s.model for s in state.steps] == [f"openai:{cheap}"] * 2 + [f"anthropic:{strong}"]
    assert state.models_used == [f"openai:{cheap}", f"anthropic:{strong}"]
    assert harness.providers.count(model=cheap) == 2
    assert harness.providers.count(model=strong) == 1
    turns = harness.providers.requests(model=strong)[0].body["messages"]
    assert len(turns) == 5  # goal, call, result, call, result
    assert "alpha" in json.dumps(turns[-1])


async def test_rate_limited_provider_calls_go_to_its_own_queue(harness: Harness) -> None:
    """With TASKCRAFT_RATE_LIMIT_OPENAI set, openai calls use <queue>-model-openai; others stay."""
    limited, other = harness.model("limited"), harness.model("other")
    harness.providers.script(fault(404, "no such model"), model=limited)
    harness.providers.script(reply("other answered"), model=other)
    spec = agent(ref("openai", limited), ref("anthropic", other))
    async with harness.worker([spec], env={"TASKCRAFT_RATE_LIMIT_OPENAI": "5"}):
        handle = await harness.start(spec)
        result = await handle.result()
    queue = harness.settings.task_queue
    assert result.result == "other answered"
    assert model_activity_queues(await handle.fetch_history()) == [f"{queue}-model-openai", queue]
    assert harness.providers.count(model=limited) == 1


async def test_provider_rate_limit_spaces_model_calls_across_tasks(harness: Harness) -> None:
    """At 4 calls per second, 8 calls from 4 tasks take over a second; unthrottled, ~0.2 s."""
    model = harness.model()
    harness.providers.set_default(
        reply("", [FakeToolCall("list_files", {"path": "."})]), model=model
    )
    spec = agent(ref("openai", model), max_steps=2)
    async with harness.worker([spec], env={"TASKCRAFT_RATE_LIMIT_OPENAI": "4"}):
        handles = [await harness.start(spec) for _ in range(4)]
        for handle in handles:
            with pytest.raises(WorkflowFailureError):  # max_steps: it never answers
                await handle.result()
    calls = harness.providers.requests(model=model)
    assert len(calls) == 8
    # Whatever burst the server's limiter allows, 8 calls at 4/s need over a second.
    assert (calls[-1].timestamp - calls[0].timestamp).total_seconds() >= 1.0


async def test_cancel_during_model_call_does_not_fail_over(harness: Harness) -> None:
    """Cancelling a task mid-call ends it CANCELLED; the next model in the route is not asked."""
    slow, backup = harness.model("slow"), harness.model("backup")
    harness.providers.script(reply("never seen", delay_s=5), model=slow)
    spec = agent(ref("openai", slow), ref("anthropic", backup))
    async with harness.worker([spec]):
        handle: WorkflowHandle[Any, Any] = await harness.start(spec)
        await harness.wait_for(handle, lambda _: harness.providers.count(model=slow) == 1)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        state = await harness.state(handle)
    assert state.status is TaskStatus.CANCELLED
    assert harness.providers.count(model=backup) == 0
