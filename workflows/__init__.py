"""Task workflows: deterministic code only (no I/O, clocks, randomness or threads).

``TaskWorkflow`` and ``TaskRun`` are the public surface for workflows of your own.
"""

from taskcraft.errors import TaskFailedError
from workflows.agent import AgentWorkflow
from workflows.task import PLANNED, Step, TaskRun, TaskWorkflow, ToolCallOutcome

# The workflows every worker registers; agent folders' modules add their own.
WORKFLOWS = (AgentWorkflow,)

__all__ = [
    "PLANNED",
    "WORKFLOWS",
    "AgentWorkflow",
    "Step",
    "TaskFailedError",
    "TaskRun",
    "TaskWorkflow",
    "ToolCallOutcome",
]
