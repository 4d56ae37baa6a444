"""The catalog: every agent, tool, workflow and MCP server a deployment knows, from its folders.

Workers, the CLI and the inbox build the same catalog from the same setting
(``TASKCRAFT_AGENTS=dir1:dir2``, then the shipped example folders), so an agent a worker
runs is an agent ``taskcraft start`` knows. A folder's agent files are read as data; the
modules its ``taskcraft.toml`` lists are imported (the folder is put on the import path)
and searched for what they define: ``@tool`` functions, ``AgentSpec`` objects (agents
written in Python), task workflows and offline responders.

Every problem is reported at once, one line each, naming the file (and line) or module;
``check`` adds what only the whole catalog can tell (an agent naming an unknown tool,
workflow, policy or agent to call; schedules whose inputs the agent refuses), so a
worker refuses to start rather than fail its first task.
"""

from __future__ import annotations

import fnmatch
import importlib
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import ValidationError

from infra.settings import PROJECT_ROOT, Settings
from taskcraft.agent_calls import GOAL_ARGUMENT
from taskcraft.agent_files import FOLDER_SETTINGS, LoadedFolder, load_folder
from taskcraft.agents import AgentSpec
from taskcraft.errors import AgentFileError, PolicyFileError, TaskcraftError, ToolDefinitionError
from taskcraft.mcp import McpServerConfig
from taskcraft.offline import OfflineResponder
from taskcraft.policy.loader import load_named_policy
from taskcraft.tools import Tool

EXAMPLES = PROJECT_ROOT / "examples"
# The agents that ship with Taskcraft are examples on the same public surface.
SHIPPED_AGENT_DIRS = (EXAMPLES / "agents", EXAMPLES / "incident_report")


@dataclass
class Catalog:
    agents: dict[str, AgentSpec] = field(default_factory=dict)
    tools: list[Tool[Any]] = field(default_factory=list)
    workflows: list[type] = field(default_factory=list)
    responders: dict[str, OfflineResponder] = field(default_factory=dict)
    mcp_servers: dict[str, McpServerConfig] = field(default_factory=dict)
    policy_dirs: list[Path] = field(default_factory=list)
    folders: list[LoadedFolder] = field(default_factory=list)

    def agent(self, name: str) -> AgentSpec | None:
        return self.agents.get(name)

    def known_agents(self) -> str:
        return ", ".join(sorted(self.agents)) or "none"


def agent_dirs(configured: Sequence[Path], *, shipped: bool = True) -> list[Path]:
    """The folders to read: the configured ones first, then the shipped examples."""
    dirs = [*configured, *(SHIPPED_AGENT_DIRS if shipped else ())]
    unique: list[Path] = []
    for folder in dirs:
        if folder.resolve() not in [d.resolve() for d in unique]:
            unique.append(folder)
    return unique


def workflow_name(definition: type) -> str:
    """The workflow type a ``@workflow.defn`` class registers (its history's name)."""
    return str(getattr(definition, "__temporal_workflow_definition").name)


def is_workflow(value: object) -> bool:
    return isinstance(value, type) and hasattr(value, "__temporal_workflow_definition")


def catalog_for(settings: Settings) -> Catalog:
    """The catalog this process's settings describe (workers, CLI and inbox alike)."""
    return load_catalog(
        agent_dirs(settings.agent_dirs, shipped=settings.shipped_agents),
        policy_dirs=[*settings.policy_dirs],
    )


def tool_named(name: str, settings: Settings) -> Tool[Any] | None:
    """A built-in tool or one from an agent folder's modules, as a worker would offer it."""
    from activities.tools.builtin import builtin_tools  # only when asked: it loads every tool

    for candidate in [*builtin_tools(), *catalog_for(settings).tools]:
        if candidate.name == name:
            return candidate
    return None


def load_catalog(
    folders: Iterable[Path],
    *,
    extra_agents: Iterable[AgentSpec] = (),
    policy_dirs: Sequence[Path] = (),
) -> Catalog:
    """Read every folder, import its modules; ``AgentFileError`` lists all problems."""
    catalog = Catalog(policy_dirs=list(policy_dirs))
    problems: list[str] = []
    origins: dict[str, str] = {}
    for agent in extra_agents:
        _add_agent(catalog, origins, agent, problems)
    for folder in folders:
        try:
            loaded = load_folder(folder)
        except AgentFileError as error:
            problems += error.problems
            continue
        catalog.folders.append(loaded)
        if loaded.policy_dir is not None:
            catalog.policy_dirs.append(loaded.policy_dir)
        for agent in loaded.agents:
            _add_agent(catalog, origins, agent, problems)
        for name, server in loaded.settings.mcp_servers.items():
            where = folder / FOLDER_SETTINGS
            if name in catalog.mcp_servers:
                problems.append(f"{where}: MCP server {name!r} is configured twice")
                continue
            try:
                catalog.mcp_servers[name] = McpServerConfig.model_validate(
                    _in_folder({**server, "name": name}, folder)
                )
            except ValidationError as error:
                for item in error.errors():
                    key = ".".join(str(part) for part in item["loc"])
                    message = str(item["msg"]).removeprefix("Value error, ")
                    problems.append(
                        f"{where}: mcp_servers.{name}{'.' + key if key else ''}: {message}"
                    )
        for module_name in loaded.settings.modules:
            module = _import(folder, module_name, problems)
            if module is not None:
                _collect(catalog, origins, module, problems)
    if problems:
        raise AgentFileError(problems)
    return catalog


def _in_folder(server: dict[str, Any], folder: Path) -> dict[str, Any]:
    """A stdio server runs in its folder: no ``cwd`` is the folder, a relative one is in it.

    ``command = "python"`` is the worker's own interpreter, so a server written in Python
    beside the agent runs with the packages the worker has, whatever ``PATH`` says.
    """
    if "command" not in server:
        return server
    if server.get("command") in ("python", "python3"):
        server = {**server, "command": sys.executable}
    cwd = server.get("cwd")
    if cwd is None:
        return {**server, "cwd": str(folder.resolve())}
    if isinstance(cwd, str) and "${" not in cwd and not Path(cwd).is_absolute():
        return {**server, "cwd": str((folder / cwd).resolve())}
    return server


def _add_agent(
    catalog: Catalog, origins: dict[str, str], agent: AgentSpec, problems: list[str]
) -> None:
    where = agent.source or "python"
    if agent.name in origins:
        problems.append(
            f"{where}: agent {agent.name!r} is already defined in {origins[agent.name]}"
        )
        return
    origins[agent.name] = where
    catalog.agents[agent.name] = agent


def _import(folder: Path, name: str, problems: list[str]) -> ModuleType | None:
    root = str(folder.resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        return importlib.import_module(name)
    except ToolDefinitionError as error:
        problems.append(str(error))
    except SyntaxError as error:
        problems.append(f"{error.filename}:{error.lineno}: module {name}: {error.msg}")
    except Exception as error:  # an import error, or any error the module raised
        detail = str(error).splitlines()[0] if str(error) else ""
        if "@workflow.init and @workflow.run method parameters do not match" in detail:
            detail += (
                " (a TaskWorkflow's run takes `inp: TaskInput`, annotated as TaskWorkflow's "
                "is: start the module with `from __future__ import annotations`)"
            )
        problems.append(
            f"{folder / 'taskcraft.toml'}: module {name} failed to import: "
            f"{type(error).__name__}: {detail}"
        )
    return None


def _collect(
    catalog: Catalog, origins: dict[str, str], module: ModuleType, problems: list[str]
) -> None:
    for value in list(vars(module).values()):
        if isinstance(value, Tool) and value not in catalog.tools:
            catalog.tools.append(value)
        elif isinstance(value, AgentSpec):
            source = value.source or f"python:{module.__name__}"
            _add_agent(catalog, origins, value.model_copy(update={"source": source}), problems)
        elif is_workflow(value):
            assert isinstance(value, type)
            if value.__module__ == module.__name__ and value not in catalog.workflows:
                catalog.workflows.append(value)
        elif isinstance(value, OfflineResponder):
            catalog.responders[value.agent] = value


def check(
    catalog: Catalog,
    *,
    tool_names: Iterable[str],
    workflow_names: Iterable[str],
    agents: Iterable[AgentSpec] | None = None,
) -> list[str]:
    """What would fail a task of these agents at start: unknown tools, workflows, policies."""
    tools = set(tool_names)
    workflows = set(workflow_names)
    problems: list[str] = []
    schedules: dict[str, str] = {}  # schedule name → the agent that declares it
    for agent in agents if agents is not None else catalog.agents.values():
        where = agent.source or f"agent {agent.name}"
        for pattern in agent.tools:
            if not _tool_known(pattern, tools, catalog.mcp_servers):
                problems.append(
                    f"{where}: agent {agent.name!r} names unknown tool {pattern!r} "
                    f"(known: {', '.join(sorted(tools)) or 'none'})"
                )
        if agent.workflow not in workflows:
            problems.append(
                f"{where}: agent {agent.name!r} runs workflow {agent.workflow!r}, which no "
                f"module registers (known: {', '.join(sorted(workflows))})"
            )
        problems += _agent_call_problems(catalog, agent, where)
        problems += _schedule_problems(agent, where, schedules)
        try:
            load_named_policy(agent.policy, catalog.policy_dirs)
        except PolicyFileError as error:
            first, *more = str(error).splitlines() or [""]
            extra = f" (and {len(more)} more problems in it)" if more else ""
            problems.append(
                f"{where}: agent {agent.name!r} uses policy {agent.policy!r}: {first}{extra}"
            )
    return problems


def _agent_call_problems(catalog: Catalog, agent: AgentSpec, where: str) -> list[str]:
    """Agents it may call must exist, and take no input named like the call's goal."""
    problems = []
    for name in agent.agents:
        called = catalog.agents.get(name)
        if called is None:
            problems.append(
                f"{where}: agent {agent.name!r} may call unknown agent {name!r} "
                f"(known: {catalog.known_agents()})"
            )
        elif any(spec.name == GOAL_ARGUMENT for spec in called.inputs):
            problems.append(
                f"{where}: agent {agent.name!r} may call agent {name!r}, whose input "
                f"{GOAL_ARGUMENT!r} clashes with the goal every call passes; rename the input"
            )
    return problems


def _schedule_problems(agent: AgentSpec, where: str, seen: dict[str, str]) -> list[str]:
    """Declared schedules: unique names, and inputs the agent accepts (as ``start`` checks)."""
    problems = []
    for schedule in agent.schedules:
        if schedule.name in seen:
            problems.append(
                f"{where}: schedule {schedule.name!r} is also declared by agent "
                f"{seen[schedule.name]!r}; schedule names are unique"
            )
        seen.setdefault(schedule.name, agent.name)
        try:
            schedule.checked_inputs(agent.inputs)
        except TaskcraftError as error:
            problems.append(f"{where}: schedule {schedule.name!r}: {error}")
    return problems


def _tool_known(pattern: str, tools: set[str], servers: dict[str, McpServerConfig]) -> bool:
    if pattern in tools:
        return True
    server, dot, _ = pattern.partition(".")
    if dot and server in servers:
        return True  # MCP tools are listed when a task starts
    return any(fnmatch.fnmatchcase(name, pattern) for name in tools) and any(
        ch in pattern for ch in "*?["
    )
