"""Agents as files: one TOML file per agent, and folders of them with their own settings.

An agent file holds everything an agent is::

    name = "ticket-triage"
    description = "Reads new tickets and suggests a label for each."
    instructions = '''You triage support tickets...'''
    model = ["openai:gpt-4o-mini?maximum_attempts=3", "anthropic:claude-3-5-haiku-latest"]
    tools = ["read_file", "count_words", "issues.*"]   # built-in, Python and MCP tools
    policy = "triage"                                    # policies/triage.toml, or shipped
    max_steps = 12
    agents = ["researcher"]        # agents it may call: tools call_agent_<name> (child tasks)
    max_agent_depth = 2            # how deep a chain of such calls may go
    max_child_tasks = 8            # how many child tasks one task may start

    [budgets]                                            # every key of taskcraft.budgets
    max_tokens = 50_000
    max_cost_usd = 0.50
    on_exhausted = "ask"

    [approval]
    timeout = "3d"                                       # durations: 90, "15m", "6h", "3d"
    on_timeout = "escalate"
    approvers = ["alice"]
    escalate_to = ["bob"]

    [recovery]
    window = "6h"

    [[inputs]]
    name = "project"
    type = "string"                                      # integer, number, boolean, date,
    pattern = "^[A-Z]+$"                                 # datetime, iso_week
    default = "SUP"

    [[schedules]]                  # taskcraft schedule apply creates it (taskcraft.schedules)
    name = "daily-triage"
    cron = "0 9 * * MON-FRI"                             # or: every = "1h"
    tz = "Europe/Berlin"
    inputs = { since = "{previous_date}" }

A folder of agent files may hold ``taskcraft.toml`` (``AgentFolder``): the Python modules
workers import (tools, agents written in Python, workflows, offline responders) and the
MCP servers its agents use; and a ``policies/`` folder searched for policies by name.
Workers, the CLI and the inbox all read the same folders (``TASKCRAFT_AGENTS``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from taskcraft.agents import AgentSpec
from taskcraft.errors import AgentFileError
from taskcraft.toml_files import TomlProblems, describe, read_toml

FOLDER_SETTINGS = "taskcraft.toml"
POLICY_FOLDER = "policies"
# Keys people write → AgentSpec fields (the file reads better than the model's names).
_FILE_KEYS = {"model": "model_route"}
_DURATION_KEYS = (
    "timeout",
    "escalation_timeout",
    "window",
    "max_delay",
    "initial_delay",
    "max_duration",
    "every",
    "catch_up_window",
)
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class AgentFolder(BaseModel):
    """A folder's ``taskcraft.toml``: what workers import and which MCP servers exist."""

    model_config = ConfigDict(extra="forbid")

    # Modules imported by workers and the CLI (the folder is on the import path): they
    # define tools (@tool), agents (AgentSpec), workflows and offline responders.
    modules: list[str] = Field(default_factory=list)
    # MCP servers by name: stdio (command, args, env) or streamable HTTP (url, headers).
    mcp_servers: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("modules")
    @classmethod
    def _module_names(cls, modules: list[str]) -> list[str]:
        for name in modules:
            if not _MODULE.match(name):
                raise ValueError(
                    f"{name!r} is not a Python module name (like my_tools or pkg.tools)"
                )
        return modules


class LoadedFolder(BaseModel):
    path: Path
    settings: AgentFolder
    agents: list[AgentSpec]

    @property
    def policy_dir(self) -> Path | None:
        folder = self.path / POLICY_FOLDER
        return folder if folder.is_dir() else None


def _file_form(data: dict[str, Any]) -> dict[str, Any]:
    """The file's keys as ``AgentSpec`` fields: ``model`` → ``model_route``, "72h" → seconds."""
    spec = {_FILE_KEYS.get(key, key): value for key, value in data.items()}
    route = spec.get("model_route")
    if isinstance(route, str):
        spec["model_route"] = [part.strip() for part in route.split(",") if part.strip()]
    for step_route in spec.get("step_routes") or []:
        if isinstance(step_route, dict) and "model" in step_route:
            model = step_route.pop("model")
            step_route["route"] = [model] if isinstance(model, str) else model
    sections = [spec.get(table) for table in ("approval", "recovery", "budgets")]
    for section in [*sections, *(spec.get("schedules") or [])]:
        if isinstance(section, dict):
            for key in _DURATION_KEYS:
                if key in section:
                    section[f"{key}_s"] = section.pop(key)
    return spec


def parse_agent(data: dict[str, Any], text: str, source: str) -> AgentSpec:
    """An agent from a file's parsed TOML; ``AgentFileError`` lists every problem by line."""
    form = _file_form(data)
    form["source"] = source
    try:
        return AgentSpec.model_validate(form)
    except ValidationError as error:
        renames = {"model_route": "model", "route": "model"}
        renames.update({f"{key}_s": key for key in _DURATION_KEYS})
        raise AgentFileError(describe(error, text, source, renames)) from None


def load_agent_file(path: Path) -> AgentSpec:
    try:
        data, text = read_toml(path)
    except TomlProblems as problems:
        raise AgentFileError(problems.problems) from None
    return parse_agent(data, text, str(path))


def load_folder_settings(folder: Path) -> AgentFolder:
    path = folder / FOLDER_SETTINGS
    if not path.is_file():
        return AgentFolder()
    try:
        data, text = read_toml(path)
    except TomlProblems as problems:
        raise AgentFileError(problems.problems) from None
    try:
        return AgentFolder.model_validate(data)
    except ValidationError as error:
        raise AgentFileError(describe(error, text, str(path), {})) from None


def load_folder(folder: Path) -> LoadedFolder:
    """Every agent file in ``folder`` (sorted) and its settings; all problems at once."""
    if not folder.is_dir():
        raise AgentFileError([f"{folder}: no such folder of agents"])
    problems: list[str] = []
    agents: list[AgentSpec] = []
    try:
        settings = load_folder_settings(folder)
    except AgentFileError as error:
        problems += error.problems
        settings = AgentFolder()
    for path in sorted(folder.glob("*.toml")):
        if path.name == FOLDER_SETTINGS:
            continue
        try:
            agents.append(load_agent_file(path))
        except AgentFileError as error:
            problems += error.problems
    if problems:
        raise AgentFileError(problems)
    return LoadedFolder(path=folder, settings=settings, agents=agents)
