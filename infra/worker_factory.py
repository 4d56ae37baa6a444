"""Building a Taskcraft worker: the one place that wires workflows, activities and tools.

Used by ``worker.py`` and by the workflow tests, so the tests run exactly what ships.

A provider with ``TASKCRAFT_RATE_LIMIT_<PROVIDER>`` set gets its own task queue,
``<task_queue>-model-<provider>``, polled by a second Temporal worker in the same process
that runs only model activities, with ``max_task_queue_activities_per_second``: Temporal
enforces that limit for the queue as a whole, across every worker polling it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from types import TracebackType
from typing import Any, Self

import httpx
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.agent_activity import AgentActivities
from activities.conversations import ConversationStore
from activities.mcp import McpConnections
from activities.model_activity import ModelActivities
from activities.notify import NotifyActivities, NotifySettings
from activities.tool_activity import ToolActivities
from activities.tools import ToolRegistry, builtin_tools
from infra.blob_store import open_record_store
from infra.catalog import Catalog, catalog_for, check, workflow_name
from infra.settings import PROJECT_ROOT, TOOL_QUEUES_ENV, Settings, model_task_queue
from taskcraft.agents import AgentSpec
from taskcraft.errors import AgentFileError, ConfigError
from taskcraft.tools import Tool
from workflows import WORKFLOWS

SHIPPED_POLICY_DIR = PROJECT_ROOT / "taskcraft" / "policies"


def all_tools() -> list[Tool[Any]]:
    """The tools every worker offers (agent folders' modules add their own)."""
    return builtin_tools()


def workflow_runner() -> SandboxedWorkflowRunner:
    # The neutral core is pure (stdlib + pydantic): pass it through instead of
    # re-importing it into every workflow sandbox, which costs CPU on each new task.
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("taskcraft", "pydantic")
    )


class WorkerGroup:
    """The task queue's worker and the per-provider model workers, run together.

    Used like a ``Worker``: ``async with build_worker(...):`` polls every queue until the
    block ends, then shuts them all down (the main worker first, so no new model calls
    are scheduled while the model workers finish theirs).
    """

    def __init__(
        self,
        main: Worker,
        model_workers: Mapping[str, Worker],
        mcp: McpConnections | None = None,
    ) -> None:
        self.main = main
        self.model_workers = dict(model_workers)  # provider → its rate-limited worker
        self.mcp = mcp  # the MCP sessions this worker's tools share; closed last
        self._stack: AsyncExitStack | None = None

    @property
    def task_queue(self) -> str:
        return self.main.task_queue

    async def __aenter__(self) -> Self:
        async with AsyncExitStack() as stack:
            if self.mcp is not None:
                await stack.enter_async_context(self.mcp)
            for worker in self.model_workers.values():
                await stack.enter_async_context(worker)
            await stack.enter_async_context(self.main)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.__aexit__(exc_type, exc, traceback)


def routed(tools: Sequence[Tool[Any]], settings: Settings) -> list[Tool[Any]]:
    """The tools with the task queues ``TASKCRAFT_TOOL_QUEUES`` gives them."""
    queues = settings.tool_task_queues
    unknown = sorted(set(queues) - {tool.name for tool in tools})
    if unknown:
        raise ConfigError(f"{TOOL_QUEUES_ENV} names unknown tools: {', '.join(unknown)}")
    return [
        replace(tool, task_queue=queues[tool.name]) if tool.name in queues else tool
        for tool in tools
    ]


def build_worker(
    client: Client,
    settings: Settings,
    http: httpx.AsyncClient,
    *,
    agents: Iterable[AgentSpec] | None = None,
    tools: Sequence[Tool[Any]] | None = None,
    task_queue: str | None = None,
    extra_workflows: Sequence[type] = (),
    catalog: Catalog | None = None,
) -> WorkerGroup:
    """Every worker this process runs for ``task_queue`` (default: the settings' queue).

    The agents, tools and workflows come from the catalog the settings describe (agent
    folders and their modules, then the shipped examples), unless ``agents`` (and
    ``tools``) are given, as tests do. A catalog problem (an agent naming an unknown
    tool, workflow or policy) is a ``ConfigError`` here, before anything polls.
    """
    queue = task_queue or settings.task_queue
    rate_limits = settings.model_rate_limits
    if catalog is None:
        catalog = (
            catalog_for(settings)
            if agents is None
            else Catalog(policy_dirs=[*settings.policy_dirs])
        )
    if agents is not None:
        catalog.agents = {agent.name: agent for agent in agents}
    every_tool = [*(all_tools() if tools is None else tools), *catalog.tools]
    registry = ToolRegistry(routed(every_tool, settings))
    workflows = [*WORKFLOWS, *catalog.workflows, *extra_workflows]
    problems = check(
        catalog,
        tool_names=registry.names(),
        workflow_names=[workflow_name(defn) for defn in workflows],
    )
    if problems:
        raise AgentFileError(problems)
    blobs = open_record_store(settings)
    settings.workspace.mkdir(parents=True, exist_ok=True)
    mcp = (
        McpConnections(catalog.mcp_servers.values(), env=settings.env)
        if catalog.mcp_servers
        else None
    )
    agent_activities = AgentActivities(
        agents=catalog.agents,
        registry=registry,
        blobs=blobs,
        policy_dirs=[*catalog.policy_dirs, SHIPPED_POLICY_DIR],
        default_route=settings.model_route(),
        prices=settings.prices,
        env=settings.env,
        model_queues={provider: model_task_queue(queue, provider) for provider in rate_limits},
        mcp=mcp,
        workspace=settings.workspace,
    )
    model_activities = ModelActivities(
        conversations=ConversationStore(blobs),
        http=http,
        env=settings.env,
        responders=catalog.responders,
    )
    tool_activities = ToolActivities(
        registry=registry,
        blobs=blobs,
        workspace=settings.workspace,
        data_dir=settings.data_dir,
        http=http,
        env=settings.env,
        mcp=mcp,
    )
    notify = NotifyActivities(http=http, settings=NotifySettings.from_env(settings.env))
    main = Worker(
        client,
        task_queue=queue,
        workflows=workflows,
        activities=[
            agent_activities.pin,
            # Offline and unthrottled providers' model calls stay on the main queue.
            model_activities.complete,
            tool_activities.run,
            notify.notify,
        ],
        workflow_runner=workflow_runner(),
        max_concurrent_activities=settings.max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
        max_cached_workflows=settings.max_cached_workflows,
    )
    model_workers = {
        provider: Worker(
            client,
            task_queue=model_task_queue(queue, provider),
            activities=[model_activities.complete],
            max_concurrent_activities=settings.max_concurrent_activities,
            max_task_queue_activities_per_second=per_second,
        )
        for provider, per_second in rate_limits.items()
    }
    return WorkerGroup(main, model_workers, mcp)


async def open_http(stack: AsyncExitStack) -> httpx.AsyncClient:
    """One pooled client for every activity; adapters and tools set their own timeouts."""
    return await stack.enter_async_context(
        httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=False)
    )
