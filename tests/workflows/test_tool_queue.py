"""A tool routed to a named task queue runs only on the worker where its resource lives."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

from infra.worker_factory import build_worker
from taskcraft.agents import AgentSpec
from taskcraft.errors import ConfigError
from taskcraft.status import TaskStatus
from taskcraft.tools import Tool, ToolContext
from tests.support.fake_providers import FakeToolCall, reply
from tests.workflows.conftest import Harness

TOOL_ACTIVITY = "taskcraft.tool.run"


class NoArgs(BaseModel):
    pass


def where(answer: str) -> Tool[NoArgs]:
    async def run(args: NoArgs, context: ToolContext) -> str:
        return answer

    return Tool(name="where", description="Says which worker ran it.", args_model=NoArgs, run=run)


async def test_tool_queue_setting_sends_the_call_to_the_resource_worker(
    harness: Harness, tmp_path: Path
) -> None:
    harness.allow_every_call(tmp_path / "policies")
    resource_queue = f"{harness.settings.task_queue}-build-box"
    model = harness.model()
    harness.providers.script(
        reply("", [FakeToolCall("where", {}, id="w1")]), reply("done"), model=model
    )
    agent = AgentSpec.model_validate(
        {
            "name": "locator",
            "instructions": "Find out where you run.",
            "model_route": [f"openai:{model}"],
            "tools": ["where"],
            "policy": "open",
        }
    )
    routing = {"TASKCRAFT_TOOL_QUEUES": f"where={resource_queue}"}
    async with (
        httpx.AsyncClient() as http,
        build_worker(
            harness.client,
            harness.settings,
            http,
            agents=[agent],
            tools=[where("ran on the build box")],
            task_queue=resource_queue,
        ),
        harness.worker([agent], tools=[where("ran on the main worker")], env=routing),
    ):
        handle = await harness.start(agent, "where?")
        result = await handle.result()
        state = await harness.state(handle)
        history = await handle.fetch_history()

    assert result.status is TaskStatus.COMPLETED
    [call] = state.steps[0].tool_calls
    assert call.observation == "ran on the build box"
    queues = [
        e.activity_task_scheduled_event_attributes.task_queue.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == TOOL_ACTIVITY
    ]
    assert queues == [resource_queue]


async def test_a_tool_queue_for_an_unknown_tool_is_refused(harness: Harness) -> None:
    with pytest.raises(ConfigError, match="TASKCRAFT_TOOL_QUEUES names unknown tools: nope"):
        async with harness.worker([], env={"TASKCRAFT_TOOL_QUEUES": "nope=elsewhere"}):
            pass
