"""The running task: ``TaskRun`` owns a task's record; the modules beside it are its parts.

Workflows build on ``TaskWorkflow`` (the handlers) and work through ``self.task``.
"""

from workflows.task.handlers import TaskWorkflow
from workflows.task.run import TaskRun
from workflows.task.steps import PLANNED, Step
from workflows.task.tool_calls import ToolCallOutcome

__all__ = ["PLANNED", "Step", "TaskRun", "TaskWorkflow", "ToolCallOutcome"]
