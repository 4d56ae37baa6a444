"""With the codec on, the stored history holds no plaintext of prompts, tool output or answers."""

from __future__ import annotations

import base64
import uuid
from dataclasses import replace

import httpx
from temporalio.client import Client

from infra.connection import data_converter
from infra.worker_factory import build_worker
from taskcraft.agents import AgentSpec
from taskcraft.status import TaskStatus
from taskcraft.task import TaskInput, TaskResult, TaskState
from tests.support.fake_providers import FakeToolCall, reply
from tests.workflows.conftest import Harness

KEY = base64.b64encode(bytes(range(32))).decode()


async def test_raw_history_contains_no_plaintext(harness: Harness) -> None:
    secret_goal = f"find the launch code {uuid.uuid4().hex}"
    file_text = f"TOP-SECRET-CONTENT-{uuid.uuid4().hex}"
    answer = f"The answer is {uuid.uuid4().hex}"
    (harness.workspace / "secret.txt").write_text(file_text)
    model = harness.model()
    harness.providers.script(
        reply("reading", [FakeToolCall("read_file", {"path": "secret.txt"}, id="s1")]),
        reply(answer),
        model=model,
    )
    settings = replace(
        harness.settings,
        env={**harness.settings.env, "TASKCRAFT_CODEC_KEYS": f"k1:{KEY}"},
    )
    target = harness.client.service_client.config.target_host
    encrypted = await Client.connect(target, data_converter=data_converter(settings))
    agent = AgentSpec(
        name="secretive",
        instructions="Answer.",
        model_route=[f"openai:{model}"],  # type: ignore[list-item]
        tools=["read_file"],
    )
    async with (
        httpx.AsyncClient() as http,
        build_worker(encrypted, settings, http, agents=[agent]),
    ):
        handle = await encrypted.start_workflow(
            "AgentWorkflow",
            TaskInput(agent="secretive", goal=secret_goal),
            id=f"enc-{uuid.uuid4().hex[:8]}",
            task_queue=settings.task_queue,
            result_type=TaskResult,
        )
        result = await handle.result()
        # The CLI's client decodes through the same codec.
        state = await handle.query("state", result_type=TaskState)
    assert result.status is TaskStatus.COMPLETED
    assert result.result == answer
    assert file_text in state.steps[0].tool_calls[0].observation
    raw = await Client.connect(target)  # no codec: what the database and history hold
    history = await raw.get_workflow_handle(handle.id).fetch_history()
    blob = history.to_json().encode() + b"".join(
        event.SerializeToString() for event in history.events
    )
    for plaintext in (secret_goal, file_text, answer, "secret.txt"):
        assert plaintext.encode() not in blob, f"{plaintext!r} is readable in history"
    assert b"binary/encrypted" in blob
    # The blob store (conversation, pinned policy and tools) holds only ciphertext too.
    stored = [path.read_bytes() for path in settings.blob_dir.rglob("*") if path.is_file()]
    assert len(stored) >= 4  # policy, tools, and at least two conversation segments
    for plaintext in (secret_goal, file_text, answer, "secret.txt", "read_file"):
        assert not any(plaintext.encode() in data for data in stored), (
            f"{plaintext!r} is readable in the blob store"
        )
    assert all(b"binary/encrypted" in data for data in stored)
