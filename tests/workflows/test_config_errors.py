"""Failures only an operator can fix: a wrong key, an unknown model, a provider not set.

Waiting does not fix them, so the status line says what answered and which worker
setting to fix; an agent may choose to fail at once instead (``on_config_error``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from temporalio.client import WorkflowFailureError

from cli.render import render_status
from taskcraft.agents import AgentSpec, OnConfigError, RecoverySettings
from taskcraft.controls import OperatorRequest
from taskcraft.model_ref import ModelRef, ModelRetry
from taskcraft.status import TaskStatus
from taskcraft.task import TaskState
from tests.support.fake_providers import fault, reply
from tests.workflows.conftest import Harness

WAITS = RecoverySettings(initial_delay_s=600, window_s=3600)


def agent(*refs: str, recovery: RecoverySettings = WAITS) -> AgentSpec:
    return AgentSpec(
        name="configured",
        instructions="Answer.",
        model_route=[ModelRef(ref=ref, retry=ModelRetry(maximum_attempts=1)) for ref in refs],
        recovery=recovery,
    )


def recovering(state: TaskState) -> bool:
    return state.status is TaskStatus.RECOVERING and state.recovery is not None


@pytest.mark.parametrize(
    ("provider", "status", "said"),
    [
        ("openai", 401, "answered 401 Unauthorized; fix OPENAI_API_KEY on the workers"),
        ("anthropic", 403, "answered 403 Forbidden; fix ANTHROPIC_API_KEY on the workers"),
        (
            "openai",
            404,
            "answered 404 Not Found; check the model name in the route, and OPENAI_BASE_URL "
            "on the workers",
        ),
    ],
)
async def test_the_status_line_says_what_answered_and_what_to_fix(
    harness: Harness, provider: str, status: int, said: str
) -> None:
    """A one-model route answering 401 waits in RECOVERING, and ``taskcraft status`` says
    so, naming the key to fix and how to try again; once fixed, ``resume`` completes it."""
    model = harness.model()
    harness.providers.script(fault(status, "no such key"), reply("fixed"), model=model)
    spec = agent(f"{provider}:{model}")
    async with harness.worker([spec]):
        handle = await harness.start(spec)
        waiting = await harness.wait_for(handle, recovering)
        await handle.signal("resume", OperatorRequest(by="alice"))
        result = await handle.result()
    line = f"{provider}:{model} {said}, then `taskcraft resume {handle.id}`"
    assert waiting.status_detail.startswith(line + "; otherwise every model in the route failed")
    shown = render_status(waiting, "http://ui", now=datetime.now(UTC), tz=UTC)
    assert f"Status    RECOVERING — {line}" in shown
    assert (result.status, result.result) == (TaskStatus.COMPLETED, "fixed")


async def test_a_provider_not_configured_names_the_variable_to_set(harness: Harness) -> None:
    """No ANTHROPIC_API_KEY on the worker: the status line says to set it; no request goes out."""
    model = harness.model()
    spec = agent(f"anthropic:{model}")
    async with harness.worker([spec], env={"ANTHROPIC_API_KEY": ""}):
        handle = await harness.start(spec)
        waiting = await harness.wait_for(handle, recovering)
        await handle.cancel()
    assert waiting.status_detail.startswith(
        f"anthropic:{model} is not configured on the worker; set ANTHROPIC_API_KEY on the "
        f"workers, then `taskcraft resume {handle.id}`"
    )
    assert harness.providers.count(model=model) == 0


async def test_a_transient_failure_beside_it_keeps_the_usual_status(harness: Harness) -> None:
    """Only the models that need an operator are named; a plain outage says nothing more."""
    primary, backup = harness.model("primary"), harness.model("backup")
    harness.providers.set_default(fault(503), model=primary)
    harness.providers.set_default(fault(401, "bad key"), model=backup)
    spec = agent(f"openai:{primary}", f"anthropic:{backup}")
    async with harness.worker([spec]):
        handle = await harness.start(spec)
        waiting = await harness.wait_for(handle, recovering)
        await handle.cancel()
    assert waiting.status_detail.startswith(
        f"anthropic:{backup} answered 401 Unauthorized; fix ANTHROPIC_API_KEY on the workers, "
        f"then `taskcraft resume {handle.id}`; otherwise every model in the route failed; "
        "recovery try 1 at "
    )
    assert primary not in waiting.status_detail


async def test_an_agent_may_fail_at_once_on_a_configuration_error(harness: Harness) -> None:
    """``on_config_error = "fail"``: a 401 fails the task at once, saying what to fix,
    with no RECOVERING wait; a plain outage would still wait."""
    model = harness.model()
    harness.providers.set_default(fault(401, "invalid x-api-key"), model=model)
    spec = agent(
        f"openai:{model}",
        recovery=WAITS.model_copy(update={"on_config_error": OnConfigError.FAIL}),
    )
    async with harness.worker([spec]):
        handle = await harness.start(spec)
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        state = await harness.state(handle)
        history = await handle.fetch_history()
    assert state.status is TaskStatus.FAILED
    assert state.error == (
        "the model route cannot answer until the workers' settings are fixed: "
        f"openai:{model} answered 401 Unauthorized; fix OPENAI_API_KEY on the workers "
        '(the agent\'s recovery.on_config_error is "fail", so the task did not wait); '
        f"last failures: openai:{model}: ModelAuthFailed: openai answered HTTP 401 "
        "(authentication or billing): invalid x-api-key"
    )
    assert not any(event.HasField("timer_started_event_attributes") for event in history.events)
    assert harness.providers.count(model=model) == 1


async def test_failing_at_once_still_fails_over_first(harness: Harness) -> None:
    """A 401 from the primary with ``on_config_error = "fail"``: the backup still answers."""
    primary, backup = harness.model("primary"), harness.model("backup")
    harness.providers.set_default(fault(401), model=primary)
    harness.providers.script(reply("backup answered"), model=backup)
    spec = agent(
        f"openai:{primary}",
        f"anthropic:{backup}",
        recovery=WAITS.model_copy(update={"on_config_error": OnConfigError.FAIL}),
    )
    async with harness.worker([spec]):
        result = await (await harness.start(spec)).result()
    assert (result.status, result.result) == (TaskStatus.COMPLETED, "backup answered")
