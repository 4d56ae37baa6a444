"""Workflow tests run real workflows on a real Temporal dev server started here.

One dev server for the session (tuned like production dev), one loopback model provider
for the session; every test gets its own task queue, data folder and workspace, and
scripts the provider under its own model names, so tests never see each other's work.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from infra.catalog import Catalog
from infra.connection import data_converter
from infra.settings import Settings
from infra.worker_factory import WorkerGroup, build_worker
from taskcraft.agents import AgentSpec
from taskcraft.budgets import ModelPrice
from taskcraft.status import TaskStatus
from taskcraft.task import TaskInput, TaskResult, TaskState
from taskcraft.tools import Tool
from taskcraft_client import TaskcraftClient
from tests.support.fake_providers import FakeProviders
from tests.support.temporal import start_dev_server, start_time_skipping
from workflows.search_attributes import AGENT, STATUS


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server()
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
def skipping_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("time-skipping")


@pytest.fixture(scope="session")
async def skipping_env(skipping_data_dir: Path) -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping server for the session; tests keep to their own task queues."""
    env = await start_time_skipping(skipping_data_dir)
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
def providers() -> Iterator[FakeProviders]:
    with FakeProviders() as fake:
        yield fake


@dataclass
class Harness:
    """A test's own corner of the shared server: queue, folders, settings, client."""

    client: Client
    settings: Settings
    providers: FakeProviders
    workspace: Path

    def allow_every_call(self, folder: Path) -> str:
        """Run this test's agents under a policy ``open`` that allows every tool call,
        so only a tool's own ``requires_approval`` flag asks a person. Returns its name."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "open.toml").write_text('name = "open"\ndefault_effect = "allow"\n')
        self.settings = replace(self.settings, policy_dirs=(folder,))
        return "open"

    def taskcraft(self) -> TaskcraftClient:
        """The Python client on this test's queue (as the CLI and inbox use it)."""
        return TaskcraftClient(self.client, self.settings)

    def model(self, name: str = "model") -> str:
        """A model name unique to this test, so its script cannot leak into another test."""
        return f"{name}-{uuid.uuid4().hex[:8]}"

    @asynccontextmanager
    async def worker(
        self,
        agents: Sequence[AgentSpec] | None = None,
        *,
        catalog: Catalog | None = None,
        tools: Sequence[Tool[Any]] | None = None,
        env: dict[str, str] | None = None,
        prices: dict[str, ModelPrice] | None = None,
        policy_dirs: Sequence[Path] = (),
        extra_workflows: Sequence[type] = (),
    ) -> AsyncIterator[WorkerGroup]:
        settings = replace(self.settings, env={**self.settings.env, **(env or {})})
        if prices:
            table = settings.data_dir / "prices.toml"
            table.parent.mkdir(parents=True, exist_ok=True)
            table.write_text(
                "".join(
                    f'["{ref}"]\ninput_per_mtok = {p.input_per_mtok}\n'
                    f"output_per_mtok = {p.output_per_mtok}\n"
                    for ref, p in prices.items()
                )
            )
            settings = replace(settings, env={**settings.env, "TASKCRAFT_PRICES_FILE": str(table)})
        if policy_dirs:
            settings = replace(settings, policy_dirs=tuple(policy_dirs))
        async with AsyncExitStack() as stack:
            http = await stack.enter_async_context(httpx.AsyncClient(timeout=30))
            worker = build_worker(
                self.client,
                settings,
                http,
                agents=agents,
                tools=tools,
                extra_workflows=extra_workflows,
                catalog=catalog,
            )
            await stack.enter_async_context(worker)
            yield worker

    async def start(
        self,
        agent: AgentSpec,
        goal: str = "do the thing",
        *,
        task_id: str | None = None,
        inputs: dict[str, str] | None = None,
    ) -> WorkflowHandle[Any, TaskResult]:
        return await self.client.start_workflow(
            agent.workflow,
            TaskInput(agent=agent.name, goal=goal, inputs=inputs or {}),
            id=task_id or f"test-{uuid.uuid4().hex[:10]}",
            task_queue=self.settings.task_queue,
            result_type=TaskResult,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(AGENT, agent.name),
                    SearchAttributePair(STATUS, TaskStatus.PENDING.value),
                ]
            ),
        )

    async def state(self, handle: WorkflowHandle[Any, Any]) -> TaskState:
        return await handle.query("state", result_type=TaskState)

    async def wait_for(
        self,
        handle: WorkflowHandle[Any, Any],
        predicate: Callable[[TaskState], bool],
        within: float = 30.0,
    ) -> TaskState:
        """Poll the state query until ``predicate`` holds (no fixed sleeps in tests)."""
        import asyncio

        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            try:
                state = await self.state(handle)
                if predicate(state):
                    return state
            except Exception:  # the first workflow task may not have run yet
                state = None
            if loop.time() > deadline:
                raise AssertionError(f"condition not met within {within}s; last state: {state}")
            await asyncio.sleep(0.05)


@pytest.fixture
async def harness(
    dev_env: WorkflowEnvironment, providers: FakeProviders, tmp_path: Path
) -> Harness:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    env = {
        "OPENAI_BASE_URL": providers.openai_base_url,
        "OPENAI_API_KEY": "test-key",
        "ANTHROPIC_BASE_URL": providers.anthropic_base_url,
        "ANTHROPIC_API_KEY": "test-key",
    }
    settings = Settings(
        task_queue=f"tq-{uuid.uuid4().hex[:10]}",
        data_dir=tmp_path / "data",
        workspace=workspace,
        env=env,
    )
    client = await Client.connect(
        dev_env.client.service_client.config.target_host,
        namespace=dev_env.client.namespace,
        data_converter=data_converter(settings),
    )
    return Harness(client=client, settings=settings, providers=providers, workspace=workspace)
