"""The agent loop on a real dev server: steps, tools, records, search attributes."""

from __future__ import annotations

import json

from taskcraft.agents import AgentSpec
from taskcraft.messages import Role
from taskcraft.status import TaskStatus
from taskcraft.task import ToolOutcome
from tests.support.fake_providers import FakeToolCall, reply
from tests.workflows.conftest import Harness
from workflows.search_attributes import STATUS


def analyst(model: str, **overrides: object) -> AgentSpec:
    return AgentSpec.model_validate(
        {
            "name": "analyst",
            "instructions": "Answer from the files.",
            "model_route": [f"openai:{model}"],
            "tools": ["list_files", "read_file"],
            **overrides,
        }
    )


async def test_multi_step_task_completes_with_full_record(harness: Harness) -> None:
    """Two tool steps then an answer: status, steps, observations and SA all agree."""
    (harness.workspace / "notes.txt").write_text("alpha\nbeta\n")
    model = harness.model()
    harness.providers.script(
        reply("Let me look.", [FakeToolCall("list_files", {"path": "."}, id="c1")]),
        reply("Reading it.", [FakeToolCall("read_file", {"path": "notes.txt"}, id="c2")]),
        reply("notes.txt has two lines: alpha and beta."),
        model=model,
    )
    agent = analyst(model)
    async with harness.worker([agent]):
        handle = await harness.start(agent, "What is in notes.txt?")
        result = await handle.result()
        state = await harness.state(handle)
    assert result.status is TaskStatus.COMPLETED
    assert result.result == "notes.txt has two lines: alpha and beta."
    assert state.status is TaskStatus.COMPLETED
    assert state.step == 3
    assert [s.text for s in state.steps] == [
        "Let me look.",
        "Reading it.",
        "notes.txt has two lines: alpha and beta.",
    ]
    first, second = state.steps[0].tool_calls[0], state.steps[1].tool_calls[0]
    assert (first.name, first.outcome) == ("list_files", ToolOutcome.OK)
    assert "notes.txt" in first.observation
    assert (second.name, second.outcome) == ("read_file", ToolOutcome.OK)
    assert "alpha" in second.observation
    assert state.steps[0].usage.input_tokens == 11
    assert state.usage.tokens.total_tokens == 3 * 18
    assert state.models_used == [f"openai:{model}"]
    assert not state.offline_model
    assert state.policy_hash
    assert len(state.policy_hash) == 64
    assert [a.effect.value for a in state.audit] == ["allow", "allow"]
    description = await handle.describe()
    assert description.typed_search_attributes.get(STATUS) == "COMPLETED"


async def test_model_sees_observations_and_conversation_grows_by_reference(
    harness: Harness,
) -> None:
    """The third request carries both tool results; history never re-sends the conversation."""
    (harness.workspace / "a.txt").write_text("contents-of-a")
    model = harness.model()
    harness.providers.script(
        reply("", [FakeToolCall("read_file", {"path": "a.txt"}, id="r1")]),
        reply("final"),
        model=model,
    )
    agent = analyst(model)
    async with harness.worker([agent]):
        handle = await harness.start(agent, "read a")
        await handle.result()
    requests = harness.providers.requests(model=model)
    assert len(requests) == 2
    last_messages = requests[1].body["messages"]
    assert [m["role"] for m in last_messages] == ["system", "user", "assistant", "tool"]
    assert "contents-of-a" in last_messages[3]["content"]
    assert requests[0].body["tools"][0]["function"]["name"] in {"list_files", "read_file"}
    # Model activity inputs carry a reference and the new messages only.
    history = await handle.fetch_history()
    inputs = [
        event.activity_task_scheduled_event_attributes
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
        and event.activity_task_scheduled_event_attributes.activity_type.name
        == "taskcraft.model.complete"
    ]
    second_input = json.loads(inputs[1].input.payloads[0].data)
    assert second_input["conversation_ref"]
    assert len(second_input["conversation_ref"]) == 64
    assert [m["role"] for m in second_input["new_messages"]] == [Role.TOOL.value]


async def test_invalid_tool_calls_are_fed_back_not_fatal(harness: Harness) -> None:
    """Unknown tool, broken JSON, and bad arguments become observations; the task finishes."""
    model = harness.model()
    harness.providers.script(
        reply(
            "",
            [
                FakeToolCall("delete_everything", {}, id="u1"),
                FakeToolCall("read_file", '{"path": "x"', id="u2"),
                FakeToolCall("read_file", {"paht": "x"}, id="u3"),
            ],
        ),
        reply("I will stop guessing."),
        model=model,
    )
    agent = analyst(model)
    async with harness.worker([agent]):
        handle = await harness.start(agent)
        result = await handle.result()
        state = await harness.state(handle)
    assert result.status is TaskStatus.COMPLETED
    calls = state.steps[0].tool_calls
    assert [c.outcome for c in calls] == [ToolOutcome.INVALID] * 3
    assert "no tool named 'delete_everything'" in calls[0].observation
    assert "not valid JSON" in calls[1].observation
    assert "arguments.path is required" in calls[2].observation
    assert state.usage.tool_calls == 0  # none of them became an activity
    sent = harness.providers.requests(model=model)[1].body["messages"]
    tool_messages = [m for m in sent if m["role"] == "tool"]
    assert len(tool_messages) == 3
    assert all("Invalid tool call" in m["content"] for m in tool_messages)


async def test_max_steps_ends_task_failed_with_budget_named(harness: Harness) -> None:
    model = harness.model()
    harness.providers.set_default(
        reply("again", [FakeToolCall("list_files", {"path": "."})]), model=model
    )
    agent = analyst(model, max_steps=3)
    async with harness.worker([agent]):
        handle = await harness.start(agent)
        state = await harness.wait_for(handle, lambda s: s.status.is_terminal)
    assert state.status is TaskStatus.FAILED
    assert state.error is not None
    assert "max_steps" in state.error
    assert state.step == 3
    assert harness.providers.count(model=model) == 3
