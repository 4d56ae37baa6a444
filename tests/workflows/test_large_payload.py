"""A tool output larger than the server's 2 MiB payload limit goes to the store, not history."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from pydantic import BaseModel
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from infra.connection import data_converter
from taskcraft.agents import AgentSpec
from taskcraft.status import TaskStatus
from taskcraft.task import ToolOutcome
from taskcraft.tools import Tool, ToolContext
from tests.support.fake_providers import FakeToolCall, reply
from tests.support.s3_server import create_bucket, s3_server
from tests.workflows.conftest import Harness

SERVER_PAYLOAD_LIMIT = 2 * 1024 * 1024
BIG_CHARS = 5 * 1024 * 1024 // 2  # 2.5 MiB of ASCII
MODEL_ACTIVITY = "taskcraft.model.complete"
TOOL_ACTIVITY = "taskcraft.tool.run"


class DumpArgs(BaseModel):
    name: str


def big_text() -> str:
    line = "row {:07d} of a very large export, all of it shown to the model\n"
    text = "".join(line.format(i) for i in range(BIG_CHARS // len(line.format(0)) + 1))
    return text[:BIG_CHARS]


async def _dump(args: DumpArgs, context: ToolContext) -> str:
    return big_text()


DUMP = Tool(
    name="dump",
    description="Exports a whole table.",
    args_model=DumpArgs,
    run=_dump,
    max_observation_chars=3 * 1024 * 1024,
)


def payloads_of(event: HistoryEvent) -> list[Payload]:
    if event.HasField("activity_task_scheduled_event_attributes"):
        return list(event.activity_task_scheduled_event_attributes.input.payloads)
    if event.HasField("activity_task_completed_event_attributes"):
        return list(event.activity_task_completed_event_attributes.result.payloads)
    if event.HasField("workflow_execution_started_event_attributes"):
        return list(event.workflow_execution_started_event_attributes.input.payloads)
    if event.HasField("workflow_execution_completed_event_attributes"):
        return list(event.workflow_execution_completed_event_attributes.result.payloads)
    return []


def activity_name(events: list[HistoryEvent], scheduled_id: int) -> str:
    scheduled = next(e for e in events if e.event_id == scheduled_id)
    return scheduled.activity_task_scheduled_event_attributes.activity_type.name


async def test_tool_output_over_2_mib_is_stored_and_task_completes(
    harness: Harness, tmp_path: Path
) -> None:
    """2.5 MiB of tool output: history holds claims only, the model still reads every byte."""
    model, agent = export_task(harness, tmp_path, "The export has 40,000 rows.")
    async with harness.worker([agent], tools=[DUMP]):
        handle = await harness.start(agent, "export orders")
        result = await asyncio.wait_for(handle.result(), timeout=60)
        state = await harness.state(handle)
        history = await handle.fetch_history()

    assert result.status is TaskStatus.COMPLETED
    assert result.result == "The export has 40,000 rows."
    call = state.steps[0].tool_calls[0]
    assert call.outcome is ToolOutcome.OK
    assert call.observation_chars == BIG_CHARS
    assert len(call.observation) < 2_100  # the record keeps a preview
    # The model's second turn received the whole output, byte for byte.
    sent = harness.providers.requests(model=model)[1].body["messages"]
    assert sent[-1]["role"] == "tool"
    assert sent[-1]["content"] == big_text()

    events = list(history.events)
    largest = max(p.ByteSize() for e in events for p in payloads_of(e))
    assert largest < harness.settings.payload_store_threshold < SERVER_PAYLOAD_LIMIT
    # Exactly two payloads went to the store: the tool's result and the next model input.
    claims = {
        (
            activity_name(events, e.activity_task_completed_event_attributes.scheduled_event_id)
            if e.HasField("activity_task_completed_event_attributes")
            else e.activity_task_scheduled_event_attributes.activity_type.name
        ): p.external_payloads[0].size_bytes
        for e in events
        for p in payloads_of(e)
        if p.external_payloads
    }
    assert set(claims) == {TOOL_ACTIVITY, MODEL_ACTIVITY}
    assert all(size > BIG_CHARS for size in claims.values())
    stored = [p for p in harness.settings.blob_dir.rglob("*") if p.is_file()]
    assert sum(1 for p in stored if p.stat().st_size > SERVER_PAYLOAD_LIMIT) >= 2


async def test_with_the_bucket_store_large_outputs_go_to_s3_and_nothing_to_local_disk(
    harness: Harness, tmp_path: Path
) -> None:
    """Workers that share no disk: conversation and claim check both live in the bucket."""
    model, agent = export_task(harness, tmp_path, "Exported.")
    with s3_server() as endpoint:
        bucket = create_bucket(endpoint)
        harness.settings = replace(harness.settings, env={**harness.settings.env, **bucket.env()})
        # Worker and client take the claim check from the client's converter.
        harness.client = await Client.connect(
            harness.client.service_client.config.target_host,
            namespace=harness.client.namespace,
            data_converter=data_converter(harness.settings),
        )
        async with harness.worker([agent], tools=[DUMP]):
            handle = await harness.start(agent, "export orders")
            result = await asyncio.wait_for(handle.result(), timeout=60)
        sizes = bucket.sizes()

    assert result.status is TaskStatus.COMPLETED
    assert harness.providers.requests(model=model)[1].body["messages"][-1]["content"] == (
        big_text()
    )
    assert not harness.settings.blob_dir.exists()
    assert all(key.startswith("taskcraft/") for key in sizes)
    # The tool's result and the next model input (claim check), and the conversation.
    assert sum(1 for size in sizes.values() if size > SERVER_PAYLOAD_LIMIT) >= 3


def export_task(harness: Harness, tmp_path: Path, answer: str) -> tuple[str, AgentSpec]:
    """An agent that calls ``dump`` once, then answers; its model's name, and the agent."""
    harness.allow_every_call(tmp_path / "policies")
    model = harness.model()
    harness.providers.script(
        reply("Exporting.", [FakeToolCall("dump", {"name": "orders"}, id="d1")]),
        reply(answer),
        model=model,
    )
    return model, exporter(model)


def exporter(model: str) -> AgentSpec:
    return AgentSpec.model_validate(
        {
            "name": "exporter",
            "instructions": "Export what you are asked for.",
            "model_route": [f"openai:{model}"],
            "tools": ["dump"],
            "policy": "open",
        }
    )
