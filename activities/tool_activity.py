"""The tool activity: re-check the policy, validate, run one tool, and cut the output.

The re-check is defence in depth: the workflow already evaluated the same pinned policy,
but a workflow bug or a stale worker must still not be able to run a forbidden call.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import with_heartbeats
from activities.log_context import activity_log_context
from activities.mcp import McpConnections
from activities.tools.registry import ToolRegistry
from taskcraft.agent_calls import strictest_decision
from taskcraft.blobs import BlobStore
from taskcraft.calls import TOOL_ACTIVITY, ToolCallInput, ToolCallResult
from taskcraft.errors import ConfigError, ErrorType, McpUnavailableError
from taskcraft.mcp import split_mcp_tool_name
from taskcraft.policy import Effect, Policy, PolicyContext, PolicyDecision, evaluate_tool_call
from taskcraft.redact import redact
from taskcraft.tools import NotDelivered, ToolContext, ToolError

# How much of an MCP tool's text the model is shown (as for built-in tools).
MCP_OBSERVATION_CHARS = 16_000


class ToolActivities:
    def __init__(
        self,
        *,
        registry: ToolRegistry,
        blobs: BlobStore,
        workspace: Path,
        data_dir: Path,
        http: httpx.AsyncClient,
        env: Mapping[str, str],
        mcp: McpConnections | None = None,
    ) -> None:
        self._registry = registry
        self._blobs = blobs
        self._workspace = workspace
        self._data_dir = data_dir
        self._http = http
        self._env = dict(env)
        self._policies: dict[str, Policy] = {}
        self._workspace_root = str(workspace.resolve())
        self._mcp = mcp

    async def _policy(self, ref: str) -> Policy:
        if ref not in self._policies:
            self._policies[ref] = Policy.model_validate_json(await self._blobs.get(ref))
        return self._policies[ref]

    async def _recheck(self, inp: ToolCallInput) -> PolicyDecision:
        """The workflow's policy check again, here, on this worker's own workspace root."""
        policy = await self._policy(inp.policy_ref)
        context = (inp.policy_context or PolicyContext()).model_copy(
            update={"workspace_root": self._workspace_root}
        )
        decision = evaluate_tool_call(policy, inp.tool, inp.arguments, context)
        if inp.policy_cap_refs:  # a child task: its ancestors' policies judge the call too
            caps = [await self._policy(ref) for ref in inp.policy_cap_refs]
            decision = strictest_decision(decision, caps, inp.tool, inp.arguments, context)
        tool = self._registry.get(inp.tool)
        needs_approval = decision.effect is Effect.REQUIRE_APPROVAL or (
            tool is not None and tool.requires_approval
        )
        if decision.effect is Effect.DENY:
            refusal = f"policy rule {decision.rule_id} denies this call: {decision.reason}"
        elif needs_approval and not inp.approved_by:
            refusal = f"this call needs approval (rule {decision.rule_id}) and none was given"
        else:
            return decision
        _count(inp.tool, "refused")
        raise ApplicationError(refusal, type=ErrorType.TOOL_POLICY_DENIED, non_retryable=True)

    @activity.defn(name=TOOL_ACTIVITY)
    async def run(self, inp: ToolCallInput) -> ToolCallResult:
        with activity_log_context(tool=inp.tool, step=inp.step, call_id=inp.call_id) as log:
            log.info("tool.start", arguments=redact(inp.arguments))
            decision = await self._recheck(inp)
            tool = self._registry.get(inp.tool)
            mcp_tool = split_mcp_tool_name(inp.tool) if tool is None else None
            if mcp_tool is not None and self._mcp is not None and mcp_tool[0] in self._mcp.servers:
                return await self._call_mcp(inp, *mcp_tool, log=log)
            if tool is None:
                raise ApplicationError(
                    f"no tool named {inp.tool!r} on this worker",
                    type=ErrorType.TOOL_UNKNOWN,
                    non_retryable=True,
                )
            context = ToolContext(
                task_id=inp.task_id,
                step=inp.step,
                call_id=inp.call_id,
                idempotency_key=inp.idempotency_key,
                workspace=self._workspace,
                http=self._http,
                data_dir=self._data_dir,
                env=self._env,
                attempt=activity.info().attempt,
                heartbeat=activity.heartbeat,
                allowed_hosts=frozenset(decision.named_hosts),
            )
            try:
                result = await with_heartbeats(tool.execute(inp.arguments, context))
            except ValidationError as exc:
                _count(inp.tool, "invalid")
                return self._failed(f"invalid arguments: {_short(exc)}", tool.max_observation_chars)
            except NotDelivered as exc:
                _count(inp.tool, "not_delivered")
                log.info("tool.not_delivered", error=str(exc))
                raise ApplicationError(str(exc), type=ErrorType.TOOL_NOT_DELIVERED) from None
            except ToolError as exc:
                _count(inp.tool, "error")
                log.info("tool.refused", error=str(exc))
                return self._failed(str(exc), tool.max_observation_chars)
            _count(inp.tool, "ok")
            text = result.text
            log.info("tool.done", chars=len(text))
            return ToolCallResult(
                ok=True,
                content=_cut(text, tool.max_observation_chars),
                full_chars=len(text),
                data=result.data,
            )

    async def _call_mcp(
        self, inp: ToolCallInput, server: str, name: str, *, log: Any
    ) -> ToolCallResult:
        """An MCP tool: one call on the worker's live session with its server."""
        assert self._mcp is not None
        try:
            result = await with_heartbeats(self._mcp.call_tool(server, name, inp.arguments))
        except McpUnavailableError as exc:
            _count(inp.tool, "unavailable")
            log.info("tool.unavailable", error=str(exc))
            # Temporal retries; once retries run out the model hears the reason.
            raise ApplicationError(str(exc), type=ErrorType.TOOL_UNAVAILABLE) from None
        except ConfigError as exc:
            _count(inp.tool, "error")
            raise ApplicationError(str(exc), type=ErrorType.CONFIG, non_retryable=True) from None
        _count(inp.tool, "error" if result.is_error else "ok")
        log.info("tool.done", chars=len(result.text), mcp_error=result.is_error)
        return ToolCallResult(
            ok=not result.is_error,
            content=_cut(result.text, MCP_OBSERVATION_CHARS),
            full_chars=len(result.text),
            data=result.structured,
        )

    @staticmethod
    def _failed(message: str, limit: int) -> ToolCallResult:
        return ToolCallResult(ok=False, content=_cut(message, limit), full_chars=len(message))


def _count(tool: str, outcome: str) -> None:
    activity.metric_meter().create_counter(
        "taskcraft_tool_calls", "Tool calls by tool and outcome"
    ).add(1, {"tool": tool, "outcome": outcome})


def _short(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
        for err in exc.errors()[:5]
    )


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… [output truncated: {len(text) - limit} more characters]"
