"""Building a Taskcraft worker: the one place that wires workflows, activities and tools.

Used by ``worker.py`` and by the workflow tests, so the tests run exactly what ships.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AsyncExitStack
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.agent_activity import AgentActivities
from activities.connectors.jira import jira_search_tool
from activities.connectors.logs import query_logs_tool
from activities.connectors.slack import send_slack_message_tool
from activities.model_activity import ModelActivities
from activities.notify import NotifyActivities, NotifySettings
from activities.store import BlobStore, ConversationStore
from activities.tool_activity import ToolActivities
from activities.tools import Tool, ToolRegistry, builtin_tools
from infra.settings import PROJECT_ROOT, Settings
from taskcraft.agents import AgentSpec
from taskcraft.catalog import BUILTIN_AGENTS
from workflows import WORKFLOWS

SHIPPED_POLICY_DIR = PROJECT_ROOT / "taskcraft" / "policies"


def all_tools() -> list[Tool[Any]]:
    """Every tool this worker can run: the generic ones and the incident connectors."""
    return [*builtin_tools(), jira_search_tool(), query_logs_tool(), send_slack_message_tool()]


def workflow_runner() -> SandboxedWorkflowRunner:
    # The neutral core is pure (stdlib + pydantic): pass it through instead of
    # re-importing it into every workflow sandbox, which costs CPU on each new task.
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("taskcraft", "pydantic")
    )


def build_worker(
    client: Client,
    settings: Settings,
    http: httpx.AsyncClient,
    *,
    agents: Iterable[AgentSpec] = BUILTIN_AGENTS,
    tools: Sequence[Tool[Any]] | None = None,
    task_queue: str | None = None,
) -> Worker:
    blobs = BlobStore(settings.blob_dir)
    registry = ToolRegistry(all_tools() if tools is None else tools)
    settings.workspace.mkdir(parents=True, exist_ok=True)
    agent_activities = AgentActivities(
        agents={agent.name: agent for agent in agents},
        registry=registry,
        blobs=blobs,
        policy_dirs=[*settings.policy_dirs, SHIPPED_POLICY_DIR],
        default_route=settings.model_route(),
    )
    model_activities = ModelActivities(
        conversations=ConversationStore(blobs), http=http, env=settings.env
    )
    tool_activities = ToolActivities(
        registry=registry,
        blobs=blobs,
        workspace=settings.workspace,
        data_dir=settings.data_dir,
        http=http,
        env=settings.env,
    )
    notify = NotifyActivities(http=http, settings=NotifySettings.from_env(settings.env))
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=list(WORKFLOWS),
        activities=[
            agent_activities.pin,
            model_activities.complete,
            tool_activities.run,
            notify.notify,
        ],
        workflow_runner=workflow_runner(),
        max_concurrent_activities=settings.max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
        max_cached_workflows=settings.max_cached_workflows,
    )


async def open_http(stack: AsyncExitStack) -> httpx.AsyncClient:
    """One pooled client for every activity; adapters and tools set their own timeouts."""
    return await stack.enter_async_context(
        httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=False)
    )
