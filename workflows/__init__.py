"""Task workflows: deterministic code only (no I/O, clocks, randomness or threads)."""

from workflows.agent import AgentWorkflow
from workflows.task_base import TaskFailedError, TaskWorkflowBase

WORKFLOWS = (AgentWorkflow,)

__all__ = ["WORKFLOWS", "AgentWorkflow", "TaskFailedError", "TaskWorkflowBase"]
