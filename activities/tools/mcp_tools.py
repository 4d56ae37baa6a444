"""MCP tools as Taskcraft tools: listed when a task starts, pinned, then called by name.

An agent names MCP tools as ``server.tool`` or with a glob (``issues.*``). When a task
is pinned, the worker lists those servers' tools and pins the matching ones as ordinary
``ToolSpec``s, so a server that later changes its list cannot change a running task,
and the policy, budgets, audit and gates see ``server.tool`` like any other name.

What a server says about a tool (MCP annotations) becomes what Taskcraft knows:
``readOnlyHint`` → no side effects; ``idempotentHint`` → retried freely; a tool that
declares itself not idempotent (or destructive) → at most once, with an operator gate
when its outcome is unknown. Unannotated tools are treated as idempotent.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from activities.mcp import McpConnections
from taskcraft.agents import ToolRetry, ToolSpec
from taskcraft.errors import ConfigError
from taskcraft.mcp import McpServerConfig, McpToolInfo, mcp_tool_name, split_mcp_tool_name
from taskcraft.tools import SideEffects

# Beyond the server's own call timeout: the first call of a worker may also connect.
ACTIVITY_GRACE_S = 5.0


def side_effects(info: McpToolInfo) -> SideEffects:
    hints = info.annotations
    if hints.get("readOnlyHint") is True:
        return SideEffects.NONE
    if hints.get("idempotentHint") is True:
        return SideEffects.IDEMPOTENT
    if "idempotentHint" in hints or hints.get("destructiveHint") is True:
        return SideEffects.AT_MOST_ONCE
    return SideEffects.IDEMPOTENT


def mcp_spec(config: McpServerConfig, info: McpToolInfo) -> ToolSpec:
    schema = dict(info.input_schema) or {"type": "object", "properties": {}}
    schema.setdefault("type", "object")
    effects = side_effects(info)
    return ToolSpec(
        name=mcp_tool_name(config.name, info.name),
        description=info.description or f"{info.name} (MCP server {config.name})",
        parameters=schema,
        timeout_s=config.connect_timeout_s + config.timeout_s + ACTIVITY_GRACE_S,
        retry=ToolRetry(),
        side_effects=effects.value,
        writes=effects is not SideEffects.NONE,
    )


def is_mcp_pattern(pattern: str, servers: Sequence[str]) -> bool:
    split = split_mcp_tool_name(pattern)
    return split is not None and split[0] in servers


async def pin_mcp_tools(pattern: str, mcp: McpConnections) -> list[ToolSpec]:
    """The server's tools matching ``server.tool`` (or a glob); a pattern matching none is
    an error naming what the server offers, so a typo fails at start, not silently."""
    split = split_mcp_tool_name(pattern)
    if split is None:
        raise ConfigError(f"{pattern!r} does not name an MCP tool as server.tool")
    server, _ = split
    config = mcp.config(server)
    infos = await mcp.list_tools(server)
    matched = [
        mcp_spec(config, info)
        for info in infos
        if fnmatch.fnmatchcase(mcp_tool_name(server, info.name), pattern)
    ]
    if not matched:
        offered = ", ".join(sorted(info.name for info in infos)) or "no tools"
        raise ConfigError(
            f"MCP server {server!r} has no tool matching {pattern!r} (it offers: {offered})"
        )
    return matched
