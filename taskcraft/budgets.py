"""Per-task budgets and the running totals they are checked against.

Checked inside the workflow from recorded facts only (token counts the model activity
reported, workflow time), so the check is deterministic on replay.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from taskcraft.durations import Seconds
from taskcraft.messages import Usage


class OnExhausted(StrEnum):
    FAIL = "fail"
    ASK = "ask"  # hold at a budget gate; an approval grants one more allowance


class ModelPrice(BaseModel):
    """US dollars per million tokens."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)

    def cost(self, usage: Usage) -> float:
        return (
            usage.input_tokens * self.input_per_mtok + usage.output_tokens * self.output_per_mtok
        ) / 1_000_000


class Budgets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_steps: int | None = Field(default=None, ge=1)  # None: the agent's max_steps
    max_tool_calls: int | None = Field(default=None, ge=0)
    max_tool_calls_per_tool: dict[str, int] = Field(default_factory=dict)
    max_tokens: int | None = Field(default=None, ge=1)
    max_cost_usd: float | None = Field(default=None, gt=0)
    max_duration_s: Seconds | None = Field(default=None, gt=0)
    on_exhausted: OnExhausted = OnExhausted.FAIL


class BudgetUsage(BaseModel):
    steps: int = 0
    tool_calls: int = 0
    tool_calls_by_tool: dict[str, int] = Field(default_factory=dict)
    tokens: Usage = Field(default_factory=Usage)
    cost_usd: float = 0.0
    # Each approval at a budget gate raises the limits by one allowance.
    extensions: int = 0


def exhausted_budget(
    budgets: Budgets, usage: BudgetUsage, *, max_steps: int, elapsed_s: float
) -> str | None:
    """The first budget that is used up, as a sentence naming it; None while all have room.

    Checked before each model turn: a budget stops the task from starting more work,
    it never interrupts a step half-done.
    """
    grant = 1 + usage.extensions
    steps_cap = (budgets.max_steps or max_steps) * grant
    if usage.steps >= steps_cap:
        return f"budget max_steps exhausted: {usage.steps} of {steps_cap} steps used"
    if budgets.max_tool_calls is not None and usage.tool_calls >= budgets.max_tool_calls * grant:
        return (
            f"budget max_tool_calls exhausted: {usage.tool_calls} of "
            f"{budgets.max_tool_calls * grant} tool calls used"
        )
    if budgets.max_tokens is not None and usage.tokens.total_tokens >= budgets.max_tokens * grant:
        return (
            f"budget max_tokens exhausted: {usage.tokens.total_tokens} of "
            f"{budgets.max_tokens * grant} tokens used"
        )
    if budgets.max_cost_usd is not None and usage.cost_usd >= budgets.max_cost_usd * grant:
        return (
            f"budget max_cost_usd exhausted: ${usage.cost_usd:.4f} of "
            f"${budgets.max_cost_usd * grant:.4f} spent"
        )
    if budgets.max_duration_s is not None and elapsed_s >= budgets.max_duration_s * grant:
        return (
            f"budget max_duration_s exhausted: {elapsed_s:.0f}s of "
            f"{budgets.max_duration_s * grant:.0f}s elapsed"
        )
    return None


def tool_budget_refusal(budgets: Budgets, usage: BudgetUsage, tool: str) -> str | None:
    """Why one more call of ``tool`` would exceed its per-tool cap, or None."""
    cap = budgets.max_tool_calls_per_tool.get(tool)
    if cap is None:
        return None
    used = usage.tool_calls_by_tool.get(tool, 0)
    if used >= cap * (1 + usage.extensions):
        return f"budget max_tool_calls_per_tool[{tool}] exhausted: {used} of {cap} calls used"
    return None
