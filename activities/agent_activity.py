"""Pinning an agent at task start: definition, tools and policy frozen into the task.

This is the INITIALIZING step. Everything the workflow later consults comes from its
result (recorded once in history), so a task keeps running under the definition and the
policy it started with, whatever is edited or redeployed meanwhile.

Pinning is also where the worker's configuration is checked for this agent's tools (each
tool's own ``check``: every problem, naming its variable, before any work starts), where
MCP tools are listed, where the inputs are checked again, and where approvers named by an
environment variable (``approval.approvers_env``) are read.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.log_context import activity_log_context
from activities.mcp import McpConnections
from activities.tools.mcp_tools import is_mcp_pattern, pin_mcp_tools
from activities.tools.registry import ToolRegistry
from taskcraft.agent_calls import agent_tool_spec
from taskcraft.agents import AgentSpec, PinnedAgent, ToolSpec
from taskcraft.blobs import BlobStore, canonical_json
from taskcraft.budgets import ModelPrice
from taskcraft.calls import PIN_ACTIVITY, PinAgentResult, ResolveAgentInput
from taskcraft.errors import (
    ConfigError,
    ErrorType,
    McpUnavailableError,
    PolicyFileError,
    TaskcraftError,
)
from taskcraft.inputs import validate_inputs
from taskcraft.model_ref import ModelRef
from taskcraft.policy import Policy
from taskcraft.policy.loader import load_named_policy


class AgentActivities:
    def __init__(
        self,
        *,
        agents: Mapping[str, AgentSpec],
        registry: ToolRegistry,
        blobs: BlobStore,
        policy_dirs: Sequence[Path],
        default_route: Sequence[ModelRef],
        prices: Mapping[str, ModelPrice] | None = None,
        env: Mapping[str, str] | None = None,
        model_queues: Mapping[str, str] | None = None,
        mcp: McpConnections | None = None,
        workspace: Path | None = None,
    ) -> None:
        self._agents = agents
        self._registry = registry
        self._blobs = blobs
        self._policy_dirs = list(policy_dirs)
        self._default_route = list(default_route)
        self._prices = dict(prices or {})
        self._env = env  # None: this process's environment, read when a task is pinned
        # Rate-limited providers' dedicated task queues, from this worker's configuration.
        self._model_queues = dict(model_queues or {})
        self._mcp = mcp
        self._workspace_root = str(workspace.resolve()) if workspace is not None else None

    @property
    def _environment(self) -> Mapping[str, str]:
        return os.environ if self._env is None else self._env

    async def _tool_specs(self, agent: str, patterns: Sequence[str]) -> list[ToolSpec]:
        """Each named tool's spec; MCP patterns become the server's matching tools now.

        A tool's own configuration check (``Tool.check``) runs here too, so a task whose
        tools cannot work on this worker fails before any work starts, naming the variable.
        """
        env = self._environment
        servers = self._mcp.servers if self._mcp is not None else ()
        specs: list[ToolSpec] = []
        problems: list[str] = []
        for pattern in patterns:
            if self._mcp is not None and is_mcp_pattern(pattern, servers):
                try:
                    specs += await pin_mcp_tools(pattern, self._mcp)
                except McpUnavailableError as error:
                    raise ApplicationError(str(error), type=ErrorType.TOOL_UNAVAILABLE) from None
                continue
            tool = self._registry.get(pattern)
            if tool is None:
                raise KeyError(pattern)
            if tool.check is not None:
                problems += await asyncio.to_thread(tool.check, env)
            specs.append(tool.spec_for(env))
        if problems:
            found = " ".join(dict.fromkeys(problems))
            raise ConfigError(f"agent {agent!r} cannot start on this worker: {found}")
        return specs

    def _agent_tools(self, spec: AgentSpec) -> list[ToolSpec]:
        """``call_agent_<name>`` for each agent ``spec`` may call (their inputs, pinned now)."""
        unknown = [name for name in spec.agents if name not in self._agents]
        if unknown:
            known = ", ".join(sorted(self._agents)) or "none"
            raise TaskcraftError(
                f"agent {spec.name!r} may call unknown agents {', '.join(unknown)} (known: {known})"
            )
        return [agent_tool_spec(self._agents[name]) for name in spec.agents]

    async def _policy(self, ref: str) -> Policy:
        """An ancestor's policy, as its own task pinned it (a child task's caps)."""
        return Policy.model_validate_json(await self._blobs.get(ref))

    def _approvers(self, spec: AgentSpec) -> AgentSpec:
        """``approval.approvers_env``: the worker's list, when set, replaces ``approvers``."""
        variable = spec.approval.approvers_env
        if not variable:
            return spec
        names = [name.strip() for name in self._environment.get(variable, "").split(",")]
        if not any(names):
            return spec
        approval = spec.approval.model_copy(update={"approvers": [n for n in names if n]})
        return spec.model_copy(update={"approval": approval})

    @activity.defn(name=PIN_ACTIVITY)
    async def pin(self, inp: ResolveAgentInput) -> PinAgentResult:
        with activity_log_context(agent=inp.agent) as log:
            spec = self._agents.get(inp.agent)
            if spec is None:
                known = ", ".join(sorted(self._agents)) or "none"
                raise _config_error(
                    f"unknown agent {inp.agent!r} (known: {known})", ErrorType.AGENT_UNKNOWN
                )
            try:
                route = (
                    [ModelRef(ref=ref) for ref in inp.model_route]
                    if inp.model_route
                    else spec.model_route or self._default_route
                )
                spec = spec.model_copy(
                    update={"model_route": route, "policy": inp.policy or spec.policy}
                )
                spec = self._approvers(spec)
                inputs = validate_inputs(spec.name, spec.inputs, inp.inputs)
                tools = await self._tool_specs(spec.name, spec.tools)
                tools += self._agent_tools(spec)
                policy = load_named_policy(spec.policy, self._policy_dirs)
                caps = [await self._policy(ref) for ref in inp.policy_caps]
            except KeyError as exc:
                raise _config_error(
                    f"agent {spec.name!r} names unknown tools: {exc.args[0]}"
                ) from exc
            except (PolicyFileError, TaskcraftError, ValueError) as exc:
                raise _config_error(str(exc)) from exc
            policy_ref = await self._blobs.put(canonical_json(policy.model_dump(mode="json")))
            tools_ref = await self._blobs.put(
                canonical_json([t.model_dump(mode="json") for t in tools])
            )
            offline = [ref.ref for ref in spec.model_route if ref.is_offline]
            log.info(
                "agent.pinned",
                route=[ref.ref for ref in spec.model_route],
                policy=policy.name,
                policy_hash=policy.content_hash(),
                offline_model=bool(offline),
            )
            refs = [*spec.model_route, *(r for step in spec.step_routes for r in step.route)]
            providers = {ref.provider for ref in refs}
            return PinAgentResult(
                pinned=PinnedAgent(
                    spec=spec,
                    tools=tools,
                    policy=policy,
                    policy_hash=policy.content_hash(),
                    prices={
                        ref.ref: self._prices[ref.ref] for ref in refs if ref.ref in self._prices
                    },
                    model_queues={
                        p: queue for p, queue in self._model_queues.items() if p in providers
                    },
                    workspace_root=self._workspace_root,
                    policy_caps=caps,
                ),
                tools_ref=tools_ref if tools else None,
                policy_ref=policy_ref,
                inputs=inputs,
            )


def _config_error(message: str, kind: ErrorType = ErrorType.CONFIG) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)
