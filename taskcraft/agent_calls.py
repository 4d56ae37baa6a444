"""Agents that call agents: the tool a model sees, what a child inherits, and its limits.

An agent file lists the agents it may call (``agents = ["researcher"]``). Each becomes a
tool ``call_agent_<name>`` (``-`` written ``_``) whose arguments are the called agent's
inputs plus ``goal``; a call runs the agent as a child task (a child workflow) and its
final answer is the observation. What a child inherits from its parent:

- ``ParentLink.budget``: what remained of the parent's budgets when the call started
  (tokens, cost, tool calls, a wall-clock deadline). The child stops, FAILED, when its
  own totals reach it; its totals are added to the parent's when it ends.
- ``ParentLink.policy_refs``: the parent's policy (and its parent's, ...). The child
  pins them beside its own and every call is judged by all of them: the strictest
  effect wins (deny over require_approval over allow), so a child is never allowed what
  an ancestor's policy denies.
- depth: a chain of calls goes at most ``max_agent_depth`` deep (the stricter of every
  ancestor's and the agent's own); a task starts at most ``max_child_tasks`` children.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from taskcraft.agents import AgentSpec, AgentTarget, PinnedAgent, ToolSpec
from taskcraft.budgets import Budgets, BudgetUsage
from taskcraft.inputs import InputSpec, InputType
from taskcraft.policy import Effect, Policy, PolicyContext, PolicyDecision, evaluate_tool_call

AGENT_TOOL_PREFIX = "call_agent_"
GOAL_ARGUMENT = "goal"
_JSON_TYPES = {
    InputType.INTEGER: "integer",
    InputType.NUMBER: "number",
    InputType.BOOLEAN: "boolean",
}
_STRICTNESS = {Effect.ALLOW: 0, Effect.REQUIRE_APPROVAL: 1, Effect.DENY: 2}


class BudgetCap(BaseModel):
    """What a child may spend at most: its parent's remaining budget when it started."""

    max_tokens: int | None = None
    max_cost_usd: float | None = None
    max_tool_calls: int | None = None
    deadline: datetime | None = None


class ParentLink(BaseModel):
    """In a child task's input: who called it, and what it inherits."""

    task_id: str
    agent: str
    step: int
    call_id: str
    depth: int = Field(default=1, ge=1)  # the child's depth: its parent's + 1
    max_depth: int = Field(default=1, ge=1)  # the deepest the chain may go
    budget: BudgetCap = Field(default_factory=BudgetCap)
    # The ancestors' policy references (nearest first): pinned by the child as caps.
    policy_refs: list[str] = Field(default_factory=list)


def agent_tool_name(agent: str) -> str:
    return AGENT_TOOL_PREFIX + agent.replace("-", "_")


def _input_schema(spec: InputSpec) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _JSON_TYPES.get(spec.type, "string")}
    description = spec.description or f"{spec.type.value} input"
    if spec.type not in _JSON_TYPES and spec.type is not InputType.STRING:
        description += f" ({spec.expects()})"
    schema["description"] = description
    if spec.enum:
        schema["enum"] = list(spec.enum)
    return schema


def agent_tool_spec(agent: AgentSpec) -> ToolSpec:
    """The tool a calling agent's model sees: the called agent's inputs plus ``goal``."""
    properties: dict[str, Any] = {
        GOAL_ARGUMENT: {"type": "string", "description": "what the agent should achieve"}
    }
    properties.update({spec.name: _input_schema(spec) for spec in agent.inputs})
    required = [GOAL_ARGUMENT, *(spec.name for spec in agent.inputs if spec.required)]
    what = agent.description or agent.instructions.strip().splitlines()[0][:200]
    return ToolSpec(
        name=agent_tool_name(agent.name),
        description=(
            f"Ask the agent {agent.name!r} to do a task and wait for its answer. {what}"
        ).strip(),
        parameters={
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
        # The child task has its own budgets, gates and timers; the call waits for it.
        timeout_s=365 * 24 * 3600.0,
        side_effects="idempotent",
        calls_agent=AgentTarget(agent=agent.name, workflow=agent.workflow, inputs=agent.inputs),
    )


def child_request(arguments: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """The child's goal and its inputs as text (``true``/``false``, numbers as written)."""
    goal = str(arguments.get(GOAL_ARGUMENT, "")).strip()
    inputs = {
        key: (str(value).lower() if isinstance(value, bool) else str(value))
        for key, value in arguments.items()
        if key != GOAL_ARGUMENT
    }
    return goal, inputs


def _least(*values: float | None) -> float | None:
    known = [value for value in values if value is not None]
    return min(known) if known else None


def remaining_budget(
    budgets: Budgets,
    usage: BudgetUsage,
    cap: BudgetCap | None,
    *,
    started: datetime,
) -> BudgetCap:
    """What is left of a task's budgets (its own, and any cap it inherited) right now."""
    grant = 1 + usage.extensions
    cap = cap or BudgetCap()
    tokens = usage.tokens.total_tokens
    own_tokens = budgets.max_tokens * grant - tokens if budgets.max_tokens else None
    own_cost = budgets.max_cost_usd * grant - usage.cost_usd if budgets.max_cost_usd else None
    own_calls = (
        budgets.max_tool_calls * grant - usage.tool_calls
        if budgets.max_tool_calls is not None
        else None
    )
    own_deadline = (
        started + timedelta(seconds=budgets.max_duration_s * grant)
        if budgets.max_duration_s
        else None
    )
    max_tokens = _least(own_tokens, None if cap.max_tokens is None else cap.max_tokens - tokens)
    max_cost = _least(
        own_cost, None if cap.max_cost_usd is None else cap.max_cost_usd - usage.cost_usd
    )
    max_calls = _least(
        own_calls, None if cap.max_tool_calls is None else cap.max_tool_calls - usage.tool_calls
    )
    deadlines = [moment for moment in (own_deadline, cap.deadline) if moment is not None]
    return BudgetCap(
        max_tokens=None if max_tokens is None else max(0, int(max_tokens)),
        max_cost_usd=None if max_cost is None else max(0.0, max_cost),
        max_tool_calls=None if max_calls is None else max(0, int(max_calls)),
        deadline=min(deadlines) if deadlines else None,
    )


def cap_exhausted(cap: BudgetCap, usage: BudgetUsage, now: datetime) -> str | None:
    """Which part of the parent's remaining budget this child has used up, or None."""
    tokens = usage.tokens.total_tokens
    if cap.max_tokens is not None and tokens >= cap.max_tokens:
        return f"the parent task's remaining budget is used up: {tokens} of {cap.max_tokens} tokens"
    if cap.max_cost_usd is not None and usage.cost_usd >= cap.max_cost_usd:
        return (
            f"the parent task's remaining budget is used up: ${usage.cost_usd:.4f} of "
            f"${cap.max_cost_usd:.4f}"
        )
    if cap.max_tool_calls is not None and usage.tool_calls >= cap.max_tool_calls:
        return (
            f"the parent task's remaining budget is used up: {usage.tool_calls} of "
            f"{cap.max_tool_calls} tool calls"
        )
    if cap.deadline is not None and now >= cap.deadline:
        return f"the parent task's time ran out at {cap.deadline.isoformat()}"
    return None


def add_child_usage(usage: BudgetUsage, child: BudgetUsage) -> None:
    """A child's spending counts as its parent's (tokens, cost and tool calls)."""
    usage.tokens = usage.tokens + child.tokens
    usage.cost_usd += child.cost_usd
    usage.tool_calls += child.tool_calls


def governed_decision(
    pinned: PinnedAgent, tool: str, arguments: Mapping[str, Any], context: PolicyContext
) -> PolicyDecision:
    """The task's pinned policy's decision, capped by its ancestors' (a child's) policies."""
    decision = evaluate_tool_call(pinned.policy, tool, arguments, context)
    if pinned.policy_caps:
        decision = strictest_decision(decision, pinned.policy_caps, tool, arguments, context)
    return decision


def strictest_decision(
    own: PolicyDecision,
    caps: Sequence[Policy],
    tool: str,
    arguments: Mapping[str, Any],
    context: PolicyContext,
) -> PolicyDecision:
    """The task's own decision, unless an ancestor's policy is stricter about this call.

    Deny beats require_approval beats allow; an ancestor's decision names its policy in
    the rule id (``parent-policy:rule``) and the reason.
    """
    chosen = own
    for policy in caps:
        decision = evaluate_tool_call(policy, tool, arguments, context)
        if _STRICTNESS[decision.effect] > _STRICTNESS[chosen.effect] or (
            decision.effect is chosen.effect
            and decision.effect is Effect.REQUIRE_APPROVAL
            and decision.approvers
            and not chosen.approvers
        ):
            reason = decision.reason or f"{decision.effect.value} by default"
            chosen = decision.model_copy(
                update={
                    "rule_id": f"{policy.name}:{decision.rule_id}",
                    "reason": f"the calling task's policy {policy.name!r}: {reason}",
                }
            )
    return chosen
