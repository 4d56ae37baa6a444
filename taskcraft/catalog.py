"""The agents that ship with Taskcraft, as data. The worker registers these by name."""

from __future__ import annotations

from taskcraft.agents import AgentSpec
from taskcraft.errors import UnknownAgentError

WORKSPACE_ANALYST = AgentSpec(
    name="workspace-analyst",
    description="Reads the files in its workspace and summarises them; can save the summary.",
    instructions=(
        "You are a careful analyst. Use list_files to see what is in the workspace, read the "
        "files that matter with read_file, and answer the goal with a concise, factual summary "
        "that names the files you used. If the goal asks you to save the summary, write it "
        "with write_file to summary.md. Never invent file contents."
    ),
    # Empty: the worker's configured route (TASKCRAFT_MODEL), or the offline model.
    model_route=[],
    tools=["list_files", "read_file", "write_file"],
    max_steps=10,
)

WEB_RESEARCHER = AgentSpec(
    name="web-researcher",
    description="Fetches pages over HTTP (allowed hosts only) and answers from them.",
    instructions=(
        "Answer the goal from the pages you fetch with http_get. Quote what you rely on and "
        "give the URL. Say so when a page could not be fetched."
    ),
    model_route=[],
    tools=["http_get", "read_file", "list_files"],
    max_steps=12,
)

BUILTIN_AGENTS: tuple[AgentSpec, ...] = (WORKSPACE_ANALYST, WEB_RESEARCHER)


def find_agent(name: str) -> AgentSpec:
    for agent in BUILTIN_AGENTS:
        if agent.name == name:
            return agent
    known = ", ".join(sorted(agent.name for agent in BUILTIN_AGENTS))
    raise UnknownAgentError(f"unknown agent {name!r}; known agents: {known}")
