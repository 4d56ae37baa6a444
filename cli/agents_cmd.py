"""``taskcraft agents list`` and ``taskcraft agents check``: what a deployment's folders define.

``check`` reads agent files (or folders of them) the way a worker does: every problem
is printed as ``file:line: message`` and the exit status is 2, so a bad file is caught
in review or CI, not when its first task fails.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from infra.catalog import Catalog, catalog_for, check, load_catalog, workflow_name
from infra.settings import Settings
from taskcraft.agent_files import FOLDER_SETTINGS, load_agent_file
from taskcraft.agents import AgentSpec
from taskcraft.errors import AgentFileError, TaskcraftError


def _known_tools(catalog: Catalog) -> list[str]:
    """Tool names a worker with this catalog offers (imported here only: it is I/O code)."""
    from infra.worker_factory import all_tools

    return sorted({tool.name for tool in [*all_tools(), *catalog.tools]})


def _known_workflows(catalog: Catalog) -> list[str]:
    from workflows import WORKFLOWS

    definitions = [*WORKFLOWS, *catalog.workflows]
    return [workflow_name(defn) for defn in definitions]


def _inputs_line(agent: AgentSpec) -> str:
    parts = []
    for spec in agent.inputs:
        shown = f"{spec.name}={spec.type.value}"
        if spec.required:
            shown += " (required)"
        elif spec.default is not None:
            shown += f" (default {spec.default})"
        parts.append(shown)
    return ", ".join(parts) or "none"


async def _unreachable_servers(
    catalog: Catalog, agents: list[AgentSpec], settings: Settings
) -> list[str]:
    """Connect to each MCP server the checked agents use, as a worker here would."""
    from activities.mcp import McpConnections

    used = sorted(
        {
            pattern.split(".", 1)[0]
            for agent in agents
            for pattern in agent.tools
            if pattern.split(".", 1)[0] in catalog.mcp_servers
        }
    )
    if not used:
        return []
    problems = []
    async with McpConnections(
        [catalog.mcp_servers[name] for name in used], env=settings.env
    ) as connections:
        for name in used:
            try:
                problem = await connections.check(name)
            except TaskcraftError as error:
                problem = str(error)
            if problem is not None:
                problems.append(f"MCP server {name!r}: {problem}")
    return problems


def list_agents(settings: Settings, as_json: bool) -> int:
    catalog = catalog_for(settings)
    agents = sorted(catalog.agents.values(), key=lambda a: a.name)
    if as_json:
        rows: list[dict[str, Any]] = [
            {
                "name": a.name,
                "description": a.description,
                "source": a.source,
                "workflow": a.workflow,
                "tools": a.tools,
                "policy": a.policy,
                "inputs": [spec.model_dump(mode="json") for spec in a.inputs],
                "agents": a.agents,
                "schedules": [schedule.model_dump(mode="json") for schedule in a.schedules],
            }
            for a in agents
        ]
        print(json.dumps(rows, indent=2))
        return 0
    for agent in agents:
        print(f"{agent.name}  ({agent.source or 'python'})")
        if agent.description:
            print(f"    {agent.description}")
        print(f"    tools: {', '.join(agent.tools) or 'none'} · policy: {agent.policy}")
        print(f"    inputs: {_inputs_line(agent)}")
        if agent.agents:
            print(f"    calls agents: {', '.join(agent.agents)}")
        for schedule in agent.schedules:
            print(f"    schedule {schedule.name}: {schedule.timing}")
    return 0


def check_paths(settings: Settings, paths: list[str]) -> int:
    """Check agent files and folders against the catalog the settings describe."""
    problems: list[str] = []
    checked: list[AgentSpec] = []
    folders: list[Path] = []
    context: list[Path] = []  # folders a checked file lives in: their tools and servers count
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            folders.append(path)
            continue
        if (path.parent / FOLDER_SETTINGS).is_file() and path.parent not in context:
            context.append(path.parent)
        try:
            checked.append(load_agent_file(path))
        except AgentFileError as error:
            problems += error.problems
    try:
        base = catalog_for(settings)
        around = [folder for folder in context if folder not in folders]
        extra = (
            load_catalog([*folders, *around], policy_dirs=base.policy_dirs)
            if folders or around
            else Catalog()
        )
    except AgentFileError as error:
        problems += error.problems
        base, extra = Catalog(), Catalog()
    catalog = Catalog(
        agents={**base.agents, **extra.agents},
        tools=[*base.tools, *extra.tools],
        workflows=[*base.workflows, *extra.workflows],
        mcp_servers={**base.mcp_servers, **extra.mcp_servers},
        policy_dirs=[*base.policy_dirs, *extra.policy_dirs],
    )
    for folder in extra.folders:
        if folder.path in folders:
            checked += folder.agents
    problems += check(
        catalog,
        tool_names=_known_tools(catalog),
        workflow_names=_known_workflows(catalog),
        agents=checked,
    )
    problems += asyncio.run(_unreachable_servers(catalog, checked, settings))
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 2
    names = ", ".join(agent.name for agent in checked) or "no agents"
    print(f"ok: {names}")
    return 0
