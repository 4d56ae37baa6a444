"""Taskcraft's neutral core: the task model, agents, approvals, budgets and policy.

Imports only the standard library and pydantic, so deterministic workflow code and
I/O-doing activity code can both use it.
"""

from taskcraft.agents import (
    AgentSpec,
    PinnedAgent,
    RecoverySettings,
    StepRoute,
    ToolRetry,
    ToolSpec,
)
from taskcraft.approvals import (
    ApprovalRequest,
    ApprovalSettings,
    Decision,
    DecisionKind,
    DecisionRecord,
    GateKind,
    TimeoutOutcome,
)
from taskcraft.budgets import Budgets, BudgetUsage, ModelPrice, OnExhausted
from taskcraft.controls import ControlAction, ControlRequest, OperatorRequest, UpdateOutcome
from taskcraft.inputs import InputSpec, InputType
from taskcraft.messages import Message, Role, ToolCall, Usage
from taskcraft.model_ref import ModelRef, ModelRetry
from taskcraft.status import TaskStatus
from taskcraft.task import StepRecord, TaskInput, TaskResult, TaskState, ToolCallRecord, ToolOutcome
from taskcraft.tools import (
    NotDelivered,
    SideEffects,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
    tool,
)

__all__ = [
    "AgentSpec",
    "ApprovalRequest",
    "ApprovalSettings",
    "BudgetUsage",
    "Budgets",
    "ControlAction",
    "ControlRequest",
    "Decision",
    "DecisionKind",
    "DecisionRecord",
    "GateKind",
    "InputSpec",
    "InputType",
    "Message",
    "ModelPrice",
    "ModelRef",
    "ModelRetry",
    "NotDelivered",
    "OnExhausted",
    "OperatorRequest",
    "PinnedAgent",
    "RecoverySettings",
    "Role",
    "SideEffects",
    "StepRecord",
    "StepRoute",
    "TaskInput",
    "TaskResult",
    "TaskState",
    "TaskStatus",
    "TimeoutOutcome",
    "Tool",
    "ToolCall",
    "ToolCallRecord",
    "ToolContext",
    "ToolError",
    "ToolOutcome",
    "ToolResult",
    "ToolRetry",
    "ToolSpec",
    "UpdateOutcome",
    "Usage",
    "tool",
]
