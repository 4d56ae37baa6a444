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
from taskcraft.messages import Message, Role, ToolCall, Usage
from taskcraft.model_ref import ModelRef, ModelRetry
from taskcraft.status import TaskStatus
from taskcraft.task import StepRecord, TaskInput, TaskResult, TaskState, ToolCallRecord, ToolOutcome

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
    "Message",
    "ModelPrice",
    "ModelRef",
    "ModelRetry",
    "OnExhausted",
    "OperatorRequest",
    "PinnedAgent",
    "RecoverySettings",
    "Role",
    "StepRecord",
    "StepRoute",
    "TaskInput",
    "TaskResult",
    "TaskState",
    "TaskStatus",
    "TimeoutOutcome",
    "ToolCall",
    "ToolCallRecord",
    "ToolOutcome",
    "ToolRetry",
    "ToolSpec",
    "UpdateOutcome",
    "Usage",
]
