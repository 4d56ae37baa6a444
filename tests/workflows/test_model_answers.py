"""Answers that did not simply end: cut off at the output limit, or stopped by a filter.

OpenAI says ``finish_reason: "length"`` / ``"content_filter"``, Anthropic
``stop_reason: "max_tokens"`` / ``"refusal"``; the loopback providers speak both. A cut-off
answer is continued (or, cut inside a tool call, asked for again) and never completes a
task or runs a call as it is; a filtered one fails the task naming the provider's reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError

from cli.render import render_history
from taskcraft.agents import AgentSpec
from taskcraft.calls import TOOL_ACTIVITY, StopReason
from taskcraft.model_ref import ModelRef, ModelRetry
from taskcraft.status import TaskStatus
from taskcraft.task import ToolOutcome
from taskcraft.tools import tool
from tests.support.fake_providers import FakeToolCall, filtered, reply, truncated
from tests.workflows.conftest import Harness
from workflows.task.steps import ASK_AGAIN, CONTINUE, MAX_CONTINUATIONS

PROVIDERS = ["openai", "anthropic"]
NOTED: list[str] = []


@tool()
async def note(text: str) -> str:
    """Write a note down (the test reads what was written)."""
    NOTED.append(text)
    return "noted"


@pytest.fixture(autouse=True)
def open_policy(harness: Harness, tmp_path: Path) -> None:
    harness.allow_every_call(tmp_path / "policies")


def agent(provider: str, model: str) -> AgentSpec:
    return AgentSpec(
        name="answers",
        instructions="Answer.",
        model_route=[ModelRef(ref=f"{provider}:{model}", retry=ModelRetry(maximum_attempts=1))],
        tools=["note"],
        policy="open",
    )


def said(body: dict[str, Any]) -> list[tuple[str, str]]:
    """What a request said, as (role, text), on either wire format (Anthropic's text
    blocks one by one: it merges consecutive user messages into one turn)."""
    said = []
    for message in body["messages"]:
        content = message.get("content")
        if isinstance(content, list):
            said += [(message["role"], b["text"]) for b in content if b.get("type") == "text"]
        else:
            said.append((message["role"], content or ""))
    return said


def tool_runs(history: Any) -> int:
    return sum(
        1
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
        and event.activity_task_scheduled_event_attributes.activity_type.name == TOOL_ACTIVITY
    )


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_an_answer_cut_off_is_continued_and_joined(harness: Harness, provider: str) -> None:
    """Cut off twice, then finished: the task's answer is the three pieces joined, and the
    model was shown its partial answer and asked to continue exactly where it stopped."""
    model = harness.model()
    harness.providers.script(truncated("The answer"), truncated(" is"), reply(" 42."), model=model)
    spec = agent(provider, model)
    async with harness.worker([spec], tools=[note]):
        handle = await harness.start(spec, "What is the answer?")
        result = await handle.result()
        state = await harness.state(handle)
    assert (result.status, result.result) == (TaskStatus.COMPLETED, "The answer is 42.")
    [step] = state.steps
    assert (step.text, step.continuations) == ("The answer is 42.", 2)
    assert step.stop_reason is StopReason.LENGTH
    words = 'finish_reason "length"' if provider == "openai" else 'stop_reason "max_tokens"'
    assert step.stop_detail == words
    assert step.usage.output_tokens == 3 * 7  # every piece is paid for
    assert f"  ! cut off at the output limit ({words}); asked to go on 2 times" in (
        render_history([state]).splitlines()
    )
    first, second, third = harness.providers.requests(model=model)
    assert said(second.body)[-2:] == [("assistant", "The answer"), ("user", CONTINUE)]
    assert said(third.body)[-4:] == [
        ("assistant", "The answer"),
        ("user", CONTINUE),
        ("assistant", " is"),
        ("user", CONTINUE),
    ]
    assert said(first.body)[-1] == ("user", "What is the answer?")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_an_answer_that_never_ends_fails_the_task(harness: Harness, provider: str) -> None:
    """Cut off every time: after MAX_CONTINUATIONS continuations the task FAILS, saying why;
    the partial text never becomes its result."""
    model = harness.model()
    harness.providers.set_default(truncated("and so on"), model=model)
    spec = agent(provider, model)
    async with harness.worker([spec], tools=[note]):
        handle = await harness.start(spec)
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        state = await harness.state(handle)
    assert state.status is TaskStatus.FAILED
    assert state.result is None
    words = 'finish_reason "length"' if provider == "openai" else 'stop_reason "max_tokens"'
    assert state.error == (
        f"{provider}:{model}'s answer at step 1 was still cut off at its output limit "
        f"({words}) after {MAX_CONTINUATIONS} continuations; raise the model's output limit "
        "or ask for a shorter answer"
    )
    assert harness.providers.count(model=model) == 1 + MAX_CONTINUATIONS
    [step] = state.steps
    assert step.stop_reason is StopReason.LENGTH
    assert step.continuations == MAX_CONTINUATIONS
    assert step.text == "and so on" * (1 + MAX_CONTINUATIONS)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_tool_call_cut_off_is_never_run_and_asked_for_again(
    harness: Harness, provider: str
) -> None:
    """A call cut off mid-arguments is dropped, not run; the model is asked again from where
    the turn began, and only its complete call runs."""
    NOTED.clear()
    model = harness.model()
    harness.providers.script(
        truncated("Noting.", [FakeToolCall("note", '{"text": "half', id="cut_1")]),
        reply("Noting.", [FakeToolCall("note", {"text": "whole"}, id="call_2")]),
        reply("Noted."),
        model=model,
    )
    spec = agent(provider, model)
    async with harness.worker([spec], tools=[note]):
        handle = await harness.start(spec, "Note it.")
        result = await handle.result()
        state = await harness.state(handle)
        history = await handle.fetch_history()
    assert (result.status, result.result) == (TaskStatus.COMPLETED, "Noted.")
    assert NOTED == ["whole"]
    assert tool_runs(history) == 1
    first = state.steps[0]
    assert [(c.call_id, c.outcome) for c in first.tool_calls] == [("call_2", ToolOutcome.OK)]
    assert (first.stop_reason, first.continuations, first.text) == (
        StopReason.LENGTH,
        1,
        "Noting.",
    )
    again = harness.providers.requests(model=model)[1].body
    assert "cut_1" not in str(again)
    assert said(again)[-2:] == [("user", "Note it."), ("user", ASK_AGAIN)]


@pytest.mark.parametrize(
    ("provider", "words"),
    [("openai", 'finish_reason "content_filter"'), ("anthropic", 'stop_reason "refusal"')],
)
async def test_a_filtered_answer_fails_the_task_naming_the_reason(
    harness: Harness, provider: str, words: str
) -> None:
    """The provider's filter stopped the answer: FAILED with its reason, recorded on the
    step; the partial text is not the result and no retry or other model is asked."""
    NOTED.clear()
    model = harness.model()
    harness.providers.script(filtered("I can"), reply("never asked"), model=model)
    spec = agent(provider, model)
    async with harness.worker([spec], tools=[note]):
        handle = await harness.start(spec)
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        state = await harness.state(handle)
    assert state.status is TaskStatus.FAILED
    assert state.error == (
        f"{provider}:{model} stopped its answer at the provider's content filter ({words}) "
        "at step 1; the answer was not used"
    )
    assert state.result is None
    [step] = state.steps
    assert (step.stop_reason, step.stop_detail, step.text) == (
        StopReason.CONTENT_FILTER,
        words,
        "I can",
    )
    assert harness.providers.count(model=model) == 1
    assert f"  ! stopped by the provider's content filter ({words})" in (
        render_history([state]).splitlines()
    )
